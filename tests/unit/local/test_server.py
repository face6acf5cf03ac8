import http.client
import json

import pytest
from botocore.eventstream import EventStreamBuffer

from local.bedrock_double import DoubleClient, start_double
from runtime.errors import ConfigError

PROMPT = {"messages": [{"role": "user", "content": [{"text": "ping"}]}], "inferenceConfig": {"maxTokens": 50}}


def send(double, signer, path, body=PROMPT, **sign_kw):
    path, headers, raw = signer(path, body, port=double.port, **sign_kw)
    conn = http.client.HTTPConnection("127.0.0.1", double.port, timeout=10)
    conn.putrequest("POST", path, skip_host=True, skip_accept_encoding=True)
    for key, value in headers:
        conn.putheader(key, value)
    conn.putheader("content-length", str(len(raw)))
    conn.endheaders(raw)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


def test_converse_answers_like_bedrock(double, signer, path_for, profile_id):
    response, data = send(double, signer, path_for(profile_id))
    assert response.status == 200
    assert response.getheader("content-type") == "application/json"
    reply = json.loads(data)
    assert reply["output"]["message"] == {"role": "assistant", "content": [{"text": f"Hello from {profile_id}: ping"}]}
    assert reply["stopReason"] == "end_turn"
    assert reply["usage"] == {"inputTokens": 1, "outputTokens": 4, "totalTokens": 5}
    assert set(reply["metrics"]) == {"latencyMs"}


def test_converse_stream_is_valid_event_stream(double, signer, path_for, profile_id):
    response, data = send(double, signer, path_for(profile_id, "converse-stream"))
    assert response.status == 200
    assert response.getheader("content-type") == "application/vnd.amazon.eventstream"
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    events = [(m.headers[":event-type"], json.loads(m.payload)) for m in buffer]
    text = "".join(p["delta"]["text"] for t, p in events if t == "contentBlockDelta")
    assert text == f"Hello from {profile_id}: ping"
    assert events[0] == ("messageStart", {"role": "assistant"})
    assert events[-1][0] == "metadata"


def test_prompt_cache_write_then_read(double, signer, path_for, profile_id):
    body = {
        "system": [{"text": "a long shared system prompt"}, {"cachePoint": {"type": "default"}}],
        "messages": [{"role": "user", "content": [{"text": "q"}]}],
    }
    first = json.loads(send(double, signer, path_for(profile_id), body)[1])["usage"]
    second = json.loads(send(double, signer, path_for(profile_id), body)[1])["usage"]
    assert (first["cacheWriteInputTokens"], first["cacheReadInputTokens"]) == (5, 0)
    assert (second["cacheWriteInputTokens"], second["cacheReadInputTokens"]) == (0, 5)
    assert second["totalTokens"] == second["inputTokens"] + second["outputTokens"] + 5


def error_of(response, data):
    return response.status, response.getheader("x-amzn-ErrorType"), json.loads(data)["message"]


def test_wrong_secret_is_403_invalid_signature(double, signer, path_for, profile_id):
    status, error_type, _message = error_of(*send(double, signer, path_for(profile_id), secret="wrong"))
    assert (status, error_type) == (403, "InvalidSignatureException")
    [entry] = double.requests()
    assert entry["signature_valid"] is False
    assert entry["status"] == 403


def test_unknown_model_is_400(double, signer, path_for):
    status, error_type, message = error_of(*send(double, signer, path_for("us.anthropic.nope-v1:0")))
    assert (status, error_type, message) == (400, "ValidationException", "The provided model identifier is invalid.")


def test_denied_model_is_403_access_denied(double, signer, path_for, catalog):
    other = catalog.offer_for(catalog.by_key["claude-haiku-4-5"], "us-east-1").invoke_id
    status, error_type, message = error_of(*send(double, signer, path_for(other)))
    assert (status, error_type) == (403, "AccessDeniedException")
    assert "is not authorized to perform: bedrock:InvokeModel on resource: arn:aws:bedrock:us-east-1:" in message


