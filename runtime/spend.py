"""Names the spend controls share between the stack, the operator commands and `doctor`/`usage`
(one owner: the stack builds them from these, the runtime finds them by these).

>>> budget_name("PortkeyBedrockAccess"), deny_policy_name("PortkeyBedrockAccess")
('PortkeyBedrockAccess-bedrock-monthly', 'PortkeyBedrockAccess-budget-stop')
"""

from __future__ import annotations

# The tag every stack puts on its access user, valued with the stack name: activated as a cost
# allocation tag, it tells this user's Bedrock spend apart in Cost Explorer and AWS Budgets.
STACK_TAG_KEY = "portkey-bedrock-access:stack"
RESET_COMMAND = "python -m stacks.budget reset"


def budget_name(stack_name: str) -> str:
    """The AWS Budgets name of a stack's monthly budget."""
    return f"{stack_name}-bedrock-monthly"


def deny_policy_name(stack_name: str) -> str:
    """The name of the stack's deny-invoke managed policy (AWS Budgets attaches it at 100 %)."""
    return f"{stack_name}-budget-stop"


def budget_stop_fix(stack_name: str) -> str:
    """What `doctor` says when an explicit deny stops the key (the stack's only Deny is the stop).

    >>> print(budget_stop_fix("S"))  # doctest: +ELLIPSIS
    an explicit deny: the budget stop (AWS Budgets budget S-bedrock-monthly reached 100 % and attached ...
    """
    return (
        f"an explicit deny: the budget stop (AWS Budgets budget {budget_name(stack_name)} reached 100 % and "
        f"attached {deny_policy_name(stack_name)}) is the stack's only Deny; check it with python -m stacks.budget "
        f"status --stack {stack_name}, lift it with {RESET_COMMAND} --stack {stack_name} (operator)"
    )
