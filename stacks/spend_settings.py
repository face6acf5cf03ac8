"""The spend settings (issue 21): cost tags, a monthly budget, who hears about it, and the hard stop.

Parsed here, away from `stacks.config`, which only stores the result in `StackConfig`. Every bad
value raises :class:`ConfigError` with one line naming the context key and the fix.

>>> s = parse_spend({"cost_tags": "team=search,env=prod", "monthly_budget_usd": "25",
...                  "budget_notify": "ops@example.com", "budget_action": "deny"})
>>> s.cost_tags, s.monthly_budget_usd, s.notify_emails, s.budget_action
((('team', 'search'), ('env', 'prod')), 25.0, ('ops@example.com',), 'deny')
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runtime.env import split_list
from runtime.spend import STACK_TAG_KEY
from stacks.context_values import invalid as _fail
from stacks.context_values import is_blank

if TYPE_CHECKING:
    from collections.abc import Mapping

CTX_COST_TAGS = "cost_tags"
CTX_MONTHLY_BUDGET_USD = "monthly_budget_usd"
CTX_BUDGET_NOTIFY = "budget_notify"
CTX_BUDGET_ACTION = "budget_action"
SPEND_CONTEXT_KEYS = (CTX_COST_TAGS, CTX_MONTHLY_BUDGET_USD, CTX_BUDGET_NOTIFY, CTX_BUDGET_ACTION)

BUDGET_ACTION_OFF = "off"
BUDGET_ACTION_DENY = "deny"
BUDGET_ACTIONS = (BUDGET_ACTION_OFF, BUDGET_ACTION_DENY)


# AWS tag rules (IAM TagUser; "Tagging best practices"): key 1-128, value 0-256 characters of
# Unicode letters, digits, white space and _ . : / = + - @; the aws: prefix is reserved; an IAM
# user holds at most 50 tags.
_TAG_KEY = re.compile(r"[\w .:/=+\-@]{1,128}")
_TAG_VALUE = re.compile(r"[\w .:/=+\-@]{0,256}")
MAX_USER_TAGS = 50
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Standard topics only: AWS Budgets does not publish to FIFO topics.
_SNS_ARN = re.compile(r"arn:aws[a-z-]*:sns:[a-z]{2}(-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}")
MAX_EMAIL_SUBSCRIBERS = 10  # AWS Budgets: up to 10 email subscribers per notification


def _blank(value: object) -> bool:
    """Blank as every setting reads it, and ``off`` too (spend settings are off unless set)."""
    return is_blank(value) or (isinstance(value, str) and value.strip().lower() == "off")


def parse_cost_tags(value: object) -> tuple[tuple[str, str], ...]:
    """``"k=v,k2=v2"`` (or a JSON object) as ordered (key, value) pairs, checked against AWS's tag rules.

    >>> parse_cost_tags("team=search, env=prod"), parse_cost_tags({"cc": "42"}), parse_cost_tags("")
    ((('team', 'search'), ('env', 'prod')), (('cc', '42'),), ())
    >>> parse_cost_tags("aws:team=x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    runtime.errors.ConfigError: context key cost_tags='aws:team' is invalid: tag keys may not start with aws:...
    """
    key = CTX_COST_TAGS
    if _blank(value):
        return ()
    if isinstance(value, dict):
        pairs = [(str(k), "" if v is None else str(v)) for k, v in value.items()]
    elif isinstance(value, str):
        pairs = []
        for item in split_list(value) or []:
            name, sep, tag_value = item.partition("=")
            if not sep:
                raise _fail(key, item.strip(), "write key=value pairs separated by commas, e.g. team=search,env=prod")
            pairs.append((name.strip(), tag_value.strip()))
    else:
        raise _fail(key, value, "write key=value pairs separated by commas, e.g. team=search,env=prod")
    seen: set[str] = set()
    for name, tag_value in pairs:
        if name.lower().startswith("aws:"):
            raise _fail(key, name, "tag keys may not start with aws: (reserved by AWS)")
        if not _TAG_KEY.fullmatch(name):
            raise _fail(key, name, "a tag key is 1-128 letters, digits, spaces or _ . : / = + - @")
        if not _TAG_VALUE.fullmatch(tag_value):
            raise _fail(key, tag_value, "a tag value is 0-256 letters, digits, spaces or _ . : / = + - @")
        if name.lower() in seen or name == STACK_TAG_KEY:
            raise _fail(key, name, f"each tag key once (keys are case-insensitive; {STACK_TAG_KEY} is the stack's own)")
        seen.add(name.lower())
    if len(pairs) + 1 > MAX_USER_TAGS:
        raise _fail(key, value, f"an IAM user holds at most {MAX_USER_TAGS} tags, one of them the stack's")
    return tuple(pairs)


def parse_budget(value: object) -> float | None:
    """The monthly budget in USD: a positive number (unset: no budget).

    >>> parse_budget("12.50"), parse_budget(None), parse_budget(3)
    (12.5, None, 3.0)
    >>> parse_budget("-1")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    runtime.errors.ConfigError: context key monthly_budget_usd='-1' is invalid: use a positive number of US dollars...
    """
    if _blank(value):
        return None
    fix = "use a positive number of US dollars such as 50 (or leave it unset for no budget)"
    if isinstance(value, bool):
        raise _fail(CTX_MONTHLY_BUDGET_USD, value, fix)
    try:
        amount = float(value) if isinstance(value, int | float | str) else math.nan
    except ValueError:
        raise _fail(CTX_MONTHLY_BUDGET_USD, value, fix) from None
    if not math.isfinite(amount) or amount <= 0:
        raise _fail(CTX_MONTHLY_BUDGET_USD, value, fix)
    return amount


def parse_notify(value: object) -> tuple[tuple[str, ...], str | None]:
    """Email addresses and at most one SNS topic ARN, comma-separated (or a JSON list).

    >>> parse_notify("a@example.com, arn:aws:sns:us-east-1:111122223333:alerts")
    (('a@example.com',), 'arn:aws:sns:us-east-1:111122223333:alerts')
    >>> parse_notify("not-an-address")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    runtime.errors.ConfigError: context key budget_notify='not-an-address' is invalid: ...
    """
    key = CTX_BUDGET_NOTIFY
    if _blank(value):
        return (), None
    try:
        items = split_list(value) or []
    except TypeError:
        raise _fail(key, value, "use a comma list of email addresses and/or one SNS topic ARN") from None
    emails: list[str] = []
    topic: str | None = None
    for item in items:
        if item.startswith("arn:"):
            if not _SNS_ARN.fullmatch(item):
                raise _fail(key, item, "an SNS topic ARN looks like arn:aws:sns:us-east-1:111122223333:name (no FIFO)")
            if topic is not None and topic != item:
                raise _fail(key, item, "name at most one SNS topic ARN")
            topic = item
        elif _EMAIL.fullmatch(item):
            if item not in emails:
                emails.append(item)
        else:
            raise _fail(key, item, "use email addresses such as ops@example.com and/or one SNS topic ARN")
    if len(emails) > MAX_EMAIL_SUBSCRIBERS:
        raise _fail(key, value, f"AWS Budgets takes at most {MAX_EMAIL_SUBSCRIBERS} email addresses; use an SNS topic")
    return tuple(emails), topic


@dataclass(frozen=True)
class SpendSettings:
    """The parsed spend settings; the defaults switch everything off."""

    cost_tags: tuple[tuple[str, str], ...] = ()
    monthly_budget_usd: float | None = None
    notify_emails: tuple[str, ...] = ()
    notify_topic_arn: str | None = None
    budget_action: str = BUDGET_ACTION_OFF

    @property
    def notifies(self) -> bool:
        return bool(self.notify_emails or self.notify_topic_arn)


def parse_spend(context: Mapping[str, Any]) -> SpendSettings:
    """Validate the four spend keys of a context mapping (missing keys: off).

    >>> parse_spend({"budget_action": "deny"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    runtime.errors.ConfigError: context key budget_action='deny' is invalid: deny needs a budget: ...
    """
    tags = parse_cost_tags(context.get(CTX_COST_TAGS))
    budget = parse_budget(context.get(CTX_MONTHLY_BUDGET_USD))
    emails, topic = parse_notify(context.get(CTX_BUDGET_NOTIFY))
    action_value = context.get(CTX_BUDGET_ACTION)
    action = BUDGET_ACTION_OFF if action_value is None or action_value == "" else action_value
    if not isinstance(action, str) or action.strip().lower() not in BUDGET_ACTIONS:
        raise _fail(CTX_BUDGET_ACTION, action_value, f"use one of: {', '.join(BUDGET_ACTIONS)}")
    action = action.strip().lower()
    if action == BUDGET_ACTION_DENY and budget is None:
        fix = "deny needs a budget: set monthly_budget_usd (e.g. -c monthly_budget_usd=50)"
        raise _fail(CTX_BUDGET_ACTION, action_value, fix)
    if action == BUDGET_ACTION_DENY and not (emails or topic):
        raise _fail(
            CTX_BUDGET_ACTION,
            action_value,
            "AWS Budgets needs someone to tell when it stops the key: set budget_notify (an email or an SNS topic ARN)",
        )
    if budget is None and (emails or topic):
        fix = "notifications need a budget: set monthly_budget_usd"
        raise _fail(CTX_BUDGET_NOTIFY, context.get(CTX_BUDGET_NOTIFY), fix)
    return SpendSettings(
        cost_tags=tags,
        monthly_budget_usd=budget,
        notify_emails=emails,
        notify_topic_arn=topic,
        budget_action=action,
    )
