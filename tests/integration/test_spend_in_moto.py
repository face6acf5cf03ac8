"""The spend controls deployed with the CloudFormation API into in-process moto (with the
local/moto_patches models): the budget, its action, alarms and tags exist; the stop, attached as
AWS Budgets would (through the action's execution role), survives a redeploy and a key rotation,
and `python -m stacks.budget reset` lifts it."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from local.moto_patches import fixes as moto_fixes
from local.moto_patches.spend import BUDGET_ACTIONS
from local.moto_patches.trust import SERVICE_SESSION_PREFIX
from runtime import constants as c
from runtime.spend import STACK_TAG_KEY, budget_name, deny_policy_name
from stacks import budget as budget_cli
from stacks.cdk_cli import Target
from tests.integration.helpers import MOTO_ACCOUNT, REGION, seed_bootstrap_version

pytestmark = pytest.mark.integration
STACK = c.DEFAULT_STACK_NAME
SPEND = {
    "cost_tags": "team=search",
    "monthly_budget_usd": "20",
    "budget_notify": "ops@example.com",
    "budget_action": "deny",
    "allowed_models": "claude-large",
}

AS_BUDGETS = SERVICE_SESSION_PREFIX + "budgets.amazonaws.com"  # local AWS: the root acting as AWS Budgets


@pytest.fixture
def aws(moto_env):
    moto_fixes.install()
    with mock_aws():
        seed_bootstrap_version(boto3.client("ssm", region_name=REGION))
        services = ("cloudformation", "iam", "sts", "budgets", "cloudwatch")
        yield {s: boto3.client(s, region_name=REGION) for s in services}


def deploy(aws, template, *, create: bool) -> dict[str, str]:
    call = aws["cloudformation"].create_stack if create else aws["cloudformation"].update_stack
    call(StackName=STACK, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_NAMED_IAM"])
    stack = aws["cloudformation"].describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"].endswith("_COMPLETE") and "ROLLBACK" not in stack["StackStatus"], stack["StackStatus"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def attached(aws, user: str) -> set[str]:
    return {p["PolicyName"] for p in aws["iam"].list_attached_user_policies(UserName=user)["AttachedPolicies"]}


def trip_as_budgets_would(aws, user: str) -> None:
    """What AWS Budgets does at actual 100 %: assume the action's execution role, attach its policy."""
    ((_, action),) = BUDGET_ACTIONS[(MOTO_ACCOUNT, budget_name(STACK))].items()
    creds = aws["sts"].assume_role(RoleArn=action["ExecutionRoleArn"], RoleSessionName=AS_BUDGETS)["Credentials"]
    as_budgets = boto3.client(
        "iam",
        region_name=REGION,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    definition = action["Definition"]["IamActionDefinition"]
    (action_user,) = definition["Users"]
    assert action_user == user
    as_budgets.attach_user_policy(UserName=user, PolicyArn=definition["PolicyArn"])


def test_spend_resources_deploy_and_the_stop_survives_deploys_until_reset(aws, synthesized) -> None:
    out = deploy(aws, synthesized(SPEND), create=True)
    user = out[c.OUTPUT_USER_NAME]
    tags = {t["Key"]: t["Value"] for t in aws["iam"].list_user_tags(UserName=user)["Tags"]}
    assert tags == {"team": "search", STACK_TAG_KEY: STACK}
    budget = aws["budgets"].describe_budget(AccountId=MOTO_ACCOUNT, BudgetName=budget_name(STACK))["Budget"]
    assert budget["BudgetLimit"]["Amount"] in ("20", "20.0") and budget["CostFilters"]["TagKeyValue"]
    notes = aws["budgets"].describe_notifications_for_budget(AccountId=MOTO_ACCOUNT, BudgetName=budget_name(STACK))
    thresholds = {(n["NotificationType"], n["Threshold"]) for n in notes["Notifications"]}
    assert thresholds == {("FORECASTED", 80), ("ACTUAL", 100)}
    alarms = aws["cloudwatch"].describe_alarms()["MetricAlarms"]
    assert {a["MetricName"] for a in alarms} == {"InvocationThrottles", "InvocationClientErrors"}
    assert deny_policy_name(STACK) not in attached(aws, user)  # created, not attached

    trip_as_budgets_would(aws, user)
    assert deny_policy_name(STACK) in attached(aws, user)

    # a later deploy that changes the user's tags and rotates the key (phase 1): the stop stays in force
    # (one update for both: each in-process synth costs seconds; the chain test redeploys on its own)
    rotated = {**SPEND, "cost_tags": "team=search,env=prod"}
    rotated.update(access_key_serial="2", retained_access_key_serial="1")
    deploy(aws, synthesized(rotated), create=False)
    assert len(aws["iam"].list_access_keys(UserName=user)["AccessKeyMetadata"]) == 2  # the rotation happened
    assert deny_policy_name(STACK) in attached(aws, user)
    target = Target.from_environ()
    assert budget_cli.status(target, STACK)[0] is True

    line = budget_cli.reset(target, STACK)
    assert line.startswith(f"budget stop lifted: {deny_policy_name(STACK)} detached from {user}")
    assert deny_policy_name(STACK) not in attached(aws, user)
    assert budget_cli.status(target, STACK)[0] is False
