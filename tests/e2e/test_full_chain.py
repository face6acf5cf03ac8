"""The whole chain, for real: local AWS -> the stack deployed (the CLI's template, through the
CloudFormation API: the CLI paths are proved by tests/integration and the README flow) ->
`secrets pull` (SOPS, age) -> real Portkey gateway -> Bedrock double that checks the SigV4 signature
against the key in moto and the deployed policy. One deployment is shared by the module, on a local
AWS of its own (its rotation and `api_keys=short-term` stay out of the session's stack)."""

import os
import re
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import openai
import pytest

import runtime
from local.aws import LocalAws
from local.bedrock_double import DoubleClient
from local.gateway import Gateway
from runtime import constants
from runtime.cli.doctor import describe_http_error
from runtime.cli.secrets import main as secrets_main
from stacks.cdk_cli import Target
from stacks.deploy import deploy
from tests.support.deployers import seed_bootstrap, synth_deployer

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Chain:
    target: Target
    bedrock_url: str
    double: DoubleClient
    sops_file: Path
    outputs: dict[str, str]


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    state_dir = tmp_path_factory.mktemp("local-aws")
    aws = LocalAws(state_dir=state_dir)
    state = aws.start()
    saved = dict(os.environ)
    try:
        assert state.bedrock_url, "local AWS must host the Bedrock double"
        target = Target.for_endpoint(state.endpoint)
        seed_bootstrap(target)
        # api_keys=short-term: the one deploy also proves apiKey mode against the deployed policy;
        # SigV4 callers are unaffected by the extra statement
        context = {"api_keys": "short-term"}
        outputs = deploy(target, constants.DEFAULT_STACK_NAME, context, deployer=synth_deployer(), bootstrap=False)
        os.environ.update(state.env())
        keys = state_dir / "keys.txt"
        config = state_dir / ".sops.yaml"
        sops_file = state_dir / "secrets" / "env.json"
        assert secrets_main(["keygen", "--output", str(keys)]) == 0
        recipient = re.search(r"age1[0-9a-z]+", keys.read_text())
        assert recipient
        assert secrets_main(["init", "--config", str(config), "--age", recipient.group(0)]) == 0
        os.environ[constants.ENV_SOPS_AGE_KEY_FILE] = str(keys)
        pull = ["pull", "--stack", constants.DEFAULT_STACK_NAME, "--file", str(sops_file), "--config", str(config)]
        assert secrets_main(pull) == 0
        yield Chain(target, state.bedrock_url, DoubleClient(state.bedrock_url), sops_file, outputs)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        aws.stop()


@pytest.fixture
def creds(chain: Chain) -> runtime.Credentials:
    chain.double.reset()
    return runtime.Credentials.from_sops(str(chain.sops_file))


def client_for(gateway: Gateway, headers: dict[str, str]) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url, api_key="unused", default_headers=headers, max_retries=0)


def converse_path(model_id: str, stream: bool = False) -> str:
    return f"/model/{urllib.parse.quote(model_id, safe='')}/{'converse-stream' if stream else 'converse'}"


