import pytest

import runtime
from runtime import constants
from runtime.catalog import is_region_name, normalize_name
from runtime.errors import ModelNotAllowedError, RegionError, UnknownModelError

OPUS_45 = "anthropic.claude-opus-4-5-20251101-v1:0"
SONNET_4 = "anthropic.claude-sonnet-4-20250514-v1:0"
SONNET_45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("claude-large", f"global.{OPUS_45}"),
        ("claude-sonnet-4", f"us.{SONNET_4}"),
        ("claude-sonnet-4.5", f"us.{SONNET_45}"),
    ],
)
def test_seed_ids_in_the_default_region(name, expected):
    assert runtime.resolve_model(name) == expected
    assert runtime.resolve_model(name, "us-east-1") == expected


@pytest.mark.parametrize(
    ("name", "region", "expected"),
    [
        ("claude-large", "eu-west-1", f"global.{OPUS_45}"),
        ("claude-sonnet-4", "eu-west-1", f"eu.{SONNET_4}"),
        ("claude-sonnet-4.5", "eu-central-1", f"eu.{SONNET_45}"),
        ("claude-sonnet-4.5", "us-west-2", f"us.{SONNET_45}"),
        ("claude-sonnet-4.5", "ap-northeast-1", f"jp.{SONNET_45}"),
        ("claude-sonnet-4.5", "ap-southeast-2", f"au.{SONNET_45}"),
        ("claude-sonnet-4", "ap-northeast-1", f"apac.{SONNET_4}"),
    ],
)
def test_region_variants(name, region, expected):
    assert runtime.resolve_model(name, region) == expected


def test_region_comes_from_env_when_not_given(monkeypatch):
    monkeypatch.setenv(constants.ENV_AWS_REGION, "eu-west-1")
    assert runtime.resolve_model("claude-sonnet-4.5") == f"eu.{SONNET_45}"
    # an explicit argument beats the environment
    assert runtime.resolve_model("claude-sonnet-4.5", "us-east-1") == f"us.{SONNET_45}"


@pytest.mark.parametrize(
    "spelling",
    ["Claude_Sonnet_4.5", "CLAUDE-SONNET-4.5", "claude sonnet 4.5", " claude-sonnet-4-5 ", "sonnet-4.5"],
)
def test_names_are_case_and_separator_insensitive(spelling):
    assert runtime.resolve_model(spelling) == f"us.{SONNET_45}"


@pytest.mark.parametrize(
    "exact",
    [f"us.{SONNET_45}", f"global.{OPUS_45}", SONNET_4, f"eu.{SONNET_4}"],
)
def test_catalog_ids_pass_through(exact):
    region = "eu-west-1" if exact.startswith("eu.") else "us-east-1"
    assert runtime.resolve_model(exact, region) == exact


def test_profile_id_of_another_geography_is_refused():
    with pytest.raises(RegionError, match="cannot be called from region us-east-1"):
        runtime.resolve_model(f"eu.{SONNET_45}", "us-east-1")


@pytest.mark.parametrize(
    ("bad", "suggestion"),
    [
        ("claude-sonet-4.5", "did you mean claude-sonnet-4.5"),
        ("claud-large", "did you mean claude-large"),
        ("gpt-4o", None),
        ("", None),
        ("   ", None),
        ("us.anthropic.claude-unknown-v1:0", None),
        ("anthropic.claude-sonnet-4-5-20250929-v1:0 extra", None),
    ],
)
def test_unknown_names_raise_with_hints_and_valid_names(bad, suggestion):
    with pytest.raises(UnknownModelError) as info:
        runtime.resolve_model(bad)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert "claude-large, claude-sonnet-4, claude-sonnet-4.5" in message
    if suggestion:
        assert suggestion in message
    assert "\n" not in message


def test_geo_model_without_profile_in_region_raises():
    with pytest.raises(RegionError) as info:
        runtime.resolve_model("claude-sonnet-4.5", "ap-southeast-1")
    assert "ap-southeast-1" in str(info.value)
    assert "us, eu, jp, au" in str(info.value)


@pytest.mark.parametrize("region", ["us-east", "US-EAST-1", "useast1", "us_east_1", "mars-north-1x"])
def test_malformed_region_raises(region):
    with pytest.raises(RegionError, match="not an AWS region name"):
        runtime.resolve_model("claude-large", region)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Claude_Sonnet_4.5", "claude-sonnet-4-5"),
        ("  claude  large ", "claude-large"),
        ("CLAUDE-SONNET-4", "claude-sonnet-4"),
    ],
)
def test_normalize_name_examples(text, expected):
    assert normalize_name(text) == expected


@pytest.mark.parametrize(
    ("region", "valid"),
    [
        ("eu-west-1", True),
        ("us-gov-west-1", True),
        ("us-east", False),
        ("US-EAST-1", False),
        ("useast1", False),
    ],
)
def test_is_region_name_examples(region, valid):
    assert is_region_name(region) is valid


class TestAllowList:
    def test_env_allow_list_admits_listed_models(self, monkeypatch):
        monkeypatch.setenv(constants.ENV_ALLOWED_MODELS, "claude-large, Claude_Sonnet_4.5")
        assert runtime.resolve_model("claude-large") == f"global.{OPUS_45}"
        assert runtime.resolve_model("claude-sonnet-4.5") == f"us.{SONNET_45}"

    def test_env_allow_list_refuses_others(self, monkeypatch):
        monkeypatch.setenv(constants.ENV_ALLOWED_MODELS, "claude-large")
        with pytest.raises(ModelNotAllowedError, match="claude-sonnet-4 is not in the allow-list"):
            runtime.resolve_model("claude-sonnet-4")
        # ids are checked too, not only friendly names
        with pytest.raises(ModelNotAllowedError):
            runtime.resolve_model(f"us.{SONNET_4}")

    def test_explicit_argument_beats_env(self, monkeypatch):
        monkeypatch.setenv(constants.ENV_ALLOWED_MODELS, "claude-large")
        assert runtime.resolve_model("claude-sonnet-4", allowed=["claude-sonnet-4"]) == f"us.{SONNET_4}"
        with pytest.raises(ModelNotAllowedError):
            runtime.resolve_model("claude-large", allowed="claude-sonnet-4")

    def test_typo_in_allow_list_is_reported(self, monkeypatch):
        monkeypatch.setenv(constants.ENV_ALLOWED_MODELS, "claude-larg")
        with pytest.raises(UnknownModelError, match=constants.ENV_ALLOWED_MODELS):
            runtime.resolve_model("claude-large")

    def test_cache_follows_env_changes(self, monkeypatch):
        assert runtime.resolve_model("claude-sonnet-4")
        monkeypatch.setenv(constants.ENV_ALLOWED_MODELS, "claude-large")
        with pytest.raises(ModelNotAllowedError):
            runtime.resolve_model("claude-sonnet-4")
