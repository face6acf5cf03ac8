"""The real Portkey gateway (the version package.json pins) against the Bedrock double, through the OpenAI SDK."""

import json
from urllib.parse import quote

import openai
import pytest

pytestmark = pytest.mark.e2e


def converse_path(model_id, op="converse"):
    return f"/model/{quote(model_id, safe='')}/{op}"


def test_chat_reaches_the_double_signed(openai_client, double, profile_id, bedrock_key):
    reply = openai_client().chat.completions.create(
        model=profile_id,
        messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello double"}],
        max_tokens=64,
    )
    assert reply.choices[0].message.content == f"Hello from {profile_id}: hello double"
    assert reply.choices[0].finish_reason == "stop"
    [seen] = double.requests()
    assert seen["path"] == converse_path(profile_id)
    assert seen["model_id"] == profile_id
    assert seen["operation"] == "Converse"
    assert seen["signature_valid"] is True
    assert seen["signed_host"] == "127.0.0.1"  # the gateway signs the host without the port
    assert seen["access_key_id"] == bedrock_key.access_key_id
    assert seen["region"] == "us-east-1"
    assert seen["body"]["system"] == [{"text": "be brief"}]
    assert seen["body"]["inferenceConfig"] == {"maxTokens": 64}
    assert bedrock_key.secret_access_key not in json.dumps(seen)


def test_streamed_chat_arrives_in_order(openai_client, double, profile_id):
    stream = openai_client().chat.completions.create(
        model=profile_id,
        messages=[{"role": "user", "content": "count one two three four five"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces, usage = [], None
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
        usage = chunk.usage or usage
    assert len(pieces) >= 3
    assert "".join(pieces) == f"Hello from {profile_id}: count one two three four five"
    assert usage is not None
    assert usage.completion_tokens == 9
    [seen] = double.requests()
    assert seen["path"] == converse_path(profile_id, "converse-stream")
    assert seen["signature_valid"] is True


def test_wrong_secret_is_403(openai_client, double, profile_id):
    with pytest.raises(openai.PermissionDeniedError) as info:
        openai_client(secret="not-the-right-secret").chat.completions.create(
            model=profile_id, messages=[{"role": "user", "content": "x"}]
        )
    assert info.value.status_code == 403
    assert "signature we calculated does not match" in str(info.value)
    [seen] = double.requests()
    assert (seen["status"], seen["error_type"], seen["signature_valid"]) == (403, "InvalidSignatureException", False)


def test_model_outside_the_policy_is_403(openai_client, double):
    from runtime.catalog.model import load_catalog

    catalog = load_catalog()
    other = catalog.offer_for(catalog.by_key["claude-haiku-4-5"], "us-east-1").invoke_id
    with pytest.raises(openai.PermissionDeniedError) as info:
        openai_client().chat.completions.create(model=other, messages=[{"role": "user", "content": "x"}])
    assert "is not authorized to perform: bedrock:InvokeModel" in str(info.value)


def test_gateway_retry_config_rides_out_two_throttles(openai_client, double, profile_id):
    double.add_fault(429, count=2)
    config = json.dumps({"retry": {"attempts": 3, "on_status_codes": [429]}})
    reply = openai_client().chat.completions.create(
        model=profile_id, messages=[{"role": "user", "content": "again"}], extra_headers={"x-portkey-config": config}
    )
    assert reply.choices[0].message.content.endswith(": again")
    assert [r["status"] for r in double.requests()] == [429, 429, 200]


def test_throttle_without_retry_surfaces_429(openai_client, double, profile_id):
    double.add_fault(429)
    with pytest.raises(openai.RateLimitError) as info:
        openai_client().chat.completions.create(model=profile_id, messages=[{"role": "user", "content": "x"}])
    assert "Too many requests" in str(info.value)


def test_cache_control_becomes_cache_point_and_cached_tokens_come_back(openai_client, double, profile_id):
    system = {"type": "text", "text": "a long shared system prompt " * 10, "cache_control": {"type": "ephemeral"}}
    messages = [{"role": "system", "content": [system]}, {"role": "user", "content": "question"}]
    client = openai_client()
    first = client.chat.completions.create(model=profile_id, messages=messages)
    second = client.chat.completions.create(model=profile_id, messages=messages)
    sent = double.requests()[0]["body"]
    assert sent["system"] == [{"text": system["text"]}, {"cachePoint": {"type": "default"}}]
    assert first.usage.prompt_tokens_details.cached_tokens == 0
    assert first.usage.model_extra["cache_creation_input_tokens"] == 50
    assert second.usage.prompt_tokens_details.cached_tokens == 50
    assert second.usage.model_extra["cache_read_input_tokens"] == 50
    assert second.usage.prompt_tokens == 51  # the gateway adds cached tokens to prompt_tokens


def test_back_to_back_requests_through_the_gateway_all_answer(openai_client, double, profile_id):
    # latency is measured by `make bench` (scripts/bench_load.py), never asserted in a test
    client = openai_client()
    replies = [
        client.chat.completions.create(model=profile_id, messages=[{"role": "user", "content": f"q{i}"}])
        for i in range(10)
    ]
    assert [r.choices[0].finish_reason for r in replies] == ["stop"] * 10
    assert len({r.id for r in replies}) == 10


def test_cli_up_status_down(monkeypatch, tmp_path, capsys):
    from local import gateway as launcher

    monkeypatch.setattr(launcher, "STATE_FILE", tmp_path / "gateway.json")
    assert launcher.main(["up", "--port", "0"]) == 0  # a free port: 8787 may be someone's gateway
    first = capsys.readouterr().out.strip()
    state = json.loads((tmp_path / "gateway.json").read_text())
    base_url = f"http://127.0.0.1:{state['port']}/v1"
    try:
        assert first.startswith(f"gateway: {base_url} (pid {state['pid']}, headless, loopback only;")
        assert launcher.main(["status"]) == 0
        assert capsys.readouterr().out.strip() == base_url
        assert launcher.main(["up"]) == 0  # already running: same URL, no second process
        assert capsys.readouterr().out.strip() == f"gateway: already running at {base_url} (pid {state['pid']})"
    finally:
        assert launcher.main(["down"]) == 0
    assert not launcher._is_our_gateway(state["pid"])
    assert not (tmp_path / "gateway.json").exists()
