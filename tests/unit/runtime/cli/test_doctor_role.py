"""runtime/cli/doctor_role.py failure lines, against in-process moto (local AWS's trust patch on);
the passing run and a drifted trust are in tests/e2e/test_invoke_role.py."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from local.moto_patches.trust import fix_assume_role_trust
from runtime.cli.doctor_role import role_checks
from runtime.credentials.keys import Credentials

REGION = "us-east-1"


@pytest.fixture
def base(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    fix_assume_role_trust()
    with mock_aws():
        iam = boto3.client("iam", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
        iam.create_user(UserName="ops")
        key = iam.create_access_key(UserName="ops")["AccessKey"]
        yield Credentials(key["AccessKeyId"], key["SecretAccessKey"], region=REGION), iam


def _never(_role):
    raise AssertionError("no chat without a role")


def _lines(checks):
    return [(check.ok, check.line) for check in checks]


def test_a_missing_stack_is_one_line(base):
    creds, _ = base
    ((ok, line),) = _lines(role_checks(creds, REGION, "Nope", None, _never))
    assert not ok and line.startswith("cannot read stack Nope (ValidationError)")


def test_a_stack_without_a_role_says_how_to_deploy_one(base):
    creds, _ = base
    template = {
        "Resources": {"P": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": "p", "Type": "String", "Value": "v"}}}
    }
    boto3.client("cloudformation", region_name=REGION).create_stack(StackName="S", TemplateBody=json.dumps(template))
    ((ok, line),) = _lines(role_checks(creds, REGION, "S", None, _never))
    assert not ok and line.startswith("stack S has no RoleArn output; deploy with -c principal=role")


def test_an_untrusting_role_is_one_line_and_no_chat(base):
    creds, iam = base
    trust = {
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "arn:aws:iam::123456789012:user/app"}}
        ]
    }
    arn = iam.create_role(RoleName="invoke", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    ((ok, line),) = _lines(role_checks(creds, REGION, "S", arn, _never))
    assert not ok and "user/ops is not authorized to perform: sts:AssumeRole" in line and "role_trust" in line
    assert creds.secret_access_key not in line
