"""The spend constructs in the synthesized template (the session's "Spend" variant, see conftest):
cost tags, the budget, the unattached deny policy, the narrow execution role, the action, the alarms."""

from __future__ import annotations

import copy
import json

import pytest

from local.bedrock_double.iam import Decision, evaluate
from runtime.spend import STACK_TAG_KEY
from stacks.checks.scanners import parliament_errors, render
from stacks.constructs.budget_stop import DENIED_ACTIONS

pytestmark = pytest.mark.slow

USER_ARN = "${User00B015A1.Arn}"  # how scanners.render writes the user's GetAtt


def of_type(template: dict, type_: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def one(template: dict, type_: str) -> tuple[str, dict]:
    (item,) = of_type(template, type_).items()
    return item


@pytest.fixture(scope="module")
def spend(synthesized) -> dict:
    return synthesized.templates["Spend"]


def test_the_user_carries_the_cost_tags_and_the_stack_tag(spend, default_template) -> None:
    _, user = one(spend, "AWS::IAM::User")
    assert user["Properties"]["Tags"] == [
        {"Key": "env", "Value": "prod"},
        {"Key": STACK_TAG_KEY, "Value": "Spend"},
        {"Key": "team", "Value": "search"},
    ]
    _, plain = one(default_template, "AWS::IAM::User")
    assert plain["Properties"]["Tags"] == [{"Key": STACK_TAG_KEY, "Value": "PortkeyBedrockAccess"}]
    for kind in ("AWS::Budgets::Budget", "AWS::Budgets::BudgetsAction", "AWS::CloudWatch::Alarm"):
        assert of_type(default_template, kind) == {}  # the defaults switch spend controls off


def test_the_budget_is_monthly_scoped_by_the_stack_tag_and_notifies_at_80_forecast_100_actual(spend) -> None:
    _, budget = one(spend, "AWS::Budgets::Budget")
    data = budget["Properties"]["Budget"]
    assert data["BudgetName"] == "Spend-bedrock-monthly"
    assert (data["BudgetType"], data["TimeUnit"]) == ("COST", "MONTHLY")
    assert data["BudgetLimit"] == {"Amount": 20, "Unit": "USD"}
    assert data["CostFilters"] == {"TagKeyValue": [f"user:{STACK_TAG_KEY}$Spend"]}
    notes = {
        (n["Notification"]["NotificationType"], n["Notification"]["Threshold"]): n["Subscribers"]
        for n in budget["Properties"]["NotificationsWithSubscribers"]
    }
    assert notes == {
        ("FORECASTED", 80): [{"Address": "ops@example.com", "SubscriptionType": "EMAIL"}],
        ("ACTUAL", 100): [{"Address": "ops@example.com", "SubscriptionType": "EMAIL"}],
    }


def stop_policy(template: dict) -> tuple[str, dict]:
    (item,) = [
        (k, v)
        for k, v in of_type(template, "AWS::IAM::ManagedPolicy").items()
        if v["Properties"].get("ManagedPolicyName", "").endswith("-budget-stop")
    ]
    return item


def test_the_deny_policy_is_created_but_attached_by_nothing_in_the_template(spend) -> None:
    policy_id, policy = stop_policy(spend)
    props = policy["Properties"]
    assert not {"Users", "Groups", "Roles"} & set(props)
    assert props["PolicyDocument"]["Statement"] == [
        {"Sid": "BudgetStopDenyBedrockInvoke", "Effect": "Deny", "Action": list(DENIED_ACTIONS), "Resource": "*"}
    ]
    for resource in spend["Resources"].values():  # nothing else attaches it either
        assert {"Ref": policy_id} not in resource["Properties"].get("ManagedPolicyArns", [])
    deny = evaluate([props["PolicyDocument"]], "bedrock:InvokeModel", "arn:aws:bedrock:us-east-1:1:inference-profile/x")
    assert deny.decision is Decision.EXPLICIT_DENY


def role_document(template: dict) -> dict:
    _, role = one(template, "AWS::IAM::Role")
    (policy,) = role["Properties"]["Policies"]
    return render(policy["PolicyDocument"])


def test_the_execution_role_may_only_attach_and_detach_the_stop_policy_on_the_user(spend) -> None:
    policy_id, _ = stop_policy(spend)
    document = role_document(spend)
    stop_arn = f"${{{policy_id}}}"
    for action in ("iam:AttachUserPolicy", "iam:DetachUserPolicy"):
        allowed = evaluate([document], action, USER_ARN, {"iam:PolicyARN": stop_arn})
        assert allowed.decision is Decision.ALLOW
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    other_user = "arn:aws:iam::111122223333:user/someone-else"
    for action, resource, policy in (
        ("iam:AttachUserPolicy", USER_ARN, admin),  # another policy
        ("iam:AttachUserPolicy", other_user, stop_arn),  # another user
        ("iam:AttachRolePolicy", USER_ARN, stop_arn),  # another action
        ("iam:PutUserPolicy", USER_ARN, stop_arn),
        ("iam:AttachUserPolicy", USER_ARN, None),  # no policy named
    ):
        context = {} if policy is None else {"iam:PolicyARN": policy}
        assert evaluate([document], action, resource, context).decision is Decision.IMPLICIT_DENY, (action, policy)
    _, role = one(spend, "AWS::IAM::Role")
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "budgets.amazonaws.com"}
    assert "aws:SourceAccount" in trust["Condition"]["StringEquals"]


