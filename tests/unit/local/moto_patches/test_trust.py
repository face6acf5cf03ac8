"""local/moto_patches/trust.py: moto's AssumeRole refuses a principal outside the trust policy and
a duration beyond MaxSessionDuration (moto alone allows both), in-process with mock_aws."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local.moto_patches.trust import MAX_DURATION_MESSAGE, fix_assume_role_trust

ACCOUNT = "123456789012"


def _trust(*principals: str, external_id: str | None = None) -> str:
    statement: dict = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": list(principals)}}
    if external_id:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.fixture
def iam(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    fix_assume_role_trust()
    with mock_aws():
        yield boto3.client("iam")


def _user_sts(iam, name: str):
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return boto3.client("sts", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])


def test_trusted_user_assumes_and_an_outsider_gets_access_denied(iam):
    app = _user_sts(iam, "app")
    outsider = _user_sts(iam, "outsider")
    arn = iam.create_role(RoleName="invoke", AssumeRolePolicyDocument=_trust(f"arn:aws:iam::{ACCOUNT}:user/app"))[
        "Role"
    ]["Arn"]
    creds = app.assume_role(RoleArn=arn, RoleSessionName="ok")["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and creds["SessionToken"]
    with pytest.raises(ClientError) as err:
        outsider.assume_role(RoleArn=arn, RoleSessionName="no")
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    assert f"user/outsider is not authorized to perform: sts:AssumeRole on resource: {arn}" in str(err.value)


def test_external_id_must_match(iam):
    app = _user_sts(iam, "app")
    trust = _trust(f"arn:aws:iam::{ACCOUNT}:user/app", external_id="ext-1")
    arn = iam.create_role(RoleName="invoke", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    assert app.assume_role(RoleArn=arn, RoleSessionName="ok", ExternalId="ext-1")["Credentials"]
    for wrong in ({}, {"ExternalId": "ext-2"}):
        with pytest.raises(ClientError, match="AccessDenied"):
            app.assume_role(RoleArn=arn, RoleSessionName="no", **wrong)


def test_a_role_session_is_trusted_by_its_role_arn(iam):
    app = _user_sts(iam, "app")
    first = iam.create_role(RoleName="first", AssumeRolePolicyDocument=_trust(f"arn:aws:iam::{ACCOUNT}:user/app"))
    second_trust = _trust(first["Role"]["Arn"])
    second = iam.create_role(RoleName="second", AssumeRolePolicyDocument=second_trust)["Role"]["Arn"]
    hop = app.assume_role(RoleArn=first["Role"]["Arn"], RoleSessionName="hop")["Credentials"]
    chained = boto3.client(
        "sts",
        aws_access_key_id=hop["AccessKeyId"],
        aws_secret_access_key=hop["SecretAccessKey"],
        aws_session_token=hop["SessionToken"],
    )
    assert chained.assume_role(RoleArn=second, RoleSessionName="two")["Credentials"]
    with pytest.raises(ClientError, match="AccessDenied"):
        app.assume_role(RoleArn=second, RoleSessionName="direct")


def test_duration_beyond_max_session_duration_is_refused(iam):
    app = _user_sts(iam, "app")
    trust = _trust(f"arn:aws:iam::{ACCOUNT}:user/app")
    arn = iam.create_role(RoleName="invoke", AssumeRolePolicyDocument=trust, MaxSessionDuration=3600)["Role"]["Arn"]
    assert app.assume_role(RoleArn=arn, RoleSessionName="ok", DurationSeconds=3600)["Credentials"]
    with pytest.raises(ClientError) as err:
        app.assume_role(RoleArn=arn, RoleSessionName="no", DurationSeconds=7200)
    assert err.value.response["Error"]["Code"] == "ValidationError"
    assert MAX_DURATION_MESSAGE in str(err.value)


def test_unknown_key_counts_as_account_root(iam):
    """The CDK CLI's throwaway key still assumes bootstrap roles, which trust the account root."""
    arn = iam.create_role(RoleName="cdk-deploy", AssumeRolePolicyDocument=_trust(f"arn:aws:iam::{ACCOUNT}:root"))[
        "Role"
    ]["Arn"]
    assert boto3.client("sts").assume_role(RoleArn=arn, RoleSessionName="cdk")["Credentials"]
    user_only = iam.create_role(RoleName="u", AssumeRolePolicyDocument=_trust(f"arn:aws:iam::{ACCOUNT}:user/app"))
    with pytest.raises(ClientError, match="AccessDenied"):
        boto3.client("sts").assume_role(RoleArn=user_only["Role"]["Arn"], RoleSessionName="cdk")
