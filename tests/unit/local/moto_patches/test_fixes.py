"""local/moto_patches/fixes.py: cases beyond the doctest."""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.moto_patches.fixes import install, policy_text


@pytest.mark.parametrize(("policy", "expected"), [({"a": 1}, '{"a": 1}'), ('{"a": 1}', '{"a": 1}'), (None, None)])
def test_policy_text(policy, expected):
    assert policy_text(policy) == expected


# Two managed policies for one user, the second only while the grant is wide: what the policy
# builder emits when the statements pass IAM's 6,144-character limit (issue 18, item 5).
def _template(wide: bool) -> dict[str, Any]:
    def policy(sid: str) -> dict[str, Any]:
        statement = {"Sid": sid, "Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": "*"}
        document = {"Version": "2012-10-17", "Statement": [statement]}
        properties = {"PolicyDocument": document, "Users": [{"Ref": "User"}]}
        return {"Type": "AWS::IAM::ManagedPolicy", "Properties": properties}

    resources: dict[str, Any] = {"User": {"Type": "AWS::IAM::User"}, "Policy": policy("One")}
    refs = [{"Ref": "Policy"}]
    if wide:
        resources["Policy2"] = policy("Two")
        refs.append({"Ref": "Policy2"})
    outputs = {"UserName": {"Value": {"Ref": "User"}}, "PolicyArn": {"Value": {"Fn::Join": [",", refs]}}}
    return {"Resources": resources, "Outputs": outputs}


def _walk(steps: list[bool]) -> list[tuple[list[str], list[str]]]:
    """Deploy each step's template in turn; (CloudFormation's PolicyArn, IAM's attached) per step."""
    cfn, iam = boto3.client("cloudformation"), boto3.client("iam")
    seen = []
    for index, wide in enumerate(steps):
        call = cfn.create_stack if index == 0 else cfn.update_stack
        call(StackName="Walk", TemplateBody=json.dumps(_template(wide)), Capabilities=["CAPABILITY_IAM"])
        stack = cfn.describe_stacks(StackName="Walk")["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        attached = iam.list_attached_user_policies(UserName=outputs["UserName"])["AttachedPolicies"]
        seen.append((sorted(outputs["PolicyArn"].split(",")), sorted(p["PolicyArn"] for p in attached)))
    return seen


@pytest.fixture
def moto_iam(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):  # fmt: skip
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    install()
    with mock_aws():
        yield


def test_a_policy_removed_then_added_again_is_created_again(moto_iam: None) -> None:
    steps = _walk([False, True, False, True, False])
    for outputs, attached in steps:
        assert outputs == attached
    assert [len(outputs) for outputs, _ in steps] == [1, 2, 1, 2, 1]
    assert steps[1][0] != steps[3][0]  # the second policy is a new one, as on AWS


def test_without_the_fix_cloudformation_names_a_deleted_policy(moto_iam: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.cloudformation.parsing import ResourceMap

    monkeypatch.setattr(ResourceMap, "update", ResourceMap.update.__wrapped__)  # moto's own
    outputs, attached = _walk([False, True, False, True])[-1]
    assert (len(outputs), len(attached)) == (2, 1)  # the bug of issue 18, item 5