def test_pulled_key_is_the_deployed_active_key(chain: Chain, creds: runtime.Credentials):
    iam = boto3.client("iam", endpoint_url=chain.target.endpoint, region_name="us-east-1")
    keys = iam.list_access_keys(UserName=chain.outputs[constants.OUTPUT_USER_NAME])["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys if k["Status"] == "Active"] == [creds.access_key_id]
    assert creds.region == "us-east-1"


@pytest.mark.parametrize("name", runtime.load_catalog().names(include_eol=False, offered_from="us-east-1"))
def test_every_catalog_model_answers_through_the_gateway(chain, creds, gateway, name):
    headers = runtime.portkey_headers(name, creds, custom_host=chain.bedrock_url)
    body = runtime.chat_request(name, [{"role": "user", "content": "ping"}])
    reply = client_for(gateway, headers).chat.completions.create(**body)
    assert reply.choices[0].message.content == f"Hello from {body['model']}: ping"
    seen = chain.double.requests()
    assert [r["path"] for r in seen] == [converse_path(body["model"])]
    assert seen[0]["signature_valid"] is True
    assert seen[0]["access_key_id"] == creds.access_key_id
    assert seen[0]["status"] == 200


@pytest.mark.parametrize(
    ("name", "params", "sent"),
    [
        ("claude-opus-4.7", {"thinking": {"type": "disabled"}}, {"extra_body": {"thinking": {"type": "disabled"}}}),
        ("claude-haiku-4.5", {"temperature": 0.5, "top_p": 0.9}, {"temperature": 0.5, "top_p": 0.9}),
    ],
)
def test_the_double_refuses_through_the_gateway_what_chat_request_refuses(chain, creds, gateway, name, params, sent):
    """A request the runtime's chat_request refuses, sent past it to the real gateway: the double
    answers 400 with the same words (one checker, two adapters; this proves the Converse adapter
    reads what the gateway really sends)."""
    hi = [{"role": "user", "content": "ping"}]
    with pytest.raises(runtime.RejectedParameterError) as refused:
        runtime.chat_request(name, hi, **params)
    headers = runtime.portkey_headers(name, creds, custom_host=chain.bedrock_url)
    with pytest.raises(openai.BadRequestError) as answered:
        client_for(gateway, headers).chat.completions.create(**runtime.chat_request(name, hi), **sent)
    assert [r["status"] for r in chain.double.requests()] == [400]
    words = str(refused.value).split(" on Amazon Bedrock: ", 1)[1].rsplit(" (HTTP 400); ", 1)[0]
    assert words in str(answered.value)


def test_streaming_yields_the_text_in_order(chain, creds, gateway):
    headers = runtime.portkey_headers("claude-sonnet-4.5", creds, custom_host=chain.bedrock_url)
    body = runtime.chat_request("claude-sonnet-4.5", [{"role": "user", "content": "one two three four"}])
    pieces = [
        chunk.choices[0].delta.content or ""
        for chunk in client_for(gateway, headers).chat.completions.create(**body, stream=True)
        if chunk.choices
    ]
    assert len([p for p in pieces if p]) > 1
    assert "".join(pieces) == f"Hello from {body['model']}: one two three four"
    assert [r["path"] for r in chain.double.requests()] == [converse_path(body["model"], stream=True)]


def test_cache_control_arrives_as_cache_point_and_cached_tokens_come_back(chain, creds, gateway):
    headers = runtime.portkey_headers("claude-sonnet-4.5", creds, custom_host=chain.bedrock_url)
    long_context = "context " * 300
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": long_context, "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "question"},
            ],
        }
    ]
    client = client_for(gateway, headers)
    body = runtime.chat_request("claude-sonnet-4.5", messages)
    first = client.chat.completions.create(**body)
    second = client.chat.completions.create(**body)
    content = chain.double.requests()[0]["body"]["messages"][0]["content"]
    assert content[0] == {"text": long_context}
    assert content[1] == {"cachePoint": {"type": "default"}}
    assert content[2] == {"text": "question"}
    assert not (first.usage.prompt_tokens_details and first.usage.prompt_tokens_details.cached_tokens)
    assert second.usage.prompt_tokens_details.cached_tokens > 0


def test_fallback_moves_to_the_second_model_when_the_first_is_throttled(chain, creds, gateway):
    names = ["claude-large", "claude-sonnet-4.5"]
    config = runtime.portkey_config(names, creds, retry=None, custom_host=chain.bedrock_url)
    first, second = (t["override_params"]["model"] for t in config["targets"])
    chain.double.add_fault(status=429, model=first, count=1)
    client = openai.OpenAI(
        base_url=gateway.base_url, api_key="unused", default_headers=runtime.config_header(config), max_retries=0
    )
    reply = client.chat.completions.create(
        **runtime.chat_request("claude-sonnet-4.5", [{"role": "user", "content": "hi"}])
    )
    assert reply.choices[0].message.content == f"Hello from {second}: hi"
    seen = [(r["model_id"], r["status"]) for r in chain.double.requests()]
    assert seen == [(first, 429), (second, 200)]


def test_a_model_outside_the_deployed_policy_is_refused_with_a_clear_line(chain, creds, gateway):
    # the stack was deployed in us-east-1: an eu. profile is outside its policy
    headers = runtime.portkey_headers("claude-sonnet-4.5", creds, "eu-west-1", custom_host=chain.bedrock_url)
    body = runtime.chat_request("claude-sonnet-4.5", [{"role": "user", "content": "hi"}], region="eu-west-1")
    with pytest.raises(openai.PermissionDeniedError) as info:
        client_for(gateway, headers).chat.completions.create(**body)
    line = describe_http_error(403, info.value.response.content, "claude-sonnet-4.5")
    assert "claude-sonnet-4.5" in line
    assert "redeploy" in line and "re-pull" not in line
    assert "not authorized" in line
    assert chain.double.requests()[0]["signature_valid"] is True  # refused by policy, not by signature


def test_a_wrong_secret_is_refused(chain, creds, gateway):
    wrong = runtime.Credentials(creds.access_key_id, "x" * 40, region="us-east-1")
    headers = runtime.portkey_headers("claude-large", wrong, custom_host=chain.bedrock_url)
    with pytest.raises(openai.PermissionDeniedError):
        client_for(gateway, headers).chat.completions.create(
            **runtime.chat_request("claude-large", [{"role": "user", "content": "hi"}])
        )
    assert chain.double.requests()[0]["signature_valid"] is False


def _readme_snippets() -> list[str]:
    text = (REPO / "README.md").read_text().split("## Use it from your app", 1)[1]
    return re.findall(r"```python\n(.*?)```", text, re.S)


