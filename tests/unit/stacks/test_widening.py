"""stacks/widening.py: what a deploy adds to the deployed grant (pure; each kind widens and narrows)."""

import pytest

from stacks.widening import compare

DEPLOYED = {
    "region": "us-east-1",
    "allowed_models": ["claude-haiku-4.5", "claude-sonnet-4.6"],
    "source_regions": ["us-east-1", "us-west-2"],
    "api_keys": "off",
    "policy_mode": "least-privilege",
    "kms_principals": ["arn:aws:iam::111122223333:role/ci"],
}


@pytest.mark.parametrize(
    ("change", "added"),
    [
        ({"allowed_models": ["claude-haiku-4.5", "claude-sonnet-4.6", "claude-opus-4.6"]}, "models: claude-opus-4.6"),
        ({"source_regions": ["us-east-1", "us-west-2", "us-east-2"]}, "source regions: us-east-2"),
        ({"api_keys": "short-term"}, "actions: api_keys=short-term (bedrock:CallWithBearerToken)"),
        ({"policy_mode": "full"}, "actions: policy_mode=full (AWS-managed AmazonBedrockFullAccess)"),
        ({"kms_principals": ["arn:aws:iam::111122223333:role/ci", "arn:aws:iam::444455556666:root"]},
         "KMS principals: arn:aws:iam::444455556666:root"),
    ],
)  # fmt: skip
def test_each_widening_is_named_and_its_reverse_is_a_narrowing(change, added):
    wider = {**DEPLOYED, **change}
    widening = compare(DEPLOYED, wider)
    assert widening.widens and widening.added == (added,) and widening.removed == ()
    narrowing = compare(wider, DEPLOYED)
    assert not narrowing.widens and narrowing.removed == (added,)


def test_source_regions_default_to_the_deploy_region():
    alone = {**DEPLOYED, "source_regions": []}
    assert compare(alone, {**alone, "source_regions": ["us-east-1"]}).lines() == []
    assert compare(alone, {**alone, "source_regions": ["us-west-2"]}).added == ("source regions: us-west-2",)


@pytest.mark.parametrize(
    ("before", "after", "line"),
    [
        ({"principal": "user"}, {"principal": "both", "role_trust": "ecs-tasks.amazonaws.com"}, "principals: role"),
        (
            {"principal": "role", "role_trust": "lambda.amazonaws.com"},
            {"principal": "both", "role_trust": "lambda.amazonaws.com"},
            "principals: user",
        ),
        (
            {"principal": "role", "role_trust": "arn:aws:iam::111122223333:role/a"},
            {"principal": "role", "role_trust": "arn:aws:iam::111122223333:role/a,arn:aws:iam::444455556666:root"},
            "role trust: arn:aws:iam::444455556666:root",
        ),
        (
            {"principal": "role", "role_trust": "x", "role_external_id": "e1"},
            {"principal": "role", "role_trust": "x"},
            "role trust: role_external_id removed (sts:ExternalId no longer required)",
        ),
        (
            {"secret_readers": ["arn:aws:iam::111122223333:role/ci"]},
            {"secret_readers": []},
            "secret readers: the resource policy is removed (any principal with IAM rights may read)",
        ),
        (
            {"monthly_budget_usd": 10, "budget_action": "deny"},
            {"monthly_budget_usd": 10, "budget_action": "off"},
            "budget stop: budget_action=deny removed",
        ),
    ],
)
def test_who_may_call_widens_and_its_reverse_narrows(before, after, line):
    widening = compare(before, after)
    assert widening.widens and f"  + {line}" in widening.lines()
    assert not compare(after, before).widens  # the way back never needs the flag
