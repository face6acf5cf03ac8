"""The spend constructs as the settings ask for them (issue 21): cost tags always; with a budget,
the budget, then the hard stop (``budget_action=deny``) and the alarms (when someone is notified)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Stack
from constructs import Construct

from stacks.constructs.budget_stop import BudgetStop
from stacks.constructs.cost_tags import CostTags
from stacks.constructs.invoke_alarms import InvokeAlarms
from stacks.constructs.monthly_budget import MonthlyBudget
from stacks.spend_settings import BUDGET_ACTION_DENY, SpendSettings

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aws_cdk import aws_iam as iam


class SpendControls(Construct):
    """Wires `CostTags`, `MonthlyBudget`, `BudgetStop` and `InvokeAlarms` for one access user."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        user: iam.IUser,
        spend: SpendSettings,
        region: str,
        model_ids: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        stack_name = Stack.of(self).stack_name
        self.tags = CostTags(self, "CostTags", user=user, stack_name=stack_name, tags=spend.cost_tags)
        self.budget: MonthlyBudget | None = None
        self.stop: BudgetStop | None = None
        self.alarms: InvokeAlarms | None = None
        if spend.monthly_budget_usd is None:
            return
        self.budget = MonthlyBudget(self, "Budget", stack_name=stack_name, spend=spend)
        if spend.budget_action == BUDGET_ACTION_DENY:
            self.stop = BudgetStop(
                self,
                "Stop",
                user=user,
                budget=self.budget.budget,
                budget_name=self.budget.budget_name,
                stack_name=stack_name,
                spend=spend,
            )
        if spend.notifies:
            self.alarms = InvokeAlarms(self, "Alarms", region=region, model_ids=model_ids, spend=spend)
