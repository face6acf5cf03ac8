"""The pure policy builder and its validator: exact ARNs from the catalog, one narrow `*` (no CDK)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from runtime.catalog.model import CATALOG_PATH, load_catalog
from runtime.constants import OUTPUT_SOURCE_REGIONS
from runtime.errors import ConfigError, EndOfLifeError, PortkeyBedrockError, RegionError
from stacks.bedrock_policy import (
    INVOKE_ACTIONS,
    MANAGED_POLICY_MAX_CHARS,
    PolicyValidationError,
    build_statements,
    check_policy_mode,
    foundation_model_arn,
    inference_profile_arn,
    policy_size,
    split_statements,
    statement_sid,
    validate_statements,
)
from stacks.checks.scanners import policy_documents
from stacks.config import StackConfig

ACCOUNT = "111122223333"
SONNET_45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"
OPUS_45 = "anthropic.claude-opus-4-5-20251101-v1:0"
TEST_ID = "anthropic.claude-test-20990101-v1:0"


def by_sid(statements):
    return {s["Sid"]: s for s in statements}


def all_resources(statements):
    return [r for s in statements for r in s["Resource"]]


def catalog_with(tmp_path, *models):
    """A copy of the packaged catalog with extra model entries."""
    data = json.loads(Path(CATALOG_PATH).read_text(encoding="utf-8"))
    source = data["models"][0]["sources"][0]
    for extra in models:
        entry = {
            "aliases": [],
            "provider": "anthropic",
            "family": "claude-test",
            "lifecycle": {"status": "active", "source": source},
            "limits": {"max_output_tokens": 1024, "default_max_tokens": 1024},
            "capabilities": {"prompt_caching": False, "vision": False, "streaming": True},
            "sources": [source],
        }
        entry.update(extra)
        for offer in entry["offers"]:
            offer.setdefault("source", source)
        data["models"].append(entry)
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return load_catalog(str(path))


def geo_test_model(routes, scope="us"):
    return {
        "name": "claude-test",
        "model_id": TEST_ID,
        "offers": [{"kind": "inference-profile", "scope": scope, "profile_id": f"{scope}.{TEST_ID}", "routes": routes}],
    }


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


def test_geo_profile_grants_exact_profile_and_any_region_model_only_through_it():
    statements = by_sid(build_statements(load_catalog(), "us-east-1", ACCOUNT, ["claude-sonnet-4.5"]))
    profile_arn = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.{SONNET_45}"
    assert statements["ProfileClaudeSonnet45"]["Resource"] == [profile_arn]
    assert "Condition" not in statements["ProfileClaudeSonnet45"]
    model = statements["ModelClaudeSonnet45"]
    assert model["Resource"] == [f"arn:aws:bedrock:*::foundation-model/{SONNET_45}"]
    assert model["Condition"] == {"StringEquals": {"bedrock:InferenceProfileArn": profile_arn}}


def test_global_profile_keeps_aws_requested_region_pins():
    statements = by_sid(build_statements(load_catalog(), "us-east-1", ACCOUNT, ["claude-large"]))
    profile_arn = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/global.{OPUS_45}"
    assert statements["ProfileClaudeLarge"] == {
        "Sid": "ProfileClaudeLarge",
        "Effect": "Allow",
        "Action": list(INVOKE_ACTIONS),
        "Resource": [profile_arn],
        "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
    }
    assert statements["ModelClaudeLarge"]["Resource"] == [f"arn:aws:bedrock:us-east-1::foundation-model/{OPUS_45}"]
    assert statements["ModelClaudeLarge"]["Condition"] == {
        "StringEquals": {"bedrock:InferenceProfileArn": profile_arn, "aws:RequestedRegion": "us-east-1"}
    }
    assert statements["GlobalModelClaudeLarge"]["Resource"] == [f"arn:aws:bedrock:::foundation-model/{OPUS_45}"]
    assert statements["GlobalModelClaudeLarge"]["Condition"] == {
        "StringEquals": {"bedrock:InferenceProfileArn": profile_arn, "aws:RequestedRegion": "unspecified"}
    }


def test_on_demand_offer_grants_the_exact_model_in_the_source_region_and_no_profile(tmp_path):
    catalog = catalog_with(
        tmp_path,
        {
            "name": "nova-test",
            "provider": "amazon",
            "family": "nova",
            "model_id": "amazon.nova-test-v1:0",
            "offers": [{"kind": "on-demand", "regions": ["us-east-1", "eu-west-2"]}],
        },
    )
    statements = build_statements(catalog, "eu-west-2", ACCOUNT, ["nova-test"])
    assert statements == [
        {
            "Sid": "OnDemandNovaTest",
            "Effect": "Allow",
            "Action": list(INVOKE_ACTIONS),
            "Resource": ["arn:aws:bedrock:eu-west-2::foundation-model/amazon.nova-test-v1:0"],
        }
    ]
    with pytest.raises(RegionError):
        build_statements(catalog, "eu-west-1", ACCOUNT, ["nova-test"])


def test_every_documented_source_region_of_every_offer_resolves_and_uses_that_offer():
    catalog = load_catalog()
    checked = 0
    for model in catalog:
        if model.is_eol():
            continue
        for offer in model.offers:
            for source in offer.routes:
                if catalog.offer_for(model, source) is not offer:
                    continue  # an earlier offer serves this source region
                text = json.dumps(build_statements(catalog, source, ACCOUNT, [model.name]))
                assert f":{source}:{ACCOUNT}:inference-profile/{offer.profile_id}" in text or (
                    not offer.is_profile and f"bedrock:{source}::foundation-model/{model.model_id}" in text
                )
                checked += 1
    assert checked >= 20


def test_eol_models_are_never_granted():
    catalog = load_catalog()
    eol = [m for m in catalog if m.is_eol()]
    assert eol, "the catalog should keep at least one end-of-life model (claude-sonnet-4)"
    regions = {r for m in catalog for r in m.source_regions()}
    for region in sorted(regions):
        try:
            text = json.dumps(build_statements(catalog, region, ACCOUNT))
        except ConfigError:
            continue  # nothing offered there but EOL models
        for model in eol:
            assert model.model_id not in text, (model.name, region)
    with pytest.raises(EndOfLifeError, match="end of life"):
        build_statements(catalog, "us-east-1", ACCOUNT, [eol[0].name])


def test_restricting_allowed_models_shrinks_the_policy():
    catalog = load_catalog()
    everything = build_statements(catalog, "us-east-1", ACCOUNT)
    only_large = build_statements(catalog, "us-east-1", ACCOUNT, ["claude-large"])
    assert len(only_large) == 3 < len(everything)
    text = json.dumps(only_large)
    for model in catalog.models:
        assert (model.model_id in text) == (model.name == "claude-large")


def test_unknown_or_unoffered_allowed_model_is_a_clear_error():
    with pytest.raises(PortkeyBedrockError, match="unknown model 'claude-nope'"):
        build_statements(load_catalog(), "us-east-1", ACCOUNT, ["claude-nope"])
    with pytest.raises(RegionError, match="is not offered from region"):
        build_statements(load_catalog(), "xx-nowhere-1", ACCOUNT, ["claude-sonnet-4.5"])


def test_every_source_region_policy_splits_into_parts_under_the_managed_policy_size_limit():
    catalog = load_catalog()
    biggest, most_parts = 0, 0
    for region in sorted({r for m in catalog for r in m.source_regions()}):
        try:
            statements = build_statements(catalog, region, "${Token[AWS.AccountId.7]}")
        except ConfigError:
            continue  # nothing offered there
        parts = split_statements(statements)
        assert [s for part in parts for s in part] == statements
        biggest = max(biggest, *(policy_size(part) for part in parts))
        most_parts = max(most_parts, len(parts))
    assert 0 < biggest <= MANAGED_POLICY_MAX_CHARS
    assert most_parts <= 3  # of the 10 managed policies a user may hold


def test_profile_grants_with_the_same_condition_share_one_statement():
    statements = by_sid(
        build_statements(load_catalog(), "us-east-1", ACCOUNT, ["claude-sonnet-4.5", "claude-haiku-4.5"])
    )
    assert sorted(statements) == ["ModelClaudeHaiku45", "ModelClaudeSonnet45", "Profiles"]
    assert len(statements["Profiles"]["Resource"]) == 2 and "Condition" not in statements["Profiles"]


def test_split_refuses_a_statement_bigger_than_the_limit():
    with pytest.raises(PolicyValidationError, match="alone exceeds"):
        split_statements([{"Sid": "Huge", "Resource": ["x" * 7000]}])


def test_the_only_wildcard_is_the_region_of_a_profile_bound_foundation_model():
    catalog = load_catalog()
    for region in ("us-east-1", "us-west-1", "ca-central-1", "eu-west-1", "ap-northeast-1", "ap-southeast-2"):
        try:
            statements = build_statements(catalog, region, ACCOUNT)
        except ConfigError:
            continue  # nothing offered there
        for statement in statements:
            for resource in statement["Resource"]:
                assert "?" not in resource
                if "*" in resource:
                    assert resource.startswith("arn:aws:bedrock:*::foundation-model/")
                    assert "*" not in resource.split("/", 1)[1]
                    assert "bedrock:InferenceProfileArn" in statement["Condition"]["StringEquals"]


# -- the validator: each rejection branch, with the passing case first ---------------------------
PROFILE = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.{SONNET_45}"
GOOD = {"Sid": "A", "Effect": "Allow", "Action": list(INVOKE_ACTIONS), "Resource": ["arn:aws:bedrock:x"]}
GOOD_ANY_REGION = {
    "Sid": "M",
    "Effect": "Allow",
    "Action": list(INVOKE_ACTIONS),
    "Resource": [f"arn:aws:bedrock:*::foundation-model/{SONNET_45}"],
    "Condition": {"StringEquals": {"bedrock:InferenceProfileArn": PROFILE}},
}


@pytest.mark.parametrize(
    ("base", "patch", "message"),
    [
        (GOOD, {"Resource": ["*"]}, "wildcard resource"),
        (GOOD, {"Resource": ["arn:aws:bedrock:us-east-1::foundation-model/*"]}, "wildcard resource"),
        (GOOD, {"Resource": ["arn:aws:bedrock:us-east-?::foundation-model/m"]}, "wildcard resource"),
        (GOOD, {"Resource": [f"arn:aws:bedrock:us-east-1:*:inference-profile/us.{SONNET_45}"]}, "wildcard resource"),
        (GOOD, {"Resource": [f"arn:*:bedrock:*::foundation-model/{SONNET_45}"]}, "wildcard resource"),
        (GOOD, {"Action": ["bedrock:*"]}, "wildcard action"),
        (GOOD, {"Action": ["bedrock:InvokeModel*"]}, "wildcard action"),
        (GOOD, {"Action": ["bedrock:InvokeMode?"]}, "wildcard action"),
        (GOOD, {"Action": ["bedrock:CreateModelCustomizationJob"]}, "only bedrock:InvokeModel"),
        (GOOD, {"Effect": "Deny"}, "not an Allow"),
        (GOOD, {"NotAction": ["bedrock:InvokeModel"]}, "NotAction"),
        (GOOD, {"NotResource": ["arn:x"]}, "NotResource"),
        (GOOD, {"Principal": {"AWS": "*"}}, "Principal"),
        (GOOD, {"NotPrincipal": {"AWS": "arn:aws:iam::1:root"}}, "NotPrincipal"),
        (GOOD, {"Resource": []}, "no Resource"),
        (GOOD, {"Condition": {"StringLike": {"bedrock:InferenceProfileArn": "arn:aws:bedrock:*"}}}, "condition"),
        # the any-region foundation model: without the condition, or with a weaker one
        (GOOD_ANY_REGION, {"Condition": {}}, "without StringEquals"),
        (GOOD_ANY_REGION, {"Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}}, "without"),
        (GOOD_ANY_REGION, {"Condition": {"StringLike": {"bedrock:InferenceProfileArn": PROFILE}}}, "without"),
        (
            GOOD_ANY_REGION,
            {"Condition": {"StringEquals": {"bedrock:InferenceProfileArn": PROFILE.replace(ACCOUNT, "*")}}},
            "without",
        ),
        (
            GOOD_ANY_REGION,
            {"Condition": {"StringEquals": {"bedrock:InferenceProfileArn": [PROFILE, PROFILE]}}},
            "without",
        ),
        (
            GOOD_ANY_REGION,  # the profile of another model
            {"Condition": {"StringEquals": {"bedrock:InferenceProfileArn": PROFILE.replace("sonnet", "haiku")}}},
            "without",
        ),
        (
            GOOD_ANY_REGION,
            {
                "Condition": {
                    "StringEquals": {"bedrock:InferenceProfileArn": PROFILE},
                    "ArnLike": {"aws:SourceArn": "arn:aws:bedrock:us-east-1:1:x"},
                }
            },
            "without",
        ),
        (GOOD_ANY_REGION, {"Resource": ["arn:aws:bedrock:*::foundation-model/anthropic.*"]}, "wildcard resource"),
        (GOOD_ANY_REGION, {"Resource": ["arn:aws:bedrock:*:*:foundation-model/" + SONNET_45]}, "wildcard resource"),
        (GOOD_ANY_REGION, {"Resource": [f"arn:aws:bedrock:*::inference-profile/us.{SONNET_45}"]}, "wildcard"),
    ],
)
def test_validator_rejects_every_other_wildcard_and_extra_grant(base, patch, message):
    validate_statements([base])  # the passing case
    with pytest.raises(PolicyValidationError, match=message) as info:
        validate_statements([{**base, **patch}])
    assert isinstance(info.value, PortkeyBedrockError)
    assert "\n" not in str(info.value)


def test_validator_rejects_a_duplicate_sid():
    validate_statements([GOOD, {**GOOD, "Sid": "B"}])
    with pytest.raises(PolicyValidationError, match="duplicate Sid 'A'"):
        validate_statements([GOOD, copy.deepcopy(GOOD)])


def test_unknown_policy_mode_is_refused():
    assert check_policy_mode("least-privilege") == "least-privilege"
    with pytest.raises(PolicyValidationError, match="policy mode 'admin' is unknown"):
        check_policy_mode("admin")


def test_builder_rejects_a_wildcard_injected_through_the_catalog(tmp_path):
    data = json.loads(Path(CATALOG_PATH).read_text(encoding="utf-8"))
    data["models"][0]["model_id"] = "anthropic.*"
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(PolicyValidationError, match="wildcard resource"):
        build_statements(load_catalog(str(path)), "us-east-1", ACCOUNT)


def test_catalog_change_shows_up_in_the_policy_without_code_change(tmp_path):
    catalog = catalog_with(tmp_path, geo_test_model({"us-west-1": ["us-east-1", "us-west-1"]}))
    statements = by_sid(build_statements(catalog, "us-west-1", ACCOUNT, ["claude-test"]))
    assert statements["ProfileClaudeTest"]["Resource"] == [
        f"arn:aws:bedrock:us-west-1:{ACCOUNT}:inference-profile/us.{TEST_ID}"
    ]
    assert statements["ModelClaudeTest"]["Resource"] == [f"arn:aws:bedrock:*::foundation-model/{TEST_ID}"]
    # the packaged catalog is untouched
    assert "ProfileClaudeTest" not in by_sid(build_statements(load_catalog(), "us-east-1", ACCOUNT))


def _bearer(**changes):
    from stacks.bedrock_policy import short_term_api_key_statement

    return {**short_term_api_key_statement(), **changes}


def test_short_term_api_keys_add_one_bearer_statement_only_when_asked():
    catalog = load_catalog()
    off = build_statements(catalog, "us-east-1", ACCOUNT, ["claude-sonnet-4.5"])
    on = build_statements(catalog, "us-east-1", ACCOUNT, ["claude-sonnet-4.5"], api_keys="short-term")
    assert on == [*off, _bearer()]
    assert not any("bedrock:CallWithBearerToken" in s["Action"] for s in off)
    with pytest.raises(PolicyValidationError, match="unknown"):
        build_statements(catalog, "us-east-1", ACCOUNT, ["claude-sonnet-4.5"], api_keys="long-term")


def test_validator_accepts_the_exact_short_term_statement():
    validate_statements([_bearer()])


@pytest.mark.parametrize(
    "statement",
    [
        _bearer(Condition=None),  # no condition: long-term keys too
        _bearer(Condition={"StringEquals": {"bedrock:bearerTokenType": "LONG_TERM"}}),
        _bearer(Condition={"StringEquals": {"bedrock:bearerTokenType": ["SHORT_TERM", "LONG_TERM"]}}),
        _bearer(Condition={"StringLike": {"bedrock:bearerTokenType": "SHORT_TERM"}}),
        _bearer(Condition={"StringNotEquals": {"bedrock:bearerTokenType": "LONG_TERM"}}),
        _bearer(Action=["bedrock:CallWithBearerToken", "bedrock:InvokeModel"]),  # "*" for invoke too
        _bearer(Resource=["arn:aws:bedrock:us-east-1::foundation-model/x"], Condition=None),
    ],
)
def test_validator_rejects_bearer_statements_other_than_short_term_only(statement):
    with pytest.raises(PolicyValidationError, match=r"CallWithBearerToken|wildcard"):
        validate_statements([statement])


def test_short_term_api_keys_across_source_regions_add_the_statement_once():
    regions = ["us-east-1", "us-west-2"]
    on = build_statements(load_catalog(), regions, ACCOUNT, ["claude-haiku-4.5"], api_keys="short-term")
    assert [s for s in on if s["Sid"] == "ShortTermApiKeys"] == [_bearer()]
    off = build_statements(load_catalog(), regions, ACCOUNT, ["claude-haiku-4.5"])
    assert on == [*off, _bearer()]


# -- several source regions: each allowed model's offer from each of them ---------------------------
HAIKU_PROFILE = "inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1:0"


def resources(statements):
    return {r for s in statements for r in s["Resource"]}


def test_one_region_is_exactly_the_single_region_builder():
    catalog = load_catalog()
    assert build_statements(catalog, ["us-east-1"], ACCOUNT) == build_statements(catalog, "us-east-1", ACCOUNT)


def test_two_regions_grant_the_profile_in_each_and_the_model_only_through_each_profile():
    statements = build_statements(load_catalog(), ["us-east-1", "us-west-2"], ACCOUNT, ["claude-haiku-4.5"])
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
    statements = build_statements(load_catalog(), ["us-east-1", "us-west-2"], ACCOUNT, ["claude-haiku-4.5"])
    assert not any(":us-east-2:" in r for r in resources(statements))


def test_all_models_in_two_regions_still_split_under_iams_limit():
    statements = build_statements(load_catalog(), ["us-east-1", "us-west-2", "us-east-2"], ACCOUNT)
    parts = split_statements(statements)
    assert sum(len(p) for p in parts) == len(statements)


def test_a_model_not_offered_in_a_source_region_fails_in_one_line_naming_both():
    with pytest.raises(RegionError) as err:
        build_statements(load_catalog(), ["us-east-1", "sa-east-1"], ACCOUNT, ["claude-haiku-4.5"])
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
    catalog = load_catalog()
    model = catalog.model("claude-sonnet-4.6")  # a global profile: callable from ~30 source regions
    regions = sorted({region for offer in model.offers for region in offer.routes})[:20]
    models = None  # "all": every model offered from all 20
    with pytest.raises(PolicyValidationError, match=r"more than the 10 IAM attaches to one user") as err:
        build_statements(catalog, regions, "${Token[AWS.AccountId.8]}", models, partition="${Token[P.9]}")
    assert "\n" not in str(err.value)
