"""apiKey mode through the real Portkey gateway: the app sends a short-term Bedrock API key
(``x-portkey-aws-auth-type: apiKey`` + ``Authorization: Bearer``), never the secret; the double
verifies the key against the IAM key it was minted from and the policy the stack deploys with
``api_keys=short-term`` (same builder), or with the option off (the session double)."""

from __future__ import annotations

import secrets
from datetime import timedelta

import httpx
import pytest

import runtime
from local.bedrock_double import DictKeyStore, DictPolicyStore, start_double
from runtime import Credentials, chat_request, portkey_headers
from runtime.catalog.admission import admit
from runtime.catalog.model import load_catalog
from runtime.cli.doctor import check_live, describe_http_error
from runtime.credentials.api_key import clear_cache, mint_bedrock_api_key
from stacks.bedrock_policy import build_statements, policy_document

from .conftest import E2E_MODEL, E2E_REGION

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def api_key_stack():
    """A key whose user holds the stack's policy with api_keys=short-term for every model granted
    from E2E_REGION (what `cdk deploy -c api_keys=short-term` attaches)."""
    catalog = load_catalog()
    keys = DictKeyStore()
    key_id, secret = "AKIA" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30)
    record = keys.add(key_id, secret, "e2e-api-keys")
    statements = build_statements(catalog, E2E_REGION, record.account, None, api_keys="short-term")
    server = start_double(
        key_store=keys, policy_store=DictPolicyStore({record.user_arn: [policy_document(statements)]})
    )
    server.double.region = E2E_REGION  # the double stands for bedrock-runtime.us-east-1
    creds = Credentials(key_id, secret, region=E2E_REGION)
    names = list(admit(None, [E2E_REGION], catalog=catalog).names)
    yield server, keys, creds, names
    server.stop()


@pytest.fixture(autouse=True)
def _fresh_keys():
    clear_cache()


def chat(gateway, name, creds, double_url, **header_kw):
    headers = portkey_headers(name, creds, auth="api-key", custom_host=double_url, **header_kw)
    body = chat_request(name, [{"role": "user", "content": "ping"}], region=E2E_REGION, max_tokens=16)
    return httpx.post(f"{gateway.base_url}/chat/completions", headers=headers, json=body, timeout=30)


def test_every_catalog_model_answers_in_api_key_mode_without_the_secret(gateway, api_key_stack):
    server, _keys, creds, names = api_key_stack
    server.reset()
    assert len(names) >= 3
    for name in names:
        reply = chat(gateway, name, creds, server.url)
        assert reply.status_code == 200, (name, reply.text)
        assert reply.json()["choices"][0]["message"]["content"].startswith("Hello from ")
    seen = server.requests()
    assert len(seen) == len(names)
    for entry in seen:
        assert entry["auth_scheme"] == "bearer"  # no SigV4 Authorization reached Bedrock
        assert entry["secret_in_headers"] is False  # and the AWS secret was in no header
        assert entry["access_key_id"] == creds.access_key_id
        assert not any(creds.secret_access_key in value for value in entry["headers"].values())


def test_openai_sdk_with_the_key_as_api_key(gateway, api_key_stack):
    from openai import OpenAI

    server, _keys, creds, _names = api_key_stack
    headers = portkey_headers(E2E_MODEL, creds, auth="api-key", custom_host=server.url)
    key = headers.pop("authorization").removeprefix("Bearer ")
    client = OpenAI(base_url=gateway.base_url, api_key=key, default_headers=headers, max_retries=0, timeout=30)
    reply = client.chat.completions.create(**chat_request(E2E_MODEL, [{"role": "user", "content": "hi"}]))
    assert reply.choices[0].message.content.startswith("Hello from ")


