"""Credentials.from_role / from_default_chain (runtime/credentials/assume_role.py) against in-process moto STS
with the trust patch of local AWS: botocore refreshes, the session token goes on the wire, errors
are one line, and no key, secret or token shows in a repr."""

from __future__ import annotations

import json
import os
import pickle
from datetime import UTC, datetime, timedelta
from unittest import mock

import boto3
import pytest
from moto import mock_aws

from local.moto_patches.trust import fix_assume_role_trust
from runtime.constants import HEADER_AWS_ACCESS_KEY_ID, HEADER_AWS_SESSION_TOKEN
from runtime.credentials.keys import Credentials, RefreshingCredentials
from runtime.errors import CredentialsError
from runtime.gateway.client import gateway_http_client
from runtime.gateway.headers import portkey_config, portkey_headers

ACCOUNT = "123456789012"


class Clock:
    """An injectable clock for botocore's refresh windows: real time plus an offset."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
def aws(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    fix_assume_role_trust()
    with mock_aws():
        yield boto3.client("iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def _user(iam, name: str) -> Credentials:
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Credentials(key["AccessKeyId"], key["SecretAccessKey"], region="us-east-1")


@pytest.fixture
def role(aws):
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/app"}}
        ],
    }
    arn = aws.create_role(RoleName="invoke", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    return arn, _user(aws, "app")


def test_from_role_gives_temporary_credentials_that_never_show(role):
    arn, base = role
    creds = Credentials.from_role(arn, source=base)
    snapshot = creds.frozen()
    assert snapshot.access_key_id.startswith("ASIA") and snapshot.session_token
    assert snapshot.access_key_id != base.access_key_id
    text = repr(creds) + str(creds) + repr(snapshot)
    for secret in (snapshot.access_key_id, snapshot.secret_access_key, snapshot.session_token):
        assert secret not in text
    assert repr(creds) == f"RefreshingCredentials(source='role {arn}', region='us-east-1')"
    with pytest.raises(TypeError):
        pickle.dumps(creds)


def test_headers_and_config_carry_the_session_token(role):
    arn, base = role
    creds = Credentials.from_role(arn, source=base)
    token = creds.frozen().session_token
    headers = portkey_headers("claude-sonnet-4.5", creds)
    assert headers[HEADER_AWS_SESSION_TOKEN] == token and headers[HEADER_AWS_ACCESS_KEY_ID].startswith("ASIA")
    flat = json.dumps(portkey_config("claude-sonnet-4.5", creds))
    assert f'"aws_session_token": "{token}"' in flat


def test_botocore_refreshes_inside_the_mandatory_window_without_a_failure(role):
    arn, base = role
    clock = Clock()
    creds = Credentials.from_role(arn, source=base, duration=900, clock=clock)
    first = creds.frozen().access_key_id
    assert creds.frozen().access_key_id == first  # fresh: no STS call per read
    clock.offset = timedelta(seconds=900 - 60)  # a minute before expiry: inside the mandatory window
    second = creds.frozen().access_key_id
    assert second != first and second.startswith("ASIA")
    clock.offset = timedelta(0)
    assert creds.frozen().access_key_id == second


def test_an_outsider_cannot_assume_the_role(role, aws):
    arn, _ = role
    outsider = _user(aws, "outsider")
    with pytest.raises(CredentialsError) as err:
        Credentials.from_role(arn, source=outsider)
    message = str(err.value)
    assert "AccessDenied" in message and "role_trust" in message and "\n" not in message
    assert outsider.secret_access_key not in message


def test_duration_beyond_the_roles_maximum_is_one_line(role):
    arn, base = role
    with pytest.raises(CredentialsError, match=r"duration=7200 s exceeds the role's maximum"):
        Credentials.from_role(arn, source=base, duration=7200)
    with pytest.raises(CredentialsError, match=r"outside STS's 900-43200"):
        Credentials.from_role(arn, source=base, duration=60)
    with pytest.raises(CredentialsError, match="is not an IAM role ARN"):
        Credentials.from_role("arn:aws:iam::123456789012:user/app", source=base)


def test_from_role_without_base_credentials_is_one_line(role):
    arn, _ = role
    with mock.patch.dict(os.environ):  # mock_aws sets fake keys; restore them before it stops
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            os.environ.pop(name, None)
        with pytest.raises(CredentialsError, match=r"^no base AWS credentials: the default chain"):
            Credentials.from_role(arn)
        with pytest.raises(CredentialsError, match="no base AWS credentials"):
            Credentials.from_default_chain()


def test_default_chain_is_the_base_when_no_source_is_given(role, monkeypatch):
    arn, base = role
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", base.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", base.secret_access_key)
    chain = Credentials.from_default_chain(region="us-east-1")
    assert isinstance(chain, RefreshingCredentials) and chain.label == "default chain (env)"
    assert chain.frozen() == Credentials(base.access_key_id, base.secret_access_key, region="us-east-1")
    assert Credentials.from_role(arn).frozen().access_key_id.startswith("ASIA")


def test_gateway_http_client_sends_the_roles_current_credentials(role):
    import httpx

    arn, base = role
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.headers))
        return httpx.Response(200, json={})

    client = gateway_http_client(lambda: base, role_arn=arn, region="us-east-1", transport=httpx.MockTransport(handler))
    client.post("http://gateway.invalid/v1/chat/completions", json={})
    assert seen[0][HEADER_AWS_ACCESS_KEY_ID].startswith("ASIA") and seen[0][HEADER_AWS_SESSION_TOKEN]
    assert base.access_key_id not in json.dumps(seen)
