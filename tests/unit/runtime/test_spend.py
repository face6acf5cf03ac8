"""The spend names and doctor's one line for a tripped budget stop."""

from __future__ import annotations

import json

from runtime.cli.doctor import describe_http_error
from runtime.spend import budget_name, deny_policy_name

EXPLICIT = (
    "bedrock error: User: arn:aws:iam::123456789012:user/u is not authorized to perform: bedrock:InvokeModel "
    "on resource: arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.m "
    "with an explicit deny in an identity-based policy"
)
IMPLICIT = EXPLICIT.replace("with an explicit deny in", "because no").replace("policy", "policy allows")


def body(message: str) -> bytes:
    return json.dumps({"error": {"message": message}}).encode()


def test_doctor_names_the_tripped_budget_in_one_line() -> None:
    line = describe_http_error(403, body(EXPLICIT), "claude-large", "Shop")
    assert "\n" not in line
    assert budget_name("Shop") in line and deny_policy_name("Shop") in line
    assert "python -m stacks.budget reset --stack Shop" in line


def test_an_implicit_deny_is_still_a_missing_grant_not_the_budget() -> None:
    line = describe_http_error(403, body(IMPLICIT), "claude-large", "Shop")
    assert "budget" not in line
    assert "add claude-large to allowed_models" in line
