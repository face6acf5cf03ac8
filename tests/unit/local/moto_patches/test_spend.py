"""local/moto_patches: a ManagedPolicy update attaches/detaches only the difference of the template's
``Users`` (an attachment made outside the template stays, as in AWS), and an IAM user's tags change
in place (the user, with its attachments, is not replaced)."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from local.moto_patches import fixes

REGION = "us-east-1"


def template(users: list[str], action: str, tags: dict[str, str]) -> str:
    return json.dumps(
        {
            "Resources": {
                "User": {
                    "Type": "AWS::IAM::User",
                    "Properties": {"UserName": "u", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]},
                },
                "Other": {"Type": "AWS::IAM::User", "Properties": {"UserName": "other"}},
                "Stop": {
                    "Type": "AWS::IAM::ManagedPolicy",
                    "DependsOn": ["User", "Other"],
                    "Properties": {
                        "ManagedPolicyName": "stop",
                        "Users": users,
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [{"Effect": "Deny", "Action": action, "Resource": "*"}],
                        },
                    },
                },
            }
        }
    )


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    fixes.install()
    with mock_aws():
        yield boto3.client("cloudformation", region_name=REGION), boto3.client("iam", region_name=REGION)


def attached(iam, user: str) -> list[str]:
    return [p["PolicyName"] for p in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]]


def test_an_out_of_band_attachment_survives_updates_and_a_dropped_user_is_detached(aws) -> None:
    cfn, iam = aws
    cfn.create_stack(StackName="s", TemplateBody=template(["other"], "bedrock:InvokeModel", {"team": "a"}))
    assert attached(iam, "other") == ["stop"] and attached(iam, "u") == []
    iam.attach_user_policy(UserName="u", PolicyArn="arn:aws:iam::123456789012:policy/stop")  # as AWS Budgets does

    # the policy document and the user's tags change; "other" leaves the template's Users
    cfn.update_stack(StackName="s", TemplateBody=template([], "bedrock:*", {"team": "b", "env": "x"}))
    assert attached(iam, "u") == ["stop"]  # not in the template: left alone, as CloudFormation does
    assert attached(iam, "other") == []  # dropped from the template's Users: detached
    tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName="u")["Tags"]}
    assert tags == {"team": "b", "env": "x"}
