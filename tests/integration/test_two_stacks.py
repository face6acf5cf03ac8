"""Two stacks side by side: different ``stack_name`` and ``user_name`` deploy into the same local
account and Region (synth deployer, no CDK CLI), and each one's key may call only its own models.
The key is checked by the Bedrock double in the local AWS server, which verifies the signature
against the key in moto and evaluates the user's deployed policies like IAM."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from runtime import constants as c
from stacks.cdk_cli import Target
from stacks.names import kms_alias
from tests.integration.helpers import secret_json, seed_bootstrap_version
from tests.support.deployers import synth_deployer

pytestmark = pytest.mark.integration

STACKS = {
    "TeamAlpha": {"user_name": "team-alpha", "allowed_models": "claude-haiku-4.5"},
    "TeamBeta": {"user_name": "team-beta", "allowed_models": "claude-sonnet-4.6"},
}


@pytest.fixture(scope="module")
def two_stacks(local_aws: Any, target: Target) -> Iterator[dict[str, dict[str, str]]]:
    seed_bootstrap_version(target.client("ssm"))  # the templates read it; no `cdk bootstrap` needed
    deploy = synth_deployer()
    outputs = {name: deploy(target, name, {"stack_name": name, **ctx}) for name, ctx in STACKS.items()}
    yield outputs
    cfn = target.client("cloudformation")
    for name in STACKS:
        cfn.delete_stack(StackName=name)
        cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})


def converse(local_aws: Any, target: Target, secret: dict[str, str], model_id: str) -> str:
    """Call the double as the stack's key would: "ok", or the error code Bedrock would answer."""
    import boto3
    from botocore.exceptions import ClientError

    client = boto3.client(
        "bedrock-runtime",
        region_name=target.region,
        endpoint_url=local_aws.state.bedrock_url,
        aws_access_key_id=secret[c.ENV_AWS_ACCESS_KEY_ID],
        aws_secret_access_key=secret[c.ENV_AWS_SECRET_ACCESS_KEY],
    )
    try:
        client.converse(modelId=model_id, messages=[{"role": "user", "content": [{"text": "ping"}]}])
    except ClientError as err:
        return str(err.response["Error"]["Code"])
    return "ok"


def test_both_stacks_deploy_with_their_own_user_alias_and_secret(two_stacks, target):
    alpha, beta = two_stacks["TeamAlpha"], two_stacks["TeamBeta"]
    assert (alpha[c.OUTPUT_USER_NAME], beta[c.OUTPUT_USER_NAME]) == ("team-alpha", "team-beta")
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in target.client("kms").list_aliases()["Aliases"]}
    for outputs in (alpha, beta):
        assert aliases[kms_alias(outputs[c.OUTPUT_USER_NAME])] == outputs[c.OUTPUT_KMS_KEY_ARN].rsplit("/", 1)[1]
    names = {
        target.client("secretsmanager").describe_secret(SecretId=o[c.OUTPUT_SECRET_ARN])["Name"] for o in (alpha, beta)
    }
    assert names == {"portkey/team-alpha", "portkey/team-beta"}


def test_each_key_calls_its_own_models_and_is_denied_the_others(two_stacks, local_aws, target):
    sm = target.client("secretsmanager")
    secrets = {name: secret_json(sm, outputs[c.OUTPUT_SECRET_ARN]) for name, outputs in two_stacks.items()}
    models = {name: outputs[c.OUTPUT_MODEL_IDS] for name, outputs in two_stacks.items()}
    assert models["TeamAlpha"] != models["TeamBeta"]
    for own, other in (("TeamAlpha", "TeamBeta"), ("TeamBeta", "TeamAlpha")):
        assert converse(local_aws, target, secrets[own], models[own]) == "ok"
        assert converse(local_aws, target, secrets[own], models[other]) == "AccessDeniedException"
