"""The construct that creates the monthly AWS Budgets cost budget of this user's Bedrock spend.

Scope: the stack's cost allocation tag (``user:portkey-bedrock-access:stack$<stack>``), which only
the access user carries, so the budget counts the Bedrock inference cost that AWS attributes to
that IAM principal. AWS sells Anthropic models on Bedrock through AWS Marketplace, so a filter on
the "Amazon Bedrock" service would miss them; the tag does not depend on how billing names them.
The tag must be activated as a cost allocation tag (README "Spend") or the budget stays at $0.
"""

from __future__ import annotations

from aws_cdk import aws_budgets as budgets
from constructs import Construct

from runtime.spend import STACK_TAG_KEY, budget_name
from stacks.spend_settings import SpendSettings

FORECAST_PERCENT = 80
ACTUAL_PERCENT = 100


def tag_filter(stack_name: str) -> str:
    """The AWS Budgets ``TagKeyValue`` cost filter of a stack's user (``user:`` marks a user-defined tag).

    >>> tag_filter("PortkeyBedrockAccess")
    'user:portkey-bedrock-access:stack$PortkeyBedrockAccess'
    """
    return f"user:{STACK_TAG_KEY}${stack_name}"


def subscribers(spend: SpendSettings) -> list[tuple[str, str]]:
    """(SubscriptionType, Address) pairs of the notification target.

    >>> subscribers(SpendSettings(notify_emails=("a@example.com",), notify_topic_arn="arn:aws:sns:us-east-1:1:t"))
    [('EMAIL', 'a@example.com'), ('SNS', 'arn:aws:sns:us-east-1:1:t')]
    """
    pairs = [("EMAIL", email) for email in spend.notify_emails]
    if spend.notify_topic_arn:
        pairs.append(("SNS", spend.notify_topic_arn))
    return pairs


class MonthlyBudget(Construct):
    """A COST budget of ``monthly_budget_usd`` a month; notifications at forecast 80 % and actual 100 %."""

    def __init__(self, scope: Construct, construct_id: str, *, stack_name: str, spend: SpendSettings) -> None:
        super().__init__(scope, construct_id)
        assert spend.monthly_budget_usd is not None
        self.budget_name = budget_name(stack_name)
        targets = [
            budgets.CfnBudget.SubscriberProperty(subscription_type=kind, address=address)
            for kind, address in subscribers(spend)
        ]
        notifications = []
        if targets:
            for kind, percent in (("FORECASTED", FORECAST_PERCENT), ("ACTUAL", ACTUAL_PERCENT)):
                notifications.append(
                    budgets.CfnBudget.NotificationWithSubscribersProperty(
                        notification=budgets.CfnBudget.NotificationProperty(
                            notification_type=kind,
                            comparison_operator="GREATER_THAN",
                            threshold=percent,
                            threshold_type="PERCENTAGE",
                        ),
                        subscribers=targets,
                    )
                )
        self.budget = budgets.CfnBudget(
            self,
            "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=self.budget_name,
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=spend.monthly_budget_usd, unit="USD"),
                cost_filters={"TagKeyValue": [tag_filter(stack_name)]},
            ),
            notifications_with_subscribers=notifications or None,
        )
