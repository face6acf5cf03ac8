from datetime import UTC, datetime, timedelta

import pytest

from local.bedrock_double.errors import BedrockError
from local.bedrock_double.sigv4 import host_candidates, verify

BODY = {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}
KEY_ID = "AKIAUNITTESTKEY00001"


@pytest.fixture
def request_parts(signer, path_for, profile_id):
    return signer(path_for(profile_id), BODY)


def run(key_store, path, headers, body, now=None):
    return verify(method="POST", path=path, headers=headers, body=body, key_store=key_store, now=now)


def replace_header(headers, name, value):
    return [(k, value if k == name else v) for k, v in headers]


def test_good_signature_passes_with_portless_host(key_store, request_parts):
    path, headers, body = request_parts
    assert "%3A" in path  # the id's colon travels URL-encoded, and is signed double-encoded
    caller = run(key_store, path, headers, body)
    assert caller.access_key_id == KEY_ID
    assert caller.key.user_name == "alice"
    assert caller.region == "us-east-1"
    assert caller.signed_host == "127.0.0.1"  # signed without the port, sent with it


def test_signature_over_host_with_port_also_passes(key_store, signer, path_for, profile_id):
    # botocore clients with an endpoint_url sign host:port; accept that form too.
    path, headers, body = signer(path_for(profile_id), BODY, host="127.0.0.1:8080")
    headers = [(k, v) for k, v in headers if k != "host"] + [("host", "127.0.0.1:8080")]
    assert run(key_store, path, headers, body).signed_host == "127.0.0.1:8080"


def expect(error_type, call):
    with pytest.raises(BedrockError) as info:
        call()
    assert info.value.status == 403
    assert info.value.error_type == error_type
    return info.value


def test_wrong_secret_fails(key_store, signer, path_for, profile_id):
    path, headers, body = signer(path_for(profile_id), BODY, secret="not-the-secret")
    error = expect("InvalidSignatureException", lambda: run(key_store, path, headers, body))
    assert "signature we calculated does not match" in error.message
    assert "not-the-secret" not in error.message


def test_unknown_key_fails(key_store, signer, path_for, profile_id):
    path, headers, body = signer(path_for(profile_id), BODY, key_id="AKIAUNKNOWNKEY000000")
    error = expect("UnrecognizedClientException", lambda: run(key_store, path, headers, body))
    assert error.message == "The security token included in the request is invalid."


def test_inactive_key_fails(key_store, signer, path_for, profile_id):
    path, headers, body = signer(path_for(profile_id), BODY, key_id="AKIAUNITTESTKEY00002")
    expect("UnrecognizedClientException", lambda: run(key_store, path, headers, body))


@pytest.mark.parametrize("minutes", [6, -6])
def test_skewed_date_fails(key_store, request_parts, minutes):
    path, headers, body = request_parts
    now = datetime.now(UTC) + timedelta(minutes=minutes)
    error = expect("InvalidSignatureException", lambda: run(key_store, path, headers, body, now=now))
    assert error.message.startswith("Signature expired" if minutes > 0 else "Signature not yet current")


def test_small_skew_passes(key_store, request_parts):
    path, headers, body = request_parts
    assert run(key_store, path, headers, body, now=datetime.now(UTC) + timedelta(minutes=4)).access_key_id == KEY_ID


def test_tampered_body_fails(key_store, request_parts):
    path, headers, body = request_parts
    tampered = body.replace(b"hi", b"ho")
    expect("InvalidSignatureException", lambda: run(key_store, path, headers, tampered))


def test_tampered_body_with_matching_hash_header_fails(key_store, request_parts):
    import hashlib

    path, headers, body = request_parts
    tampered = body.replace(b"hi", b"ho")
    headers = replace_header(headers, "x-amz-content-sha256", hashlib.sha256(tampered).hexdigest())
    expect("InvalidSignatureException", lambda: run(key_store, path, headers, tampered))


def test_tampered_path_fails(key_store, request_parts, path_for, catalog):
    _, headers, body = request_parts
    other = catalog.offer_for(catalog.by_key["claude-haiku-4-5"], "us-east-1").invoke_id
    expect("InvalidSignatureException", lambda: run(key_store, path_for(other), headers, body))


def test_tampered_date_fails(key_store, request_parts):
    path, headers, body = request_parts
    date = next(v for k, v in headers if k == "x-amz-date")
    later = (datetime.strptime(date, "%Y%m%dT%H%M%SZ") + timedelta(seconds=1)).strftime("%Y%m%dT%H%M%SZ")
    expect(
        "InvalidSignatureException", lambda: run(key_store, path, replace_header(headers, "x-amz-date", later), body)
    )


def test_wrong_service_fails(key_store, signer, path_for, profile_id):
    path, headers, body = signer(path_for(profile_id), BODY, service="bedrock-runtime")
    error = expect("InvalidSignatureException", lambda: run(key_store, path, headers, body))
    assert "'bedrock'" in error.message


def test_missing_and_malformed_authorization(key_store, request_parts):
    path, headers, body = request_parts
    bare = [(k, v) for k, v in headers if k != "authorization"]
    expect("MissingAuthenticationTokenException", lambda: run(key_store, path, bare, body))
    garbled = replace_header(headers, "authorization", "AWS4-HMAC-SHA256 Credential=x")
    expect("IncompleteSignatureException", lambda: run(key_store, path, garbled, body))


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1:8080", ["127.0.0.1", "127.0.0.1:8080"]),
        ("localhost", ["localhost"]),
        ("[::1]:9", ["[::1]", "[::1]:9"]),
    ],
)
def test_host_candidates(host, expected):
    assert host_candidates(host) == expected