@pytest.mark.parametrize("index", [0, 1], ids=["openai-sdk", "portkey-ai-sdk"])
def test_readme_snippets_run_as_written(chain, creds, gateway, tmp_path, index):
    snippet = _readme_snippets()[index]
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "env.json").write_bytes(chain.sops_file.read_bytes())
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        constants.ENV_GATEWAY_URL: gateway.base_url,
        constants.ENV_CUSTOM_HOST: chain.bedrock_url,
    }
    done = subprocess.run(
        [sys.executable, "-c", snippet], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("Hello from ")
    assert creds.secret_access_key not in done.stdout + done.stderr
    assert len(chain.double.requests()) == 1


def test_doctor_live_passes_on_the_deployed_chain(chain, creds, gateway, capsys):
    from runtime.cli.doctor import main as doctor_main

    argv = ["--sops", str(chain.sops_file), "--gateway-url", gateway.base_url, "--custom-host", chain.bedrock_url]
    assert doctor_main([*argv, "--live"]) == 0
    out = capsys.readouterr().out
    assert f"accepted by STS as {chain.outputs[constants.OUTPUT_USER_ARN]}" in out
    # end-of-life models, and those with no offer from the region yet, are not called
    usable = runtime.load_catalog().names(include_eol=False, offered_from=creds.region)
    for name in usable:
        assert f"ok   {name} answered in" in out
    assert creds.secret_access_key not in out
    assert len(chain.double.requests()) == len(usable)


def test_doctor_live_in_api_key_mode_on_the_deployed_chain(chain, creds, gateway, capsys):
    """Short-term API keys minted from the pulled key, checked by the double against the key in moto
    and the deployed policy (bedrock:CallWithBearerToken for SHORT_TERM plus the invoke grants)."""
    from runtime.cli.doctor import main as doctor_main

    argv = ["--sops", str(chain.sops_file), "--gateway-url", gateway.base_url, "--custom-host", chain.bedrock_url]
    assert doctor_main([*argv, "--live", "--auth", "api-key"]) == 0
    out = capsys.readouterr().out
    usable = runtime.load_catalog().names(include_eol=False, offered_from=creds.region)
    for name in usable:
        assert f"ok   {name} answered in" in out
    seen = chain.double.requests()
    assert len(seen) == len(usable)
    for entry in seen:
        assert (entry["status"], entry["auth_scheme"], entry["secret_in_headers"]) == (200, "bearer", False)
        assert entry["access_key_id"] == creds.access_key_id
    assert creds.secret_access_key not in out


@pytest.mark.load
def test_rotation_under_load_fails_no_request_and_retires_the_old_key(chain, creds, gateway, record_property):
    """Requests keep flowing (each re-reading the SOPS file) while the two-phase rotation runs and
    `secrets pull` rewrites the file; the old key is deleted after a grace period. Runs last in this
    module: it changes the deployed key."""
    import threading

    from local.load import run_load
    from stacks.rotate import rotate

    old = creds
    sops_path = str(chain.sops_file)
    keys_used: set[str] = set()

    def make_request(index: int) -> tuple[dict[str, str], dict[str, object]]:
        current = runtime.Credentials.from_sops(sops_path)  # cached; re-read when the file changes
        keys_used.add(current.access_key_id)
        headers = runtime.portkey_headers("claude-sonnet-4.5", current, custom_host=chain.bedrock_url)
        return headers, runtime.chat_request("claude-sonnet-4.5", [{"role": "user", "content": f"r{index}"}])

    reports = []
    stop = threading.Event()

    def keep_loading() -> None:
        while not stop.is_set():
            reports.append(
                run_load(base_url=gateway.base_url, total=50, concurrency=5, make_request=make_request, deadline=60)
            )

    phases: list[str] = []
    loader = threading.Thread(target=keep_loading, daemon=True)
    loader.start()
    try:
        result = rotate(
            chain.target,
            grace_seconds=3.0,
            sops_files=[chain.sops_file],
            require_sops=True,
            deployer=synth_deployer(),
            on_event=lambda event: phases.append(event.phase),
            log=lambda line: None,
        )
    finally:
        stop.set()
        loader.join(timeout=120)
    sent = sum(r.count for r in reports)
    errors: dict[str, int] = {}
    for report in reports:
        for kind, count in report.errors.items():
            errors[kind] = errors.get(kind, 0) + count
    latencies = sorted(ms for r in reports for ms in r.latencies_ms)
    record_property(
        "rotation_under_load", {"requests": sent, "errors": errors, "p50_ms": latencies[len(latencies) // 2]}
    )
    print(f"rotation under load: {sent} requests, errors {errors}, phases {phases}")

    assert errors == {}
    assert sent >= 100
    assert result.new_serial == result.old_serial + 1
    new = runtime.Credentials.from_sops(sops_path)
    assert new.access_key_id != old.access_key_id
    assert keys_used == {old.access_key_id, new.access_key_id}  # traffic really moved to the new key
    # the rotated-away key is gone: a request signed with it is refused
    headers = runtime.portkey_headers("claude-large", old, custom_host=chain.bedrock_url)
    with pytest.raises(openai.PermissionDeniedError):
        client_for(gateway, headers).chat.completions.create(
            **runtime.chat_request("claude-large", [{"role": "user", "content": "hi"}])
        )
