"""Several source regions: the policy grants each allowed model's offer from each of them."""

from __future__ import annotations

import pytest

from runtime.catalog import load_catalog
from runtime.constants import OUTPUT_SOURCE_REGIONS
from runtime.errors import ConfigError
from stacks.bedrock_policy import PolicyValidationError, build_statements, split_statements
from stacks.checks.scanners import policy_documents
from stacks.config import StackConfig
from stacks.source_regions import build_region_statements

ACCOUNT = "111122223333"
HAIKU_PROFILE = "inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1:0"


def resources(statements):
    return {r for s in statements for r in s["Resource"]}


def test_one_region_is_exactly_the_single_region_builder():
    catalog = load_catalog()
    assert build_region_statements(catalog, ["us-east-1"], ACCOUNT) == build_statements(catalog, "us-east-1", ACCOUNT)


def test_two_regions_grant_the_profile_in_each_and_the_model_only_through_each_profile():
    statements = build_region_statements(load_catalog(), ["us-east-1", "us-west-2"], ACCOUNT, ["claude-haiku-4.5"])
    assert f"arn:aws:bedrock:us-east-1:{ACCOUNT}:{HAIKU_PROFILE}" in resources(statements)
    assert f"arn:aws:bedrock:us-west-2:{ACCOUNT}:{HAIKU_PROFILE}" in resources(statements)
    conditions = sorted(
        s["Condition"]["StringEquals"]["bedrock:InferenceProfileArn"] for s in statements if "Condition" in s
    )
    assert conditions == [
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:{HAIKU_PROFILE}",
        f"arn:aws:bedrock:us-west-2:{ACCOUNT}:{HAIKU_PROFILE}",
    ]
    assert len({s["Sid"] for s in statements}) == len(statements)


def test_a_region_not_granted_is_absent():
    statements = build_region_statements(load_catalog(), ["us-east-1", "us-west-2"], ACCOUNT, ["claude-haiku-4.5"])
    assert not any(":us-east-2:" in r for r in resources(statements))


def test_all_models_in_two_regions_still_split_under_iams_limit():
    statements = build_region_statements(load_catalog(), ["us-east-1", "us-west-2", "us-east-2"], ACCOUNT)
    parts = split_statements(statements)
    assert sum(len(p) for p in parts) == len(statements)


def test_a_model_not_offered_in_a_source_region_fails_in_one_line_naming_both():
    with pytest.raises(PolicyValidationError) as err:
        build_region_statements(load_catalog(), ["us-east-1", "sa-east-1"], ACCOUNT, ["claude-haiku-4.5"])
    message = str(err.value)
    assert "\n" not in message
    assert "claude-haiku-4.5" in message
    assert "sa-east-1" in message


def test_config_reads_source_regions_and_defaults_to_the_deploy_region():
    config = StackConfig.from_mapping({"region": "us-east-1", "source_regions": "us-east-1, us-west-2"}, environ={})
    assert config.policy_regions == ("us-east-1", "us-west-2")
    assert StackConfig.from_mapping({"region": "eu-west-1"}, environ={}).policy_regions == ("eu-west-1",)


def test_config_rejects_an_explicit_model_not_offered_in_a_source_region():
    with pytest.raises(ConfigError, match=r"claude-haiku-4\.5 is not offered from source region sa-east-1"):
        StackConfig.from_mapping(
            {"region": "us-east-1", "source_regions": "us-east-1,sa-east-1", "allowed_models": "claude-haiku-4.5"},
            environ={},
        )


def test_config_rejects_a_malformed_source_region():
    with pytest.raises(ConfigError, match="source_regions"):
        StackConfig.from_mapping({"region": "us-east-1", "source_regions": "us-east-1,nowhere"}, environ={})


def test_all_means_the_models_offered_in_every_source_region():
    config = StackConfig.from_mapping({"region": "us-east-1", "source_regions": "us-east-1,sa-east-1"}, environ={})
    assert "claude-haiku-4.5" not in config.allowed_models  # no offer from sa-east-1
    assert "claude-sonnet-4.6" in config.allowed_models  # its global profile is


@pytest.mark.slow
def test_synthesized_two_region_stack_grants_both_and_lists_them(synthesized):
    template = synthesized.templates["TwoRegions"]
    assert template["Outputs"][OUTPUT_SOURCE_REGIONS]["Value"] == "us-east-1,us-west-2"
    text = repr(policy_documents(template))
    assert ":us-west-2:" in text
    assert ":us-east-1:" in text


@pytest.mark.slow
def test_synthesized_default_stack_lists_its_one_region(default_template):
    assert default_template["Outputs"][OUTPUT_SOURCE_REGIONS]["Value"] == "us-east-1"
    assert ":us-west-2:" not in repr(policy_documents(default_template))


def test_more_grants_than_ten_managed_policies_hold_fail_in_one_line():
    regions = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "ca-west-1", "sa-east-1"]
    regions += ["mx-central-1", "eu-west-1", "eu-central-1", "eu-west-2", "eu-west-3", "eu-north-1"]
    with pytest.raises(PolicyValidationError, match=r"more than the 10 IAM attaches to one user") as err:
        build_region_statements(load_catalog(), regions, "${Token[AWS.AccountId.8]}", partition="${Token[P.9]}")
    assert "\n" not in str(err.value)
