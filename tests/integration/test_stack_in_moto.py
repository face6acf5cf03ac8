"""The synthesized stack (the real CDK app) deployed with the CloudFormation API into
in-process moto: resources, secret content, update and delete."""

import json

import boto3
import pytest
from moto import mock_aws

from local.moto_patches import fixes as moto_fixes
from runtime import constants as c
from stacks.deploy import access_key_serials
from tests.integration.helpers import REGION, active_key_ids, secret_json, seed_bootstrap_version

pytestmark = pytest.mark.integration
STACK = c.DEFAULT_STACK_NAME


@pytest.fixture
def aws(moto_env):
    moto_fixes.install()
    with mock_aws():
        seed_bootstrap_version(boto3.client("ssm", region_name=REGION))
        yield {
            s: boto3.client(s, region_name=REGION) for s in ("cloudformation", "iam", "secretsmanager", "kms", "sts")
        }


def create(aws, template):
    body = json.dumps(template)
    aws["cloudformation"].create_stack(StackName=STACK, TemplateBody=body, Capabilities=["CAPABILITY_NAMED_IAM"])
    return outputs(aws)


def update(aws, template):
    body = json.dumps(template)
    aws["cloudformation"].update_stack(StackName=STACK, TemplateBody=body, Capabilities=["CAPABILITY_NAMED_IAM"])
    return outputs(aws)


def outputs(aws):
    stack = aws["cloudformation"].describe_stacks(StackName=STACK)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


@pytest.fixture
def deployed(aws, synthesized):
    return create(aws, synthesized({})), aws


def test_template_has_one_access_key_and_no_secret_values(synthesized):
    template = synthesized({})
    assert access_key_serials(template) == [1]
    assert access_key_serials(synthesized({"access_key_serial": "2", "retained_access_key_serial": "1"})) == [1, 2]


def test_user_policy_attached_and_exactly_one_active_key(deployed):
    out, aws = deployed
    user = out[c.OUTPUT_USER_NAME]
    assert aws["iam"].get_user(UserName=user)["User"]["Arn"] == out[c.OUTPUT_USER_ARN]
    attached = aws["iam"].list_attached_user_policies(UserName=user)["AttachedPolicies"]
    assert sorted(p["PolicyArn"] for p in attached) == sorted(out[c.OUTPUT_POLICY_ARN].split(","))
    assert len(active_key_ids(aws["iam"], user)) == 1
    assert out[c.OUTPUT_ACCESS_KEY_SERIAL] == "1"


def test_kms_key_and_alias(deployed):
    out, aws = deployed
    key_id = out[c.OUTPUT_KMS_KEY_ARN].rsplit("/", 1)[1]
    assert aws["kms"].describe_key(KeyId=key_id)["KeyMetadata"]["Enabled"] is True
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in aws["kms"].list_aliases()["Aliases"]}
    assert aliases.get("alias/portkey-bedrock-access") == key_id
    assert (
        aws["secretsmanager"].describe_secret(SecretId=out[c.OUTPUT_SECRET_ARN])["KmsKeyId"]
        == out[c.OUTPUT_KMS_KEY_ARN]
    )


def test_secret_holds_the_active_key_and_its_real_secret(deployed):
    out, aws = deployed
    value = secret_json(aws["secretsmanager"], out[c.OUTPUT_SECRET_ARN])
    assert sorted(value) == sorted(c.SECRET_ENV_KEYS)
    assert value[c.ENV_AWS_REGION] == REGION
    assert [value[c.ENV_AWS_ACCESS_KEY_ID]] == active_key_ids(aws["iam"], out[c.OUTPUT_USER_NAME])
    assert caller_arn(value[c.ENV_AWS_ACCESS_KEY_ID], value[c.ENV_AWS_SECRET_ACCESS_KEY]) == out[c.OUTPUT_USER_ARN]


def test_a_wrong_secret_for_the_same_key_is_refused(deployed):
    from botocore.exceptions import ClientError

    out, aws = deployed
    value = secret_json(aws["secretsmanager"], out[c.OUTPUT_SECRET_ARN])
    with pytest.raises(ClientError, match="SignatureDoesNotMatch"):
        caller_arn(value[c.ENV_AWS_ACCESS_KEY_ID], "x" * 40)


def caller_arn(key_id, secret):
    """sts get-caller-identity with moto's signature check switched on (it is off by default)."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    saved = settings.INITIAL_NO_AUTH_ACTION_COUNT
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    ActionAuthenticatorMixin.request_count = 0
    try:
        sts = boto3.client("sts", region_name=REGION, aws_access_key_id=key_id, aws_secret_access_key=secret)
        return sts.get_caller_identity()["Arn"]
    finally:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = saved


def test_update_moves_the_secret_to_the_new_key_as_a_new_version(deployed, synthesized):
    out, aws = deployed
    sm, arn = aws["secretsmanager"], out[c.OUTPUT_SECRET_ARN]
    before = secret_json(sm, arn)
    out2 = update(aws, synthesized({"access_key_serial": "2", "retained_access_key_serial": "1"}))
    after = secret_json(sm, arn)
    assert out2[c.OUTPUT_SECRET_ARN] == arn and out2[c.OUTPUT_ACCESS_KEY_SERIAL] == "2"
    assert after[c.ENV_AWS_ACCESS_KEY_ID] != before[c.ENV_AWS_ACCESS_KEY_ID]
    assert after[c.ENV_AWS_SECRET_ACCESS_KEY] != before[c.ENV_AWS_SECRET_ACCESS_KEY]
    assert len(sm.list_secret_version_ids(SecretId=arn)["Versions"]) == 2
    keys = active_key_ids(aws["iam"], out[c.OUTPUT_USER_NAME])
    assert sorted([before[c.ENV_AWS_ACCESS_KEY_ID], after[c.ENV_AWS_ACCESS_KEY_ID]]) == keys
    update(aws, synthesized({"access_key_serial": "2"}))
    assert active_key_ids(aws["iam"], out[c.OUTPUT_USER_NAME]) == [after[c.ENV_AWS_ACCESS_KEY_ID]]
    assert secret_json(sm, arn) == after


def test_delete_stack_removes_user_key_and_secret(deployed):
    out, aws = deployed
    aws["cloudformation"].delete_stack(StackName=STACK)
    assert aws["iam"].list_users()["Users"] == []
    assert aws["secretsmanager"].list_secrets()["SecretList"] == []
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError, match="NoSuchEntity"):
        aws["iam"].list_access_keys(UserName=out[c.OUTPUT_USER_NAME])
