"""The double's short-term Bedrock API key check: keys minted by AWS's token generator (through
runtime.bedrock_api_key) pass; expired, malformed, tampered, wrong-region, rotated-away and
not-permitted keys get Bedrock-like 403s."""

import base64
import http.client
import json
from datetime import UTC, datetime, timedelta

import pytest

from local.bedrock_double import DictPolicyStore, start_double
from local.bedrock_double.bearer import verify_bearer
from local.bedrock_double.errors import BedrockError
from runtime import Credentials
from runtime.credentials.api_key import clear_cache, mint_bedrock_api_key
from stacks.bedrock_policy import build_statements, policy_document

from .conftest import INACTIVE_KEY_ID, KEY_ID, MODEL, REGION, SECRET, model_path

PROMPT = {"messages": [{"role": "user", "content": [{"text": "ping"}]}], "inferenceConfig": {"maxTokens": 50}}


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_cache()


def mint(key_id=KEY_ID, secret=SECRET, region=REGION, ttl=900):
    return mint_bedrock_api_key(Credentials(key_id, secret), region, ttl)


def check(key_store, token, **kw):
    return verify_bearer(f"Bearer {token}", key_store=key_store, **kw)


def refused(key_store, token, **kw):
    with pytest.raises(BedrockError) as raised:
        check(key_store, token, **kw)
    return raised.value.status, raised.value.error_type, raised.value.message


def test_a_minted_key_verifies_against_the_secret_in_the_key_store(key_store):
    caller = check(key_store, mint())
    assert (caller.access_key_id, caller.region, caller.key.user_name) == (KEY_ID, REGION, "alice")


def test_an_expired_key_is_403_access_denied(key_store):
    later = datetime.now(UTC) + timedelta(seconds=901)
    assert refused(key_store, mint(ttl=900), now=later) == (403, "AccessDeniedException", "Bearer Token has expired")
    check(key_store, mint(ttl=900), now=later - timedelta(seconds=5))  # just before: still good


@pytest.mark.parametrize(
    "token",
    [
        "ABSKlong-term-looking-key",
        "bedrock-api-key-%%%notbase64",
        "bedrock-api-key-" + base64.b64encode(b"example.com/?Action=CallWithBearerToken&Version=1").decode(),
    ],
)
def test_a_malformed_key_is_403_unrecognized_client(key_store, token):
    assert refused(key_store, token)[:2] == (403, "UnrecognizedClientException")


def test_a_tampered_key_is_refused(key_store):
    url = base64.b64decode(mint()[len("bedrock-api-key-") :]).decode()
    tampered = url.replace("X-Amz-Expires=900", "X-Amz-Expires=43200")
    token = "bedrock-api-key-" + base64.b64encode(tampered.encode()).decode()
    assert refused(key_store, token)[:2] == (403, "UnrecognizedClientException")


def test_a_key_signed_with_another_secret_is_refused(key_store):
    assert refused(key_store, mint(secret="not-the-secret"))[:2] == (403, "UnrecognizedClientException")


def test_a_key_from_a_rotated_away_iam_key_is_refused(key_store):
    assert refused(key_store, mint(key_id=INACTIVE_KEY_ID))[:2] == (403, "UnrecognizedClientException")
    assert refused(key_store, mint(key_id="AKIADELETEDDELETED01"))[:2] == (403, "UnrecognizedClientException")


def test_a_key_for_another_region_is_refused(key_store):
    status, error_type, message = refused(key_store, mint(region="us-west-2"), endpoint="us-east-1")
    assert (status, error_type) == (403, "InvalidSignatureException")
    assert "us-west-2" in message and "us-east-1" in message
    check(key_store, mint(region="us-east-1"), endpoint="us-east-1")


def post(double, token, model_id):
    conn = http.client.HTTPConnection("127.0.0.1", double.port, timeout=10)
    raw = json.dumps(PROMPT).encode()
    conn.request(
        "POST",
        model_path(model_id),
        body=raw,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, response.getheader("x-amzn-ErrorType"), json.loads(data)


@pytest.fixture
def bearer_double(key_store, alice, catalog):
    statements = build_statements(catalog, REGION, alice.account, [MODEL], api_keys="short-term")
    server = start_double(
        key_store=key_store,
        policy_store=DictPolicyStore({alice.user_arn: [policy_document(statements)]}),
        stream_delay_ms=0,
    )
    yield server
    server.stop()


def test_server_answers_a_permitted_bearer_key(bearer_double, profile_id):
    status, _, reply = post(bearer_double, mint(), profile_id)
    assert status == 200
    assert reply["output"]["message"]["content"][0]["text"] == f"Hello from {profile_id}: ping"
    [entry] = bearer_double.requests()
    assert entry["auth_scheme"] == "bearer" and entry["secret_in_headers"] is False
    assert "authorization" not in entry["headers"]


def test_server_refuses_a_key_without_call_with_bearer_token(double, profile_id):
    # `double`: the policy has the model grants but not the short-term API key statement
    status, error_type, reply = post(double, mint(), profile_id)
    assert (status, error_type) == (403, "AccessDeniedException")
    assert "bedrock:CallWithBearerToken" in reply["message"]


def test_server_refuses_a_permitted_key_for_an_ungranted_model(bearer_double, catalog):
    other = catalog.offer_for(catalog.by_key["claude-opus-4-5"], REGION).invoke_id
    status, error_type, reply = post(bearer_double, mint(), other)
    assert (status, error_type) == (403, "AccessDeniedException")
    assert "bedrock:InvokeModel" in reply["message"]


def test_server_refuses_a_key_for_another_region_when_its_region_is_set(bearer_double, profile_id):
    bearer_double.double.region = "us-east-1"
    assert post(bearer_double, mint(region="eu-west-1"), profile_id)[:2] == (403, "InvalidSignatureException")


def test_a_key_minted_from_a_role_session_needs_a_live_session(key_store):
    from datetime import UTC, datetime

    role = "arn:aws:iam::123456789012:role/portkey-bedrock-invoke"
    expires = datetime.now(UTC) + timedelta(minutes=30)
    key_store.add_session("ASIAUNITTESTSESSION2", SECRET, "session-token-1", role, expires)
    token = mint_bedrock_api_key(Credentials("ASIAUNITTESTSESSION2", SECRET, "session-token-1"), REGION, 900)
    assert check(key_store, token).key.user_arn == role
    assert refused(key_store, token, now=expires + timedelta(seconds=1))[:2] == (403, "ExpiredTokenException")
    key_store.add_session("ASIAUNITTESTSESSION2", SECRET, "another-token", role, expires)
    assert refused(key_store, token)[:2] == (403, "UnrecognizedClientException")
