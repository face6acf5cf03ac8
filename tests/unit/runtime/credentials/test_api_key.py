"""runtime.bedrock_api_key: short-term keys minted with aws-bedrock-token-generator, cached, never the secret."""

import base64
import json
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

import runtime
from runtime.cli import redact_headers
from runtime.credentials import api_key as bak
from runtime.errors import ConfigError
from runtime.gateway.client import FreshHeaders, gateway_http_client
from runtime.gateway.headers import portkey_config, portkey_headers, portkey_sdk_options
from runtime.redact import redact

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
CREDS = runtime.Credentials("AKIAIOSFODNN7EXAMPLE", SECRET, region="us-east-1")


@pytest.fixture(autouse=True)
def empty_cache():
    bak.clear_cache()
    yield
    bak.clear_cache()


@pytest.fixture
def mint_counter(monkeypatch):
    calls = []
    real = bak.mint_bedrock_api_key

    def counting(credentials, region, ttl_seconds):
        calls.append((credentials.access_key_id, region, ttl_seconds))
        return real(credentials, region, ttl_seconds)

    monkeypatch.setattr(bak, "mint_bedrock_api_key", counting)
    return calls


def presigned_query(key: str) -> dict[str, str]:
    assert key.startswith("bedrock-api-key-")
    url = base64.b64decode(key[len("bedrock-api-key-") :]).decode()
    assert url.startswith("bedrock.amazonaws.com/?")
    assert url.endswith("&Version=1")
    return {name: values[0] for name, values in parse_qs(urlsplit("https://" + url).query).items()}


def test_key_is_a_presigned_call_with_bearer_token_for_region_and_lifetime():
    key = runtime.bedrock_api_key(CREDS, "eu-west-1", ttl_seconds=900)
    query = presigned_query(key)
    assert query["Action"] == "CallWithBearerToken"
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    key_id, _date, region, service, terminal = query["X-Amz-Credential"].split("/")
    assert (key_id, region, service, terminal) == ("AKIAIOSFODNN7EXAMPLE", "eu-west-1", "bedrock", "aws4_request")
    assert query["X-Amz-Expires"] == "900"
    assert len(query["X-Amz-Signature"]) == 64
    assert SECRET not in base64.b64decode(key[len("bedrock-api-key-") :]).decode()


def test_region_defaults_to_the_credentials_region():
    query = presigned_query(
        runtime.bedrock_api_key(runtime.Credentials("AKIAIOSFODNN7EXAMPLE", SECRET, region="ap-south-1"))
    )
    assert query["X-Amz-Credential"].split("/")[2] == "ap-south-1"
    assert query["X-Amz-Expires"] == "3600"  # the default lifetime: one hour


def test_session_token_travels_in_the_presign():
    temporary = runtime.Credentials(
        "ASIAIOSFODNN7EXAMPLE", SECRET, session_token="FwoGZXIvYXdzEXAMPLE", region="us-east-1"
    )
    assert presigned_query(runtime.bedrock_api_key(temporary))["X-Amz-Security-Token"] == "FwoGZXIvYXdzEXAMPLE"


def test_cache_hit_reuses_the_key(mint_counter):
    first = runtime.bedrock_api_key(CREDS)
    assert runtime.bedrock_api_key(CREDS) == first
    assert len(mint_counter) == 1


def test_cache_misses_on_region_secret_and_lifetime(mint_counter):
    runtime.bedrock_api_key(CREDS)
    runtime.bedrock_api_key(CREDS, "us-west-2")
    runtime.bedrock_api_key(runtime.Credentials(CREDS.access_key_id, "another-secret", region="us-east-1"))
    runtime.bedrock_api_key(CREDS, ttl_seconds=600)
    assert len(mint_counter) == 4


def test_cache_renews_a_margin_before_expiry(mint_counter, monkeypatch):
    clock = [1_000_000.0]
    monkeypatch.setattr(bak.time, "time", lambda: clock[0])
    first, expires = bak.bedrock_api_key_with_expiry(CREDS, ttl_seconds=3600)
    assert expires == 1_000_000.0 + 3600
    clock[0] += 3600 - 301  # still outside the 300 s margin: cached
    assert runtime.bedrock_api_key(CREDS, ttl_seconds=3600) == first
    assert len(mint_counter) == 1
    clock[0] += 2  # inside the margin: a new key
    runtime.bedrock_api_key(CREDS, ttl_seconds=3600)
    assert len(mint_counter) == 2