def test_an_expired_key_is_403_with_a_one_line_fix(gateway, api_key_stack):
    server, _keys, creds, _names = api_key_stack
    old_key = mint_bedrock_api_key(creds, E2E_REGION, 60)  # a key an app kept past its lifetime
    headers = portkey_headers(E2E_MODEL, creds, auth="api-key", custom_host=server.url)
    headers["authorization"] = f"Bearer {old_key}"
    body = chat_request(E2E_MODEL, [{"role": "user", "content": "ping"}], region=E2E_REGION)

    def send_at(offset: timedelta) -> httpx.Response:
        server.double.clock_offset = offset  # the double's "now", not a sleep
        try:
            return httpx.post(f"{gateway.base_url}/chat/completions", headers=headers, json=body, timeout=30)
        finally:
            server.double.clock_offset = timedelta(0)

    assert send_at(timedelta(seconds=50)).status_code == 200  # within its lifetime
    reply = send_at(timedelta(seconds=61))
    assert reply.status_code == 403
    line = describe_http_error(reply.status_code, reply.content, E2E_MODEL)
    assert "\n" not in line and "expired" in line and "runtime.bedrock_api_key" in line
    assert old_key not in line


def test_a_key_minted_from_a_rotated_away_iam_key_is_403(gateway, api_key_stack):
    server, keys, _creds, _names = api_key_stack
    rotated = Credentials("AKIA" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30), region=E2E_REGION)
    keys.add(rotated.access_key_id, rotated.secret_access_key, "e2e-api-keys")
    assert chat(gateway, E2E_MODEL, rotated, server.url).status_code == 200
    keys.add(rotated.access_key_id, rotated.secret_access_key, "e2e-api-keys", active=False)  # rotated away
    reply = chat(gateway, E2E_MODEL, rotated, server.url)  # the cached key, still within its lifetime
    assert reply.status_code == 403
    line = describe_http_error(reply.status_code, reply.content, E2E_MODEL)
    assert "rotated away" in line and "secrets pull" in line


def test_with_the_stack_option_off_the_key_is_403_naming_the_option(gateway, double, bedrock_key):
    creds = Credentials(bedrock_key.access_key_id, bedrock_key.secret_access_key, region=E2E_REGION)
    reply = chat(gateway, E2E_MODEL, creds, double.url)
    assert reply.status_code == 403
    line = describe_http_error(reply.status_code, reply.content, E2E_MODEL)
    assert "api_keys=short-term" in line and "\n" not in line


def test_doctor_live_check_in_api_key_mode(gateway, api_key_stack, double, bedrock_key):
    server, _keys, creds, _names = api_key_stack
    ok = check_live(E2E_MODEL, creds, E2E_REGION, gateway.base_url, server.url, auth="api-key")
    assert ok.ok, ok.line
    off = Credentials(bedrock_key.access_key_id, bedrock_key.secret_access_key, region=E2E_REGION)
    refused = check_live(E2E_MODEL, off, E2E_REGION, gateway.base_url, double.url, auth="api-key")
    assert not refused.ok and "api_keys=short-term" in refused.line


def test_portkey_sdk_with_sdk_options_in_api_key_mode(gateway, api_key_stack):
    from portkey_ai import Portkey

    server, _keys, creds, _names = api_key_stack
    server.reset()
    options = runtime.portkey_sdk_options(E2E_MODEL, creds, auth="api-key", custom_host=server.url)
    portkey = Portkey(base_url=gateway.base_url, api_key="unused", **options)
    reply = portkey.chat.completions.create(**chat_request(E2E_MODEL, [{"role": "user", "content": "hi"}]))
    assert reply.choices[0].message.content.startswith("Hello from ")
    [entry] = server.requests()
    assert entry["auth_scheme"] == "bearer" and entry["secret_in_headers"] is False


def test_openai_sdk_with_the_api_key_http_client(gateway, api_key_stack):
    from openai import OpenAI

    server, _keys, creds, _names = api_key_stack
    server.reset()
    http_client = runtime.gateway_http_client(lambda: creds, auth="api-key", custom_host=server.url)
    client = OpenAI(base_url=gateway.base_url, api_key="replaced-per-request", http_client=http_client, max_retries=0)
    reply = client.chat.completions.create(**chat_request(E2E_MODEL, [{"role": "user", "content": "hi"}]))
    assert reply.choices[0].message.content.startswith("Hello from ")
    [entry] = server.requests()
    assert entry["auth_scheme"] == "bearer" and entry["secret_in_headers"] is False
