"""The budget stop through the whole local chain: the spend stack deployed (CloudFormation API,
synth_deployer) into the session's local AWS; a chat through the real Portkey gateway to the
Bedrock double (which evaluates the user's attached policies like IAM) succeeds and lands in
local CloudWatch as AWS/Bedrock metrics; then the stop is tripped as AWS Budgets would trip it
(the action's execution role, assumed through STS, attaches the stack's deny policy); the next
chat gets 403, `doctor` names the tripped budget in one line, a redeploy leaves the stop in force,
and `python -m stacks.budget reset` restores service.

The stack goes to us-west-2 under its own names, so it shares the session server with the
default stack the other integration tests deploy to us-east-1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import boto3
import pytest

from local.aws import LocalAws
from local.gateway import Gateway
from local.moto_patches.trust import SERVICE_SESSION_PREFIX
from runtime import constants as c
from runtime.catalog.resolve import resolve_model
from runtime.cli import usage
from runtime.cli.doctor import check_live
from runtime.credentials.keys import Credentials
from runtime.spend import budget_name, deny_policy_name
from stacks import budget as budget_cli
from stacks.cdk_cli import Target
from tests.integration.helpers import MOTO_ACCOUNT, secret_json, seed_bootstrap_version
from tests.support.deployers import applied, synth_deployer

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
REGION = "us-west-2"
STACK = "SpendChain"
MODEL = "claude-large"
CONTEXT = {
    "stack_name": STACK,
    "user_name": "spend-chain",
    "secret_name": "portkey/spend-chain",
    "allowed_models": MODEL,
    "monthly_budget_usd": "5",
    "budget_notify": "ops@example.com",
    "budget_action": "deny",
    "cost_tags": "team=chain",
}

AS_BUDGETS = SERVICE_SESSION_PREFIX + "budgets.amazonaws.com"  # local AWS: the root acting as AWS Budgets


@dataclass(frozen=True)
class Deployed:
    target: Target
    outputs: dict[str, str]
    credentials: Credentials
    bedrock_url: str


@pytest.fixture(scope="module")
def deployed(local_aws: LocalAws) -> Iterator[Deployed]:
    state = local_aws.state
    assert state.bedrock_url, "local AWS must host the Bedrock double"
    target = Target.for_endpoint(state.endpoint, region=REGION)
    seed_bootstrap_version(target.client("ssm"))  # what cdk bootstrap leaves in this region
    outputs = synth_deployer()(target, STACK, CONTEXT)
    secret = secret_json(target.client("secretsmanager"), outputs[c.OUTPUT_SECRET_ARN])
    credentials = Credentials(secret[c.ENV_AWS_ACCESS_KEY_ID], secret[c.ENV_AWS_SECRET_ACCESS_KEY], region=REGION)
    yield Deployed(target, outputs, credentials, state.bedrock_url)


def chat(deployed: Deployed, gateway: Gateway) -> Any:
    return check_live(MODEL, deployed.credentials, REGION, gateway.base_url, deployed.bedrock_url, stack=STACK)


def trip_as_budgets_would(deployed: Deployed) -> None:
    iam = deployed.target.client("iam")
    (role,) = [r for r in iam.list_roles()["Roles"] if "SpendStopExecutionRole" in r["RoleName"]]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"] == {"Service": "budgets.amazonaws.com"}
    creds = deployed.target.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName=AS_BUDGETS)
    keys = creds["Credentials"]
    as_budgets = boto3.client(
        "iam",
        region_name=REGION,
        endpoint_url=deployed.target.endpoint,
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys["SessionToken"],
    )
    policy_arn = f"arn:aws:iam::{MOTO_ACCOUNT}:policy/{deny_policy_name(STACK)}"
    as_budgets.attach_user_policy(UserName=deployed.outputs[c.OUTPUT_USER_NAME], PolicyArn=policy_arn)


def bedrock_metrics(deployed: Deployed) -> dict[str, float]:
    cloudwatch = deployed.target.client("cloudwatch")
    totals: dict[str, float] = {}
    for metric in cloudwatch.list_metrics(Namespace="AWS/Bedrock")["Metrics"]:
        totals[metric["MetricName"]] = totals.get(metric["MetricName"], 0.0) + 1
    return totals


def test_the_stop_trips_through_the_gateway_survives_a_deploy_and_reset_restores(
    deployed: Deployed,
    gateway: Gateway,
) -> None:
    before = chat(deployed, gateway)
    assert before.ok, before.line
    assert {"Invocations", "InputTokenCount", "OutputTokenCount"} <= set(bedrock_metrics(deployed))
    with applied(deployed.target):  # `python -m runtime usage` (as make demo runs it) sees the chat's tokens
        window = {"since": timedelta(days=1), "by": "model", "stack": STACK, "want_billed": True}
        report = usage.build_report(regions=[REGION], **window)  # type: ignore[arg-type]
    (row,) = report["rows"]  # one model called, from one source region
    assert row["model_id"] == resolve_model(MODEL, REGION) and row["region"] == REGION
    assert row["invocations"] >= 1 and row["input_tokens"] > 0 and row["output_tokens"] > 0
    assert report["billed"] is not None  # Cost Explorer (moto) answered; billed spend is this user's tag

    trip_as_budgets_would(deployed)
    stopped = chat(deployed, gateway)
    assert not stopped.ok
    assert "HTTP 403" in stopped.line and budget_name(STACK) in stopped.line and "\n" not in stopped.line
    assert "python -m stacks.budget reset --stack SpendChain" in stopped.line

    synth_deployer()(deployed.target, STACK, {**CONTEXT, "cost_tags": "team=chain,env=test"})  # a later deploy
    assert not chat(deployed, gateway).ok
    assert budget_cli.status(deployed.target, STACK)[0] is True

    line = budget_cli.reset(deployed.target, STACK)
    assert line.startswith("budget stop lifted")
    after = chat(deployed, gateway)
    assert after.ok, after.line