@pytest.mark.parametrize(
    ("status", "error_type", "message"),
    [
        (429, "ThrottlingException", "Too many requests, please wait before trying again."),
        (500, "InternalServerException", None),
        (503, "ServiceUnavailableException", None),
    ],
)
def test_faults_fail_count_requests_then_recover(double, signer, path_for, profile_id, status, error_type, message):
    double.add_fault(status, count=2)
    results = [error_of(*send(double, signer, path_for(profile_id)))[:2] for _ in range(2)]
    assert results == [(status, error_type)] * 2
    response, _data = send(double, signer, path_for(profile_id))
    assert response.status == 200
    if message:
        double.add_fault(status)
        assert error_of(*send(double, signer, path_for(profile_id)))[2] == message


def test_fault_for_one_model_only(double, signer, path_for, profile_id, catalog):
    other = catalog.offer_for(catalog.by_key["claude-haiku-4-5"], "us-east-1").invoke_id
    double.add_fault(429, model=other, count=None)
    assert send(double, signer, path_for(profile_id))[0].status == 200


def test_latency_fault_delays_the_reply(double, signer, path_for, profile_id):
    double.add_fault(None, latency_ms=300)
    response, data = send(double, signer, path_for(profile_id))
    assert response.status == 200
    assert json.loads(data)["metrics"]["latencyMs"] >= 300  # the double's own measure, no wall clock here


def test_requests_are_recorded_without_secrets(double, signer, path_for, profile_id):
    send(double, signer, path_for(profile_id, "converse-stream"))
    [entry] = double.requests()
    assert entry["path"] == path_for(profile_id, "converse-stream")
    assert entry["model_id"] == profile_id
    assert entry["operation"] == "ConverseStream"
    assert entry["body"] == PROMPT
    assert entry["access_key_id"] == "AKIAUNITTESTKEY00001"
    assert entry["signature_valid"] is True
    assert entry["signed_host"] == "127.0.0.1"
    assert entry["status"] == 200
    assert "authorization" not in entry["headers"]
    assert entry["headers"]["host"] == f"127.0.0.1:{double.port}"
    assert "unit/test+secret" not in json.dumps(entry)


def test_control_api_over_http(double, signer, path_for, profile_id):
    client = DoubleClient(double.url)
    assert client.healthy()
    assert client.add_fault(429, count=1) == [
        {"model": None, "status": 429, "count": 1, "latency_ms": 0, "region": None}
    ]
    assert send(double, signer, path_for(profile_id))[0].status == 429
    assert send(double, signer, path_for(profile_id))[0].status == 200
    assert [r["status"] for r in client.requests()] == [429, 200]
    client.clear_requests()
    assert client.requests() == []
    client.add_fault(503, count=None)
    client.reset()
    assert send(double, signer, path_for(profile_id))[0].status == 200
    assert len(client.requests()) == 1


@pytest.mark.parametrize(
    "fault",
    [{"status": 418}, {"count": 0}, {"latency_ms": -1}, {"model": 3}, {"bogus": 1}, [1]],
)
def test_control_api_rejects_bad_faults(double, fault):
    conn = http.client.HTTPConnection("127.0.0.1", double.port, timeout=5)
    conn.request("POST", "/_double/faults", body=json.dumps(fault), headers={"content-type": "application/json"})
    response = conn.getresponse()
    body = json.loads(response.read())
    conn.close()
    assert response.status == 400
    assert body["message"]
    assert double.double.state.faults() == []


def test_unknown_route_is_404(double):
    conn = http.client.HTTPConnection("127.0.0.1", double.port, timeout=5)
    conn.request("POST", "/model/x/invoke", body=b"{}")
    response = conn.getresponse()
    response.read()
    assert response.status == 404
    assert response.getheader("x-amzn-ErrorType") == "UnknownOperationException"


def test_only_loopback_binds(key_store, policy_store):
    with pytest.raises(ConfigError):
        start_double("0.0.0.0", key_store=key_store, policy_store=policy_store)  # noqa: S104


def test_stop_frees_the_port(key_store, policy_store):
    server = start_double(key_store=key_store, policy_store=policy_store)
    port = server.port
    server.stop()
    again = start_double(port=port, key_store=key_store, policy_store=policy_store)
    assert again.port == port
    again.stop()


