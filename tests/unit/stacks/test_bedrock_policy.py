"""The pure policy builder: exact ARNs from the catalog, nothing else (no CDK, fast)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime.catalog import CATALOG_PATH, load_catalog
from runtime.errors import PortkeyBedrockError, RegionError
from stacks.bedrock_policy import (
    INVOKE_ACTIONS,
    PolicyValidationError,
    build_statements,
    foundation_model_arn,
    inference_profile_arn,
    statement_sid,
    validate_statements,
)

ACCOUNT = "111122223333"
SONNET_45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"
OPUS_45 = "anthropic.claude-opus-4-5-20251101-v1:0"


def by_sid(statements):
    return {s["Sid"]: s for s in statements}


def all_resources(statements):
    return [r for s in statements for r in s["Resource"]]


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (
            lambda: inference_profile_arn("aws", "us-east-1", ACCOUNT, "us.anthropic.m-v1:0"),
            "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.m-v1:0",
        ),
        (
            lambda: foundation_model_arn("aws", "eu-west-1", "anthropic.m-v1:0"),
            "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.m-v1:0",
        ),
        (
            lambda: foundation_model_arn("aws", "", "anthropic.m-v1:0"),
            "arn:aws:bedrock:::foundation-model/anthropic.m-v1:0",
        ),
        (lambda: statement_sid("Profile", "claude-sonnet-4.5"), "ProfileClaudeSonnet45"),
        (lambda: statement_sid("Model", "claude-large"), "ModelClaudeLarge"),
    ],
)
def test_docstring_examples(call, expected):
    assert call() == expected


def test_every_statement_allows_exactly_the_two_invoke_actions():
    statements = build_statements(load_catalog(), "us-east-1", ACCOUNT)
    assert {tuple(s["Action"]) for s in statements} == {
        ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")
    }
    assert all(s["Effect"] == "Allow" for s in statements)


def test_geo_profile_in_us_east_1_grants_profile_and_three_us_destinations_with_condition():
    statements = by_sid(build_statements(load_catalog(), "us-east-1", ACCOUNT, ["claude-sonnet-4.5"]))
    profile_arn = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.{SONNET_45}"
    assert statements["ProfileClaudeSonnet45"]["Resource"] == [profile_arn]
    assert "Condition" not in statements["ProfileClaudeSonnet45"]
    model = statements["ModelClaudeSonnet45"]
    catalog = load_catalog()
    routed = catalog.destinations(catalog.model("claude-sonnet-4.5"), "us-east-1")
    assert routed == ("us-east-1", "us-east-2", "us-west-2")  # AWS's table for this source region
    granted = {arn.split(":")[3] for arn in model["Resource"]}
    assert set(routed) <= granted
    assert model["Condition"] == {"StringEquals": {"bedrock:InferenceProfileArn": profile_arn}}


def test_geo_destinations_come_from_the_catalog_geography():
    catalog = load_catalog()
    for region in ("us-east-1", "eu-west-1", "ap-northeast-1"):
        granted: dict[str, set[str]] = {}
        for statement in build_statements(catalog, region, ACCOUNT):
            if statement["Sid"].startswith("Profile"):
                continue
            profile = statement["Condition"]["StringEquals"]["bedrock:InferenceProfileArn"]
            regions = granted.setdefault(profile, set())
            regions.update(arn.split(":")[3] for arn in statement["Resource"])
        for profile, regions in granted.items():
            scope = profile.rsplit("/", 1)[1].split(".", 1)[0]
            if scope == "global":
                assert regions == {region, ""}
            else:
                assert regions == set(catalog.geographies[scope].destination_regions) | {region}


def test_global_profile_grants_profile_regional_and_regionless_foundation_model():
    statements = by_sid(build_statements(load_catalog(), "us-east-1", ACCOUNT, ["claude-large"]))
    profile_arn = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/global.{OPUS_45}"
    assert statements["ProfileClaudeLarge"]["Resource"] == [profile_arn]
    assert statements["ModelClaudeLarge"]["Resource"] == [f"arn:aws:bedrock:us-east-1::foundation-model/{OPUS_45}"]
    assert statements["ModelClaudeLarge"]["Condition"] == {
        "StringEquals": {"bedrock:InferenceProfileArn": profile_arn, "aws:RequestedRegion": "us-east-1"}
    }
    assert statements["GlobalModelClaudeLarge"]["Resource"] == [f"arn:aws:bedrock:::foundation-model/{OPUS_45}"]
    assert statements["GlobalModelClaudeLarge"]["Condition"] == {
        "StringEquals": {"bedrock:InferenceProfileArn": profile_arn, "aws:RequestedRegion": "unspecified"}
    }


def test_eu_west_1_uses_the_eu_profile_and_eu_destinations():
    catalog = load_catalog()
    statements = by_sid(build_statements(catalog, "eu-west-1", ACCOUNT, ["claude-sonnet-4.5"]))
    assert statements["ProfileClaudeSonnet45"]["Resource"] == [
        f"arn:aws:bedrock:eu-west-1:{ACCOUNT}:inference-profile/eu.{SONNET_45}"
    ]
    resources = statements["ModelClaudeSonnet45"]["Resource"]
    assert resources == [
        f"arn:aws:bedrock:{r}::foundation-model/{SONNET_45}" for r in catalog.geographies["eu"].destination_regions
    ]
    assert not any(":us-" in arn or "/us." in arn for arn in all_resources(statements.values()))


def test_restricting_allowed_models_shrinks_the_policy():
    catalog = load_catalog()
    everything = build_statements(catalog, "us-east-1", ACCOUNT)
    only_large = build_statements(catalog, "us-east-1", ACCOUNT, ["claude-large"])
    assert len(only_large) == 3 < len(everything)
    text = json.dumps(only_large)
    for model in catalog.models:
        assert (model.model_id in text) == (model.name == "claude-large")


def test_model_not_offered_in_region_is_a_clear_error():
    # claude-sonnet-4 has no jp/au geography but apac; claude-large is global. Pick a region
    # with no geography at all: only global models are offered there.
    with pytest.raises(RegionError, match="is not offered from region ap-east-1"):
        build_statements(load_catalog(), "ap-east-1", ACCOUNT, ["claude-sonnet-4.5"])


def test_no_wildcard_anywhere_in_the_built_policy():
    for region in ("us-east-1", "eu-west-1", "ap-northeast-1", "ap-southeast-2"):
        text = json.dumps(build_statements(load_catalog(), region, ACCOUNT))
        assert "*" not in text and "?" not in text


GOOD = {"Sid": "A", "Effect": "Allow", "Action": list(INVOKE_ACTIONS), "Resource": ["arn:aws:bedrock:x"]}


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"Resource": ["*"]}, "wildcard resource"),
        ({"Resource": ["arn:aws:bedrock:us-east-1::foundation-model/*"]}, "wildcard resource"),
        ({"Action": ["bedrock:*"]}, "wildcard action"),
        ({"Action": ["bedrock:InvokeModel*"]}, "wildcard action"),
        ({"Action": ["bedrock:CreateModelCustomizationJob"]}, "only bedrock:InvokeModel"),
        ({"Effect": "Deny"}, "not an Allow"),
        ({"NotResource": ["arn:x"]}, "NotResource"),
        ({"Resource": []}, "no Resource"),
    ],
)
def test_validator_rejects_injected_wildcards_and_extra_grants(patch, message):
    validate_statements([GOOD])  # the passing case
    with pytest.raises(PolicyValidationError, match=message) as info:
        validate_statements([{**GOOD, **patch}])
    assert isinstance(info.value, PortkeyBedrockError)
    assert "\n" not in str(info.value)


def test_builder_rejects_a_wildcard_injected_through_the_catalog(tmp_path):
    data = json.loads(Path(CATALOG_PATH).read_text(encoding="utf-8"))
    data["models"][0]["model_id"] = "anthropic.*"
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(PolicyValidationError, match="wildcard resource"):
        build_statements(load_catalog(str(path)), "us-east-1", ACCOUNT)


def test_catalog_change_shows_up_in_the_policy_without_code_change(tmp_path):
    data = json.loads(Path(CATALOG_PATH).read_text(encoding="utf-8"))
    source = data["models"][0]["sources"][0]
    data["models"].append(
        {
            "name": "claude-test",
            "aliases": [],
            "provider": "anthropic",
            "family": "claude-test",
            "model_id": "anthropic.claude-test-20990101-v1:0",
            "lifecycle": {"status": "active", "source": source},
            "limits": {"max_output_tokens": 1024, "default_max_tokens": 1024},
            "capabilities": {"prompt_caching": False, "vision": False, "streaming": True},
            "sources": [source],
            "offers": [
                {
                    "kind": "inference-profile",
                    "scope": "us",
                    "profile_id": "us.anthropic.claude-test-20990101-v1:0",
                    "routes": {"us-east-1": ["us-east-1", "us-east-2", "us-west-1", "us-west-2"]},
                    "source": source,
                }
            ],
        }
    )
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    statements = by_sid(build_statements(load_catalog(str(path)), "us-east-1", ACCOUNT))
    assert statements["ProfileClaudeTest"]["Resource"] == [
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.anthropic.claude-test-20990101-v1:0"
    ]
    assert (
        "arn:aws:bedrock:us-west-1::foundation-model/anthropic.claude-test-20990101-v1:0"
        in (statements["ModelClaudeTest"]["Resource"])
    )
    assert f"arn:aws:bedrock:us-west-1::foundation-model/{SONNET_45}" in statements["ModelClaudeSonnet45"]["Resource"]
    # the packaged catalog is untouched
    assert "ProfileClaudeTest" not in by_sid(build_statements(load_catalog(), "us-east-1", ACCOUNT))
