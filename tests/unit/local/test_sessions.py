"""The Bedrock double and STS sessions: SigV4 made with ASIA keys and X-Amz-Security-Token, the
role's policy evaluated, expired / unknown / missing tokens refused with Bedrock's 403 words."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from local.bedrock_double import DoubleClient
from local.bedrock_double.errors import BedrockError
from local.bedrock_double.sigv4 import verify
from local.bedrock_double.stores import MotoKeyStore, MotoPolicyStore
from tests.unit.local.conftest import KEY_ID, REGION, SECRET, sign_like_gateway
from tests.unit.local.test_server import error_of, send

SESSION_KEY = "ASIAUNITTESTSESSION1"
SESSION_SECRET = "session/secret+0123456789abcdefghijklmnop"
TOKEN = "FwoGZXIvYXdzEXAMPLEsessiontoken"
ROLE_ARN = "arn:aws:iam::123456789012:role/portkey-bedrock-invoke"
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def session_store(key_store, policy_store, alice):
    key_store.add_session(SESSION_KEY, SESSION_SECRET, TOKEN, ROLE_ARN, NOW + timedelta(hours=1))
    policy_store.set(ROLE_ARN, policy_store.documents_for(alice.user_arn))  # the role: the user's policy
    return key_store


def _verify(store, *, token=TOKEN, key_id=SESSION_KEY, secret=SESSION_SECRET):
    path, headers, body = sign_like_gateway("/model/m/converse", {"a": 1}, key_id=key_id, secret=secret, token=token)
    return verify(method="POST", path=path, headers=headers, body=body, key_store=store, now=_signed_at(headers))


def _signed_at(headers):
    value = next(v for k, v in headers if k == "x-amz-date")
    return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def _error(call):
    with pytest.raises(BedrockError) as err:
        call()
    return err.value.status, err.value.error_type, err.value.message


def test_a_session_key_with_its_token_verifies_as_its_role(session_store, key_store):
    key_store.add_session(SESSION_KEY, SESSION_SECRET, TOKEN, ROLE_ARN, datetime.now(UTC) + timedelta(hours=1))
    caller = _verify(session_store)
    assert caller.key.user_arn == ROLE_ARN and caller.access_key_id == SESSION_KEY


def test_missing_or_wrong_token_is_unrecognized_client(session_store, key_store):
    key_store.add_session(SESSION_KEY, SESSION_SECRET, TOKEN, ROLE_ARN, datetime.now(UTC) + timedelta(hours=1))
    for token in (None, "other-token"):
        assert _error(lambda t=token: _verify(session_store, token=t)) == (
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )


def test_a_long_term_key_with_a_token_is_unrecognized_client(session_store):
    status, error_type, _ = _error(lambda: _verify(session_store, key_id=KEY_ID, secret=SECRET, token="x"))
    assert (status, error_type) == (403, "UnrecognizedClientException")


def test_an_expired_session_is_expired_token(session_store, key_store):
    key_store.add_session(SESSION_KEY, SESSION_SECRET, TOKEN, ROLE_ARN, datetime.now(UTC) - timedelta(seconds=1))
    assert _error(lambda: _verify(session_store)) == (
        403,
        "ExpiredTokenException",
        "The security token included in the request is expired",
    )


def test_server_evaluates_the_roles_policy_and_its_injected_clock_expires_the_session(
    double, key_store, policy_store, alice, path_for, profile_id
):
    key_store.add_session(SESSION_KEY, SESSION_SECRET, TOKEN, ROLE_ARN, datetime.now(UTC) + timedelta(minutes=15))
    sign = dict(key_id=SESSION_KEY, secret=SESSION_SECRET, token=TOKEN, region=REGION)
    response, _ = send(double, sign_like_gateway, path_for(profile_id), **sign)
    status, error_type, message = error_of(response, _)
    assert (status, error_type) == (403, "AccessDeniedException")  # the role has no policy yet
    assert message.startswith("User: arn:aws:sts::123456789012:assumed-role/portkey-bedrock-invoke/session is not")
    policy_store.set(ROLE_ARN, policy_store.documents_for(alice.user_arn))
    response, data = send(double, sign_like_gateway, path_for(profile_id), **sign)
    assert response.status == 200, data
    assert double.requests()[-1]["user_arn"] == ROLE_ARN
    assert TOKEN not in json.dumps(double.requests()) and SESSION_SECRET not in json.dumps(double.requests())
    client = DoubleClient(f"http://127.0.0.1:{double.port}")
    client.set_clock_offset(16 * 60)  # past the session's expiry (checked before the signature's age)
    status, error_type, _ = error_of(*send(double, sign_like_gateway, path_for(profile_id), **sign))
    assert (status, error_type) == (403, "ExpiredTokenException")
    client.set_clock_offset(0)
    assert send(double, sign_like_gateway, path_for(profile_id), **sign)[0].status == 200


def test_moto_stores_see_sessions_and_role_policies(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        iam = boto3.client("iam")
        trust = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "123456789012"}}]}
        role = iam.create_role(RoleName="invoke", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
        document = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "bedrock:InvokeModel",
                    "Resource": "arn:aws:bedrock:us-east-1::foundation-model/m",
                }
            ],
        }
        policy = iam.create_policy(PolicyName="p", PolicyDocument=json.dumps(document))["Policy"]
        iam.attach_role_policy(RoleName="invoke", PolicyArn=policy["Arn"])
        creds = boto3.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]
        record = MotoKeyStore().secret_for(creds["AccessKeyId"])
        assert record is not None and record.user_arn == role["Arn"]
        assert record.caller_arn == "arn:aws:sts::123456789012:assumed-role/invoke/s1"
        assert record.session_token == creds["SessionToken"] and record.secret == creds["SecretAccessKey"]
        assert record.expires is not None and record.expires.tzinfo is not None
        assert creds["SessionToken"] not in repr(record) and creds["SecretAccessKey"] not in repr(record)
        assert MotoPolicyStore().documents_for(role["Arn"]) == [document]
        assert MotoKeyStore().secret_for("ASIANOSUCHSESSION000") is None