def test_moto_backed_double_verifies_real_moto_keys_and_policies(signer, path_for, profile_id, catalog):
    import boto3
    from moto import mock_aws

    from stacks.bedrock_policy import build_statements, policy_document

    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        iam.create_user(UserName="svc")
        key = iam.create_access_key(UserName="svc")["AccessKey"]
        policy = policy_document(build_statements(catalog, "us-east-1", "123456789012", ["claude-sonnet-4.5"]))
        arn = iam.create_policy(PolicyName="bedrock", PolicyDocument=json.dumps(policy))["Policy"]["Arn"]
        server = start_double()  # no stores: moto's IAM backend in this process
        try:
            creds = {"key_id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}
            # policy exists but is not attached yet: denied
            assert send(server, signer, path_for(profile_id), **creds)[0].status == 403
            iam.attach_user_policy(UserName="svc", PolicyArn=arn)
            response, data = send(server, signer, path_for(profile_id), **creds)
            assert response.status == 200
            assert json.loads(data)["output"]["message"]["content"][0]["text"].endswith(": ping")
            assert server.requests()[-1]["user_arn"] == "arn:aws:iam::123456789012:user/svc"
            iam.update_access_key(UserName="svc", AccessKeyId=key["AccessKeyId"], Status="Inactive")
            response, _ = send(server, signer, path_for(profile_id), **creds)
            assert (response.status, response.getheader("x-amzn-ErrorType")) == (403, "UnrecognizedClientException")
        finally:
            server.stop()


def control(double, method, path, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", double.port, timeout=10)
    raw = json.dumps(body).encode() if body is not None else b""
    conn.request(method, path, body=raw, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    data = json.loads(response.read())
    conn.close()
    return response.status, data


def test_profile_calls_are_routed_over_the_catalogs_destinations(double, signer, path_for, profile_id, catalog):
    routes = catalog.offer_for(catalog.model("claude-sonnet-4.5"), "us-east-1").routes["us-east-1"]
    for _ in routes:
        assert send(double, signer, path_for(profile_id))[0].status == 200
    assert sorted(r["destination_region"] for r in double.requests()) == sorted(routes)
    assert control(double, "POST", "/_double/routing", {"mode": "random", "seed": 3}) == (
        200,
        {"mode": "random", "seed": 3},
    )
    assert control(double, "POST", "/_double/routing", {"mode": "sticky"})[0] == 400


def test_unsubscribed_model_gets_403_marketplace_over_http(double, signer, path_for, profile_id, catalog):
    model_id = catalog.model("claude-sonnet-4.5").model_id
    assert control(double, "POST", "/_double/unsubscribed", {"model": model_id}) == (201, {"unsubscribed": [model_id]})
    status, error_type, message = error_of(*send(double, signer, path_for(profile_id)))
    assert (status, error_type) == (403, "AccessDeniedException") and "AWS Marketplace" in message
    assert control(double, "DELETE", "/_double/unsubscribed") == (200, {"unsubscribed": []})
    assert send(double, signer, path_for(profile_id))[0].status == 200


def test_end_of_life_model_is_404_over_http(double, signer, path_for, catalog):
    eol = next(m for m in catalog if m.is_eol())
    offer = next(o for o in eol.offers if "us-east-1" in o.routes)
    status, error_type, message = error_of(*send(double, signer, path_for(offer.invoke_id)))
    assert (status, error_type) == (404, "ResourceNotFoundException")
    assert message.startswith("This model version has reached the end of its life.")


def test_a_double_without_a_fixed_catalog_sees_an_overlay_written_after_it_started(tmp_path, monkeypatch):
    """The double in local AWS is started before any `catalog sync`: it reads the merged catalog."""
    import json

    from local.bedrock_double import DictKeyStore, DictPolicyStore
    from local.bedrock_double.server import Double
    from runtime.catalog.model import OVERLAY_ENV
    from runtime.catalog.overlay import empty_overlay

    overlay = tmp_path / "catalog.local.json"
    monkeypatch.setenv(OVERLAY_ENV, str(overlay))
    double = Double(DictKeyStore(), DictPolicyStore({}), None)
    assert double.catalog.lookup_id("us.anthropic.claude-haiku-5-5") is None
    data = empty_overlay()
    source = "bedrock:ListFoundationModels us-east-1 2026-12-04"
    model = {"name": "claude-haiku-5.5", "description": "Claude Haiku 5.5", "provider": "anthropic",
             "family": "claude-sonnet", "source": source}  # fmt: skip
    route = {"destinations": ["us-east-1"], "source": source}
    data["models"]["anthropic.claude-haiku-5-5"] = model
    data["profiles"]["us.anthropic.claude-haiku-5-5"] = {"model_id": "anthropic.claude-haiku-5-5", "scope": "us",
                                                          "routes": {"us-east-1": route}}  # fmt: skip
    overlay.write_text(json.dumps(data))
    found = double.catalog.lookup_id("us.anthropic.claude-haiku-5-5")
    assert found is not None and found[0].name == "claude-haiku-5.5"


# --- Host check, body cap, bounded log (issue 18, item 16) -------------------------------------


def raw_request(port, method, path, headers, body=b""):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for key, value in headers:
        conn.putheader(key, value)
    conn.endheaders(body or None)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


@pytest.mark.parametrize("host", ["evil.example:{port}", "evil.example", "127.0.0.1", "127.0.0.1:1", None])
def test_a_foreign_host_header_is_403_on_every_route(double, host):
    headers = [] if host is None else [("Host", host.format(port=double.port))]
    fault = json.dumps({"status": 500}).encode()
    assert raw_request(double.port, "GET", "/_double/health", headers)[0] == 403
    assert raw_request(double.port, "GET", "/_double/requests", headers)[0] == 403
    post = [*headers, ("Content-Length", str(len(fault)))]
    assert raw_request(double.port, "POST", "/_double/faults", post, fault)[0] == 403
    assert raw_request(double.port, "POST", "/model/x/converse", post, fault)[0] == 403
    assert double.double.state.faults() == [] and double.requests() == []


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "LOCALHOST"])
def test_the_loopback_host_with_the_port_is_served(double, name):
    status, data = raw_request(double.port, "GET", "/_double/health", [("Host", f"{name}:{double.port}")])
    assert (status, json.loads(data)) == (200, {"status": "ok"})


@pytest.mark.parametrize("length", ["abc", "-1", "1, 2", "\N{SUPERSCRIPT ONE}".encode().decode("latin-1")])
def test_a_bad_content_length_is_400_and_the_server_lives_on(double, length):
    host = ("Host", f"127.0.0.1:{double.port}")
    status, data = raw_request(double.port, "POST", "/_double/faults", [host, ("Content-Length", length)])
    assert status == 400 and b"Content-Length" in data
    assert raw_request(double.port, "GET", "/_double/health", [host])[0] == 200


def test_a_body_over_the_cap_is_413_without_being_read(key_store, policy_store):
    with start_double(key_store=key_store, policy_store=policy_store, max_body_bytes=100) as server:
        host = ("Host", f"127.0.0.1:{server.port}")
        # 50 MB announced, nothing sent: the answer comes from the header alone
        status, data = raw_request(server.port, "POST", "/model/x/converse", [host, ("Content-Length", "50000000")])
        assert status == 413 and b"over 100 bytes" in data
        body = json.dumps({"status": 500}).encode()
        length = ("Content-Length", str(len(body)))
        status, _ = raw_request(server.port, "POST", "/_double/faults", [host, length], body)
        assert status == 201  # under the cap: served


def test_the_recorded_requests_are_bounded(key_store, policy_store, signer, path_for, profile_id):
    with start_double(key_store=key_store, policy_store=policy_store, stream_delay_ms=0, max_recorded=3) as server:
        for _ in range(5):
            assert send(server, signer, path_for(profile_id))[0].status == 200
        assert [entry["id"] for entry in server.requests()] == [3, 4, 5]