def test_rotated_credentials_get_a_key_of_their_own():
    rotated = runtime.Credentials("AKIAROTATEDROTATED01", "rotated-secret", region="us-east-1")
    old, new = runtime.bedrock_api_key(CREDS), runtime.bedrock_api_key(rotated)
    assert presigned_query(new)["X-Amz-Credential"].startswith("AKIAROTATEDROTATED01/")
    assert old != new


@pytest.mark.parametrize("ttl", [0, -1, 43201, 1.5, True])
def test_lifetime_outside_bedrock_limits_is_one_line(ttl):
    with pytest.raises(ConfigError, match=r"1 to 43200 seconds.*pass ttl_seconds"):
        runtime.bedrock_api_key(CREDS, ttl_seconds=ttl)


def test_headers_in_api_key_mode_carry_no_aws_secret():
    headers = portkey_headers("claude-sonnet-4.5", CREDS, auth="api-key")
    assert headers["x-portkey-aws-auth-type"] == "apiKey"
    assert headers["authorization"].startswith("Bearer bedrock-api-key-")
    assert headers["x-portkey-aws-region"] == "us-east-1"
    assert "x-portkey-aws-secret-access-key" not in headers
    assert "x-portkey-aws-access-key-id" not in headers
    assert SECRET not in json.dumps(headers)


def test_sigv4_mode_is_unchanged():
    headers = portkey_headers("claude-sonnet-4.5", CREDS)
    assert headers["x-portkey-aws-secret-access-key"] == SECRET
    assert "authorization" not in headers and "x-portkey-aws-auth-type" not in headers


def test_unknown_auth_mode_is_refused():
    with pytest.raises(ConfigError, match="unknown auth mode 'bearer'; use one of sigv4, api-key"):
        portkey_headers("claude-sonnet-4.5", CREDS, auth="bearer")


def test_config_targets_in_api_key_mode_carry_no_aws_secret():
    config = portkey_config(["claude-large", "claude-sonnet-4.5"], CREDS, auth="api-key")
    for target in config["targets"]:
        assert target["aws_auth_type"] == "apiKey"
        assert target["api_key"].startswith("bedrock-api-key-")
        assert not {"aws_access_key_id", "aws_secret_access_key", "aws_session_token"} & set(target)
    assert SECRET not in json.dumps(config)


def test_sdk_options_in_api_key_mode():
    options = portkey_sdk_options("claude-large", CREDS, auth="api-key")
    assert sorted(options) == ["Authorization", "aws_auth_type", "aws_region", "provider"]
    assert options["Authorization"].startswith("Bearer bedrock-api-key-")


def test_key_is_redacted_in_displays():
    headers = portkey_headers("claude-sonnet-4.5", CREDS, auth="api-key")
    key = headers["authorization"].removeprefix("Bearer ")
    assert redact_headers(headers)["authorization"] == "<redacted>"
    assert key not in redact(f"gateway said: {headers}")
    hook = FreshHeaders(lambda: CREDS, auth="api-key")
    assert key not in repr(hook) and SECRET not in repr(hook)


def test_http_client_replaces_the_sdk_bearer_with_the_short_term_key():
    seen = []

    def gateway(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.headers))
        return httpx.Response(200, json={})

    client = gateway_http_client(lambda: CREDS, auth="api-key", transport=httpx.MockTransport(gateway))
    client.post("http://gw/v1/chat/completions", headers={"Authorization": "Bearer unused"}, json={})
    assert seen[0]["authorization"].startswith("Bearer bedrock-api-key-")
    assert seen[0]["x-portkey-aws-auth-type"] == "apiKey"
    assert SECRET not in json.dumps(seen[0])


def test_decode_refuses_a_non_key_without_echoing_it():
    with pytest.raises(ConfigError) as raised:
        bak.decode_api_key("ABSKsomething-secret")
    assert "something-secret" not in str(raised.value)


def test_import_runtime_does_not_load_the_token_generator():
    probe = (
        "import sys, runtime; runtime.bedrock_api_key; "
        "print('botocore' in sys.modules, 'aws_bedrock_token_generator' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_config_chain_over_source_regions_carries_a_key_per_region():
    config = portkey_config(["claude-sonnet-4.6"], CREDS, regions=["us-east-1", "us-west-2"], auth="api-key")
    regions = {
        t["aws_region"]: presigned_query(t["api_key"])["X-Amz-Credential"].split("/")[2] for t in config["targets"]
    }
    assert regions == {"us-east-1": "us-east-1", "us-west-2": "us-west-2"}
    assert SECRET not in json.dumps(config)
