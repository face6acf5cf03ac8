"""principal=role deployed with the CloudFormation API into in-process moto (local AWS's fixes
installed): the role with its trust, the GitHub OIDC provider, the invoke policies attached
through the policies' Roles list, and no user, key or secret; a session from STS is the role's."""

import json
from urllib.parse import unquote

import boto3
import pytest
from moto import mock_aws

from local.bedrock_double.stores import MotoKeyStore, MotoPolicyStore
from local.moto_patches import fixes as moto_fixes
from runtime import constants as c
from tests.integration.helpers import MOTO_ACCOUNT, REGION, seed_bootstrap_version

pytestmark = pytest.mark.integration
STACK = "InvokeRoleOnly"
APP_ARN = f"arn:aws:iam::{MOTO_ACCOUNT}:user/app"
CONTEXT = {
    "principal": "role",
    "role_trust": f"{APP_ARN},lambda.amazonaws.com,repo:acme/app:ref:refs/heads/main",
    "github_oidc_provider": "create",
    "maximum_session_duration": "7200",
}


@pytest.fixture
def deployed(moto_env, synthesized):
    template = synthesized(CONTEXT)
    moto_fixes.install()
    with mock_aws():
        seed_bootstrap_version(boto3.client("ssm", region_name=REGION))
        cfn = boto3.client("cloudformation", region_name=REGION)
        cfn.create_stack(StackName=STACK, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_NAMED_IAM"])
        stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        yield {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}, boto3.client("iam", region_name=REGION)


def test_role_only_stack_has_the_role_its_policies_and_no_user(deployed):
    outputs, iam = deployed
    assert c.OUTPUT_USER_ARN not in outputs and iam.list_users()["Users"] == []
    role_name = outputs[c.OUTPUT_ROLE_ARN].rsplit("/", 1)[-1]
    role = iam.get_role(RoleName=role_name)["Role"]
    assert role["MaxSessionDuration"] == 7200
    document = role["AssumeRolePolicyDocument"]
    trust = json.loads(unquote(document)) if isinstance(document, str) else document
    principals = [s["Principal"] for s in trust["Statement"]]
    assert {"AWS": APP_ARN} in principals and {"Service": "lambda.amazonaws.com"} in principals
    (provider,) = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert {"Federated": provider["Arn"]} in principals
    attached = sorted(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"])
    assert attached == sorted(outputs[c.OUTPUT_POLICY_ARN].split(","))


def test_a_trusted_session_is_the_role_and_carries_its_policies(deployed):
    outputs, iam = deployed
    iam.create_user(UserName="app")
    key = iam.create_access_key(UserName="app")["AccessKey"]
    sts = boto3.client(
        "sts", region_name=REGION, aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
    )
    session = sts.assume_role(RoleArn=outputs[c.OUTPUT_ROLE_ARN], RoleSessionName="app")["Credentials"]
    record = MotoKeyStore().secret_for(session["AccessKeyId"])
    assert record is not None and record.user_arn == outputs[c.OUTPUT_ROLE_ARN]
    documents = MotoPolicyStore().documents_for(record.user_arn)
    actions = {
        a
        for d in documents
        for s in d["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert "bedrock:InvokeModel" in actions


def test_deleting_the_stack_removes_role_and_oidc_provider(deployed):
    outputs, iam = deployed
    boto3.client("cloudformation", region_name=REGION).delete_stack(StackName=STACK)
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    assert outputs[c.OUTPUT_ROLE_ARN] not in [r["Arn"] for r in iam.list_roles()["Roles"]]
