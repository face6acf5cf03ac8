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
