"""stacks/deployed_config.py: the baseline rules and the refusal, without AWS."""

import pytest

from stacks.deployed_config import DeployedConfig, WideningRefused, baseline_context, check_deploy, resolve_settings

CDK_JSON = {"allowed_models": "all", "api_keys": "off", "policy_mode": "least-privilege", "source_regions": None}
RECORD = DeployedConfig(
    {"allowed_models": ["claude-haiku-4.5"], "api_keys": "short-term", "policy_mode": "least-privilege",
     "source_regions": ["us-east-1", "us-west-2"], "region": "us-east-1", "kms_principals": []},
    dict(CDK_JSON),
)  # fmt: skip


class Deployed:
    config = RECORD


def test_the_deployed_value_wins_over_an_unchanged_cdk_json_and_loses_to_intent():
    assert baseline_context({}, CDK_JSON, RECORD)["allowed_models"] == ["claude-haiku-4.5"]
    assert baseline_context({"allowed_models": "claude-sonnet-4.6"}, CDK_JSON, RECORD)["allowed_models"] == (
        "claude-sonnet-4.6"
    )
    edited = {**CDK_JSON, "api_keys": "short-term", "policy_mode": "full"}  # cdk.json edited since the deploy
    assert baseline_context({}, edited, RECORD)["policy_mode"] == "full"
    assert baseline_context({"policy_mode": "full"}, edited, RECORD, exact=True)["policy_mode"] == "least-privilege"
    assert "region" not in baseline_context({"region": "eu-west-1"}, CDK_JSON, RECORD)  # location: never a baseline


def test_resolve_refuses_a_widening_shows_it_and_allows_it_with_the_flag():
    said: list[str] = []
    environ = {"CDK_DEFAULT_REGION": "us-east-1"}
    wide = {"allowed_models": "claude-haiku-4.5,claude-opus-4.6"}
    with pytest.raises(WideningRefused, match=r"\(models: claude-opus-4\.6\).*pass --allow-widening"):
        resolve_settings("S", wide, CDK_JSON, Deployed(), environ=environ, allow_widening=False,
                         flag="--allow-widening", say=said.append)  # fmt: skip
    assert "  allowed_models: claude-haiku-4.5 -> claude-haiku-4.5,claude-opus-4.6" in said
    assert "  + models: claude-opus-4.6" in said
    chosen = resolve_settings("S", wide, CDK_JSON, Deployed(), environ=environ, allow_widening=True,
                              flag="--allow-widening", say=said.append)  # fmt: skip
    assert chosen["allowed_models"] == wide["allowed_models"]
    narrow = {"api_keys": "off"}  # narrowing: no flag, no refusal
    assert resolve_settings("S", narrow, CDK_JSON, Deployed(), environ=environ, allow_widening=False,
                            flag="--allow-widening", say=said.append)["api_keys"] == "off"  # fmt: skip


def test_nothing_to_compare_without_a_deployed_stack():
    check_deploy("S", None, {"policy_mode": "full"}, allow_widening=False, flag="x", say=pytest.fail)
