"""python -m stacks.budget: the operator's side of the budget stop (``budget_action=deny``).

    python -m stacks.budget status [--stack NAME]   # is the stop in force? (one line)
    python -m stacks.budget reset  [--stack NAME]   # lift it: detach the deny policy, reset the action

AWS Budgets attaches the stack's deny-invoke policy (``<stack>-budget-stop``) to the access user
when actual spend reaches 100 % of ``monthly_budget_usd``. Nothing in the template attaches it, so
a deploy or a key rotation leaves it in force; only this command (operator credentials: IAM
DetachUserPolicy on the user) or AWS Budgets' own reset lifts it. ``reset`` detaches the policy,
then asks AWS Budgets to reset the action (``ExecuteBudgetAction`` RESET_BUDGET_ACTION) so it can
fire again; where AWS Budgets cannot be reached, the line says so and the stop is still lifted.
Exit 0 on success (status: no stop in force), 3 when status finds the stop in force, 1 when AWS
refuses, 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from runtime.constants import DEFAULT_STACK_NAME, OUTPUT_USER_NAME
from runtime.errors import PortkeyBedrockError
from runtime.spend import budget_name, deny_policy_name
from stacks.cdk_cli import Target, account_of
from stacks.deploy import LocalTarget, add_location_arguments, read_deployed, resolve_target


class BudgetError(PortkeyBedrockError):
    """The stack is not deployed, or has no access user output."""


def access_user(target: Target, stack: str) -> str:
    deployed = read_deployed(target, stack)
    if deployed is None:
        raise BudgetError(f"stack {stack} is not deployed here; pass --stack NAME (and the account's credentials)")
    user = deployed.outputs.get(OUTPUT_USER_NAME)
    if not user:
        raise BudgetError(f"stack {stack} has no {OUTPUT_USER_NAME} output; redeploy it (python -m stacks.deploy)")
    return user


def stop_policy_arn(target: Target, stack: str, user: str) -> str | None:
    """The deny policy's ARN when it is attached to `user` (the stop is in force), else None."""
    iam = target.client("iam")
    wanted = deny_policy_name(stack)
    for page in iam.get_paginator("list_attached_user_policies").paginate(UserName=user):
        for policy in page["AttachedPolicies"]:
            if policy["PolicyName"] == wanted:
                return str(policy["PolicyArn"])
    return None


def status(target: Target, stack: str) -> tuple[bool, str]:
    """(in force, the line to print)."""
    user = access_user(target, stack)
    arn = stop_policy_arn(target, stack, user)
    if arn is None:
        return False, f"no budget stop in force on {user} (budget {budget_name(stack)})"
    return True, (
        f"budget stop in force: {deny_policy_name(stack)} is attached to {user} (budget {budget_name(stack)}); "
        f"lift it with python -m stacks.budget reset --stack {stack}"
    )


def _reset_budget_action(target: Target, stack: str) -> str:
    """Ask AWS Budgets to reset the stack's executed action; a short note on what happened."""
    from botocore.exceptions import BotoCoreError, ClientError

    budgets: Any = target.client("budgets")
    try:
        account = account_of(target)
        actions = budgets.describe_budget_actions_for_budget(AccountId=account, BudgetName=budget_name(stack))
        reset = 0
        for action in actions.get("Actions", []):
            if action.get("Status") in ("ACTION_EXECUTED_SUCCESSFULLY", "ACTION_EXECUTION_IN_PROGRESS"):
                budgets.execute_budget_action(
                    AccountId=account,
                    BudgetName=budget_name(stack),
                    ActionId=action["ActionId"],
                    ExecutionType="RESET_BUDGET_ACTION",
                )
                reset += 1
    except (BotoCoreError, ClientError, NotImplementedError) as err:  # NotImplementedError: in-process moto
        return f"AWS Budgets action not reset ({str(err).splitlines()[0][:120]})"
    return "AWS Budgets action reset" if reset else "no executed AWS Budgets action to reset"


def reset(target: Target, stack: str) -> str:
    """AWS Budgets' own reset of the action first (it detaches the policy and lets the action fire
    again), then detach the deny policy directly if it is still attached (Budgets unreachable, the
    reset still in progress, or local AWS, which has no budget actions)."""
    user = access_user(target, stack)
    was_attached = stop_policy_arn(target, stack, user) is not None
    note = _reset_budget_action(target, stack)
    arn = stop_policy_arn(target, stack, user)
    if arn is not None:
        target.client("iam").detach_user_policy(UserName=user, PolicyArn=arn)
    if not was_attached:
        return f"no budget stop in force on {user}; {note}"
    return f"budget stop lifted: {deny_policy_name(stack)} detached from {user}; {note}"


def main(argv: list[str] | None = None, *, local_target: LocalTarget | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stacks.budget", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("status", "reset"))
    parser.add_argument("--stack", default=DEFAULT_STACK_NAME)
    add_location_arguments(parser)
    args = parser.parse_args(argv)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        target = resolve_target(args.local, args.profile, local_target)
        if args.command == "status":
            in_force, line = status(target, args.stack)
        else:
            in_force, line = False, reset(target, args.stack)
    except PortkeyBedrockError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as err:
        print(f"error: budget {args.command} of {args.stack} failed: {str(err).splitlines()[0]}", file=sys.stderr)
        return 1
    print(line)
    return 3 if in_force else 0


if __name__ == "__main__":
    sys.exit(main())