def test_parliament_is_clean_on_the_role_and_catches_a_widened_one(spend) -> None:
    policy_id, _ = stop_policy(spend)
    text = json.dumps(role_document(spend))  # references as the ARNs they resolve to
    text = text.replace(USER_ARN, "arn:aws:iam::111122223333:user/portkey-bedrock-access")
    text = text.replace(f"${{{policy_id}}}", "arn:aws:iam::111122223333:policy/Spend-budget-stop")
    document = json.loads(text)
    assert parliament_errors(document) == []
    wide = copy.deepcopy(document)
    wide["Statement"][0]["Action"] = ["iam:*"]
    wide["Statement"][0]["Resource"] = "*"
    assert parliament_errors(wide) != []


def test_the_action_applies_the_stop_policy_to_the_user_automatically_at_actual_100(spend) -> None:
    policy_id, _ = stop_policy(spend)
    budget_id, _ = one(spend, "AWS::Budgets::Budget")
    role_id, _ = one(spend, "AWS::IAM::Role")
    user_id, _ = one(spend, "AWS::IAM::User")
    _, action = one(spend, "AWS::Budgets::BudgetsAction")
    props = action["Properties"]
    assert (props["ActionType"], props["ApprovalModel"], props["NotificationType"]) == (
        "APPLY_IAM_POLICY",
        "AUTOMATIC",
        "ACTUAL",
    )
    assert props["ActionThreshold"] == {"Type": "PERCENTAGE", "Value": 100}
    definition = {"PolicyArn": {"Ref": policy_id}, "Users": [{"Ref": user_id}]}
    assert props["Definition"] == {"IamActionDefinition": definition}
    assert props["ExecutionRoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert props["BudgetName"] == "Spend-bedrock-monthly" and action["DependsOn"] == [budget_id]


def test_two_alarms_per_allowed_model_to_the_email_topic_with_their_advice(spend) -> None:
    alarms = of_type(spend, "AWS::CloudWatch::Alarm")
    model_ids = spend["Outputs"]["ModelIds"]["Value"].split(",")
    assert len(alarms) == 2 * len(model_ids)
    topic_id, _ = one(spend, "AWS::SNS::Topic")
    _, subscription = one(spend, "AWS::SNS::Subscription")
    assert subscription["Properties"]["Endpoint"] == "ops@example.com"
    seen = set()
    for alarm in alarms.values():
        props = alarm["Properties"]
        assert props["Namespace"] == "AWS/Bedrock" and props["AlarmActions"] == [{"Ref": topic_id}]
        (dimension,) = props["Dimensions"]
        assert dimension["Name"] == "ModelId" and dimension["Value"] in model_ids
        advice = "source region" if props["MetricName"] == "InvocationThrottles" else "python -m runtime doctor"
        assert advice in props["AlarmDescription"]
        seen.add((props["MetricName"], dimension["Value"]))
    assert len(seen) == len(alarms)
