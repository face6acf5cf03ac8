"""The spend settings: each good value parsed, each bad one a one-line ConfigError naming its key."""

from __future__ import annotations

import pytest

from runtime.errors import ConfigError
from runtime.spend import STACK_TAG_KEY
from stacks.config import CONTEXT_KEYS, StackConfig, cdk_json_context
from stacks.spend_settings import (
    BUDGET_ACTION_DENY,
    SPEND_CONTEXT_KEYS,
    parse_spend,
)

GOOD = {
    "cost_tags": "team=search,env=prod",
    "monthly_budget_usd": "50",
    "budget_notify": "ops@example.com,arn:aws:sns:us-east-1:111122223333:alerts",
    "budget_action": "deny",
}


def test_every_spend_key_is_a_context_key_with_an_off_default_in_cdk_json() -> None:
    context = cdk_json_context()
    for key in SPEND_CONTEXT_KEYS:
        assert key in CONTEXT_KEYS
        assert key in context
    spend = StackConfig.from_mapping(context, environ={}).spend
    assert (spend.cost_tags, spend.monthly_budget_usd, spend.notifies, spend.budget_action) == ((), None, False, "off")


def test_good_settings_reach_the_stack_config() -> None:
    spend = StackConfig.from_mapping(GOOD, environ={}).spend
    assert spend.cost_tags == (("team", "search"), ("env", "prod"))
    assert spend.monthly_budget_usd == 50.0
    assert spend.notify_emails == ("ops@example.com",)
    assert spend.notify_topic_arn == "arn:aws:sns:us-east-1:111122223333:alerts"
    assert spend.budget_action == BUDGET_ACTION_DENY


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"monthly_budget_usd": "-5"}, "monthly_budget_usd"),
        ({"monthly_budget_usd": "0"}, "monthly_budget_usd"),
        ({"monthly_budget_usd": "lots"}, "monthly_budget_usd"),
        ({"monthly_budget_usd": "nan"}, "monthly_budget_usd"),
        ({"monthly_budget_usd": None}, "budget_action"),  # deny without a budget
        ({"budget_notify": "ops@"}, "budget_notify"),
        ({"budget_notify": "arn:aws:sns:us-east-1:1:t"}, "budget_notify"),
        ({"budget_notify": "arn:aws:sns:us-east-1:111122223333:t.fifo"}, "budget_notify"),
        ({"budget_notify": ""}, "budget_action"),  # deny with nobody to tell
        ({"budget_action": "stop"}, "budget_action"),
        ({"cost_tags": "aws:team=x"}, "cost_tags"),
        ({"cost_tags": "team"}, "cost_tags"),
        ({"cost_tags": "team=a,TEAM=b"}, "cost_tags"),
        ({"cost_tags": "t=" + "v" * 257}, "cost_tags"),
        ({"cost_tags": "k" * 129 + "=v"}, "cost_tags"),
        ({"cost_tags": "team=a;b"}, "cost_tags"),
        ({"cost_tags": f"{STACK_TAG_KEY}=mine"}, "cost_tags"),
        ({"cost_tags": ",".join(f"k{i}=v" for i in range(50))}, "cost_tags"),
    ],
)
def test_bad_input_is_one_line_naming_the_key(overrides: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        StackConfig.from_mapping({**GOOD, **overrides}, environ={})
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"context key {key}=")


def test_notify_without_a_budget_is_an_error_and_budget_alone_is_fine() -> None:
    with pytest.raises(ConfigError, match="budget_notify"):
        parse_spend({"budget_notify": "ops@example.com"})
    assert parse_spend({"monthly_budget_usd": 10}).monthly_budget_usd == 10.0
    assert parse_spend({"cost_tags": "a b=c d"}).cost_tags == (("a b", "c d"),)
