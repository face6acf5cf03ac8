"""The hard stop (``budget_action=deny``): at actual 100 % of the budget, AWS Budgets attaches a
deny-invoke managed policy to the access user.

The policy is created here but not attached: AWS Budgets attaches it, outside the template, so a
later deploy or key rotation (which only changes what the template lists) leaves it attached.
Only ``python -m stacks.budget reset`` (or AWS Budgets' own reset) lifts the stop.

The execution role may do exactly two things: attach and detach that one policy on that one user
(``iam:PolicyARN`` pinned with ArnEquals, the user's exact ARN as the resource).
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_iam as iam
from constructs import Construct

from runtime.spend import deny_policy_name
from stacks.constructs.monthly_budget import ACTUAL_PERCENT, subscribers
from stacks.spend_settings import SpendSettings

# What a Converse / ConverseStream call (SigV4 or a Bedrock API key) needs; denied on every resource.
DENIED_ACTIONS = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")
STOP_SID = "BudgetStopDenyBedrockInvoke"


def deny_document() -> dict[str, object]:
    """The deny-invoke policy document (AWS Budgets attaches it at actual 100 %).

    >>> deny_document()["Statement"][0]["Effect"], deny_document()["Statement"][0]["Resource"]
    ('Deny', '*')
    """
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": STOP_SID, "Effect": "Deny", "Action": list(DENIED_ACTIONS), "Resource": "*"}],
    }


class BudgetStop(Construct):
    """The unattached deny policy, the execution role, and the ``AWS::Budgets::BudgetsAction``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        user: iam.IUser,
        budget: budgets.CfnBudget,
        budget_name: str,
        stack_name: str,
        spend: SpendSettings,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.policy = iam.ManagedPolicy(
            self,
            "DenyInvoke",
            managed_policy_name=deny_policy_name(stack_name),
            description="Budget stop: denies Bedrock invocation; attached by AWS Budgets, never by the template",
            document=iam.PolicyDocument.from_json(deny_document()),
        )
        self.role = iam.Role(
            self,
            "ExecutionRole",
            description="AWS Budgets: attach/detach the budget-stop policy on the access user, nothing else",
            assumed_by=iam.ServicePrincipal(
                "budgets.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            inline_policies={
                "AttachStopPolicyOnly": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            sid="AttachDetachStopPolicyOnAccessUser",
                            actions=["iam:AttachUserPolicy", "iam:DetachUserPolicy"],
                            resources=[user.user_arn],
                            conditions={"ArnEquals": {"iam:PolicyARN": self.policy.managed_policy_arn}},
                        )
                    ]
                )
            },
        )
        self.action = budgets.CfnBudgetsAction(
            self,
            "Action",
            budget_name=budget_name,
            action_type="APPLY_IAM_POLICY",
            approval_model="AUTOMATIC",
            notification_type="ACTUAL",
            action_threshold=budgets.CfnBudgetsAction.ActionThresholdProperty(type="PERCENTAGE", value=ACTUAL_PERCENT),
            definition=budgets.CfnBudgetsAction.DefinitionProperty(
                iam_action_definition=budgets.CfnBudgetsAction.IamActionDefinitionProperty(
                    policy_arn=self.policy.managed_policy_arn, users=[user.user_name]
                )
            ),
            execution_role_arn=self.role.role_arn,
            subscribers=[
                budgets.CfnBudgetsAction.SubscriberProperty(type=kind, address=address)
                for kind, address in subscribers(spend)
            ],
        )
        self.action.node.add_dependency(budget)
