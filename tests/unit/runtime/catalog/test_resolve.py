import pytest

import runtime
from runtime import constants
from runtime.errors import (
    ConfigError,
    EndOfLifeError,
    ModelNotAllowedError,
    ProfileRequiredError,
    RegionError,
    UnknownModelError,
    UnsupportedPartitionError,
)

OPUS_45 = "anthropic.claude-opus-4-5-20251101-v1:0"
SONNET_4 = "anthropic.claude-sonnet-4-20250514-v1:0"
SONNET_45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"


@pytest.fixture(autouse=True)
def today_is_the_catalog_date(monkeypatch):
    """Lifecycle answers depend on the date: pin it to the day the catalog was checked."""
    monkeypatch.setattr("runtime.catalog.model.today_utc", lambda: "2026-11-23")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("claude-large", f"global.{OPUS_45}"),
        ("claude-sonnet-4.5", f"us.{SONNET_45}"),
    ],
)
def test_seed_ids_in_the_default_region(name, expected):
    assert runtime.resolve_model(name) == expected
    assert runtime.resolve_model(name, "us-east-1") == expected


def test_seed_id_of_the_end_of_life_model_stays_as_its_record():
    catalog = runtime.load_catalog()
    model = catalog.model("claude-sonnet-4")
    assert catalog.offer_for(model, "us-east-1").invoke_id == f"us.{SONNET_4}"


@pytest.mark.parametrize("spelling", ["claude-sonnet-4", "sonnet-4", f"us.{SONNET_4}", f"eu.{SONNET_4}", SONNET_4])
def test_end_of_life_model_is_refused_with_date_and_replacement(spelling):
    region = "eu-west-1" if spelling.startswith("eu.") else "us-east-1"
    with pytest.raises(EndOfLifeError) as info:
        runtime.resolve_model(spelling, region)
    replacement = runtime.load_catalog().model("claude-sonnet-4").lifecycle.replacement
    assert str(info.value) == (
        f"claude-sonnet-4 reached end of life on Amazon Bedrock on 2026-10-14; use {replacement}"
    )
    assert isinstance(info.value, runtime.PortkeyBedrockError)


def test_end_of_life_date_applies_even_if_the_recorded_status_lags(monkeypatch):
    model = runtime.load_catalog().model("claude-sonnet-4.5")
    assert model.status_on("2026-11-23") == "legacy"
    assert model.status_on(model.lifecycle.eol_date) == "eol"
    monkeypatch.setattr("runtime.catalog.model.today_utc", lambda: model.lifecycle.eol_date)
    with pytest.raises(EndOfLifeError, match=r"claude-sonnet-4\.5 reached end of life"):
        runtime.resolve_model("claude-sonnet-4.5", "us-west-2", catalog=runtime.load_catalog())


def test_legacy_model_resolves_and_has_a_one_line_warning():
    assert runtime.resolve_model("claude-sonnet-4.5") == f"us.{SONNET_45}"
    warning = runtime.lifecycle_warning("claude-sonnet-4.5", day="2026-11-23")
    replacement = runtime.load_catalog().model("claude-sonnet-4.5").lifecycle.replacement
    assert warning is not None and "\n" not in warning
    assert warning.startswith("claude-sonnet-4.5 is Legacy on Amazon Bedrock since 2026-10-08")
    assert "end of life on 2027-04-08" in warning
    assert f"move to {replacement}" in warning
    assert runtime.lifecycle_warning("claude-large", day="2026-11-23") is None


@pytest.mark.parametrize(
    ("name", "region", "expected"),
    [
        ("claude-large", "eu-west-1", f"global.{OPUS_45}"),
        ("claude-sonnet-4.5", "eu-central-1", f"eu.{SONNET_45}"),
        ("claude-sonnet-4.5", "us-west-2", f"us.{SONNET_45}"),
        ("claude-sonnet-4.5", "ap-northeast-1", f"jp.{SONNET_45}"),
        ("claude-sonnet-4.5", "ap-southeast-2", f"au.{SONNET_45}"),
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


@pytest.mark.parametrize("exact", [f"us.{SONNET_45}", f"global.{OPUS_45}", f"eu.{SONNET_45}"])
def test_catalog_profile_ids_pass_through(exact):
    region = "eu-west-1" if exact.startswith("eu.") else "us-east-1"
    assert runtime.resolve_model(exact, region) == exact


@pytest.mark.parametrize(("bare", "profile"), [(SONNET_45, f"us.{SONNET_45}"), (OPUS_45, f"global.{OPUS_45}")])
def test_bare_foundation_model_id_that_needs_a_profile_is_refused_with_the_profile(bare, profile):
    with pytest.raises(ProfileRequiredError) as info:
        runtime.resolve_model(bare, "us-east-1")
    message = str(info.value)
    assert message.startswith(f"{bare} is served only through an inference profile")
    assert f"use the inference profile {profile}" in message
    assert "\n" not in message


def test_profile_id_of_another_geography_is_refused():
    with pytest.raises(RegionError, match="cannot be called from region us-east-1"):
        runtime.resolve_model(f"eu.{SONNET_45}", "us-east-1")


@pytest.mark.parametrize(
    ("bad", "suggestion"),
    [
        ("claude-sonet-4.5", "did you mean claude-sonnet-4.5"),
        ("claud-large", "did you mean claude-large"),
        (
            "opus",
            "did you mean claude-opus-5, claude-large, claude-opus-4.6, claude-opus-4.7, claude-opus-4.8, "
            "claude-opus-5.5?",
        ),
        ("sonnet", "did you mean claude-sonnet-5.5, claude-sonnet-4.6, claude-sonnet-4.5? "),
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
    valid = message.split("valid names: ", 1)[1].split(", ")
    assert {"claude-large", "claude-sonnet-4.5"} <= set(valid)
    assert "claude-sonnet-4" not in valid  # end of life: no longer a valid name to pick
    if suggestion:
        assert suggestion in message
    assert "\n" not in message


def test_model_not_offered_from_a_region_raises():
    with pytest.raises(RegionError) as info:
        runtime.resolve_model("claude-haiku-4.5", "ap-southeast-1")
    message = str(info.value)
    assert message.startswith("claude-haiku-4.5 is not offered from region ap-southeast-1")
    assert "us, eu, jp, au" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("region", "partition"),
    [
        ("us-gov-west-1", "aws-us-gov"),
        ("us-gov-east-1", "aws-us-gov"),
        ("cn-north-1", "aws-cn"),
        ("cn-northwest-1", "aws-cn"),
    ],
)
@pytest.mark.parametrize("name", ["claude-sonnet-4.5", "claude-large"])
def test_other_partitions_are_refused_in_one_line(region, partition, name):
    with pytest.raises(UnsupportedPartitionError) as info:
        runtime.resolve_model(name, region)
    assert str(info.value) == (
        f"region {region} is in the {partition} partition, which is not supported yet; "
        "use a region of the aws partition such as us-east-1"
    )
    with pytest.raises(UnsupportedPartitionError):
        runtime.pick_region(region)


def test_isolated_regions_are_refused_too():
    with pytest.raises(UnsupportedPartitionError, match="us-iso-east-1 is in no partition this project knows"):
        runtime.pick_region("us-iso-east-1")


def test_partition_refusal_comes_from_the_environment_region_too(monkeypatch):
    monkeypatch.setenv(constants.ENV_AWS_REGION, "us-gov-west-1")
    with pytest.raises(UnsupportedPartitionError):
        runtime.resolve_model("claude-sonnet-4.5")


@pytest.mark.parametrize("region", ["us-east", "US-EAST-1", "useast1", "us_east_1", "mars-north-1x"])
def test_malformed_region_raises(region):
    with pytest.raises(RegionError, match="not an AWS region name"):
        runtime.resolve_model("claude-large", region)


class TestAllowList:
    def test_env_allow_list_admits_listed_models(self, monkeypatch):
        monkeypatch.setenv(constants.ENV_ALLOWED_MODELS, "claude-large, Claude_Sonnet_4.5")
        assert runtime.resolve_model("claude-large") == f"global.{OPUS_45}"
        assert runtime.resolve_model("claude-sonnet-4.5") == f"us.{SONNET_45}"

    def test_env_allow_list_refuses_others(self, monkeypatch):
        monkeypatch.setenv(constants.ENV_ALLOWED_MODELS, "claude-large")
        with pytest.raises(ModelNotAllowedError, match=r"claude-sonnet-4\.5 is not in the allow-list"):
            runtime.resolve_model("claude-sonnet-4.5")
        # ids are checked too, not only friendly names
        with pytest.raises(ModelNotAllowedError):
            runtime.resolve_model(f"us.{SONNET_45}")

    def test_explicit_argument_beats_env(self, monkeypatch):
        monkeypatch.setenv(constants.ENV_ALLOWED_MODELS, "claude-large")
        assert runtime.resolve_model("claude-sonnet-4.5", allowed=["claude-sonnet-4.5"]) == f"us.{SONNET_45}"
        with pytest.raises(ModelNotAllowedError):
            runtime.resolve_model("claude-large", allowed="claude-sonnet-4.5")

    @pytest.mark.parametrize("value", ["all", "ALL", " all "])
    def test_all_allows_every_model(self, monkeypatch, value):
        monkeypatch.setenv(constants.ENV_ALLOWED_MODELS, value)
        assert runtime.allowed_models() is None
        assert runtime.resolve_model("claude-large") == f"global.{OPUS_45}"
        assert runtime.allowed_models("all") is None

    @pytest.mark.parametrize("value", ["", " ", ",", "none", "None", "null"])
    def test_empty_or_none_allow_list_is_an_error(self, monkeypatch, value):
        monkeypatch.setenv(constants.ENV_ALLOWED_MODELS, value)
        with pytest.raises(ConfigError) as info:  # a setting that allows nothing, not a model name
            runtime.resolve_model("claude-large")
        message = str(info.value)
        assert "names no model" in message and "'all'" in message and "\n" not in message
        with pytest.raises(ConfigError, match="names no model"):
            runtime.allowed_models([])

    def test_typo_in_allow_list_is_reported(self, monkeypatch):
        monkeypatch.setenv(constants.ENV_ALLOWED_MODELS, "claude-larg")
        with pytest.raises(UnknownModelError, match=constants.ENV_ALLOWED_MODELS):
            runtime.resolve_model("claude-large")

    def test_cache_follows_env_changes(self, monkeypatch):
        assert runtime.resolve_model("claude-sonnet-4.5")
        monkeypatch.setenv(constants.ENV_ALLOWED_MODELS, "claude-large")
        with pytest.raises(ModelNotAllowedError):
            runtime.resolve_model("claude-sonnet-4.5")


@pytest.mark.parametrize(
    ("name", "region", "expected"),
    [
        ("claude-sonnet-4.6", "us-east-1", "us.anthropic.claude-sonnet-4-6"),
        ("claude-sonnet-4.6", "eu-west-2", "eu.anthropic.claude-sonnet-4-6"),
        ("claude-sonnet-4.6", "ap-northeast-1", "jp.anthropic.claude-sonnet-4-6"),
        ("claude-sonnet-4.6", "sa-east-1", "global.anthropic.claude-sonnet-4-6"),
        ("claude-opus-4.6", "us-east-1", "global.anthropic.claude-opus-4-6-v1"),
        ("claude-opus-4.7", "us-east-1", "global.anthropic.claude-opus-4-7"),
        ("opus-4.7", "eu-central-1", "global.anthropic.claude-opus-4-7"),
        # valid source regions the v1 geographies refused
        ("claude-sonnet-4.5", "ca-central-1", f"us.{SONNET_45}"),
        ("claude-sonnet-4.5", "il-central-1", f"global.{SONNET_45}"),
        ("claude-sonnet-4.5", "me-central-1", f"global.{SONNET_45}"),
    ],
)
def test_current_models_resolve_from_their_documented_source_regions(name, region, expected):
    assert runtime.resolve_model(name, region) == expected


@pytest.mark.parametrize(
    ("region", "destinations"),
    [
        ("us-east-1", ("us-east-1", "us-east-2", "us-west-2")),
        ("us-west-1", ("us-east-1", "us-east-2", "us-west-1", "us-west-2")),
        ("ca-central-1", ("ca-central-1", "us-east-1", "us-east-2", "us-west-2")),
    ],
)
def test_destinations_depend_on_the_source_region(region, destinations):
    catalog = runtime.load_catalog()
    offer = catalog.offer_for(catalog.model("claude-sonnet-4.6"), region)
    assert offer.scope == "us"
    assert offer.destinations(region) == destinations


def test_global_profiles_route_to_any_commercial_region():
    catalog = runtime.load_catalog()
    offer = catalog.offer_for(catalog.model("claude-large"), "us-east-1")
    assert offer.is_global and offer.destinations("us-east-1") == ("*",)


def test_bare_id_of_an_in_region_on_demand_model_passes_only_where_offered():
    bare = "anthropic.claude-sonnet-4-6"
    assert runtime.resolve_model(bare, "eu-west-2") == bare
    with pytest.raises(ProfileRequiredError, match=r"use the inference profile us\.anthropic\.claude-sonnet-4-6"):
        runtime.resolve_model(bare, "us-east-1")


def test_every_offer_id_resolves_from_each_of_its_source_regions():
    catalog = runtime.load_catalog()
    for model in catalog:
        if model.is_eol():
            continue
        for offer in model.offers:
            for region in offer.source_regions:
                assert runtime.resolve_model(offer.invoke_id, region, catalog=catalog) == offer.invoke_id


@pytest.mark.parametrize("name", ["nova-micro", "nova-lite"])
def test_nova_models_have_an_in_region_on_demand_offer(name):
    catalog = runtime.load_catalog()
    model = catalog.model(name)
    on_demand = [offer for offer in model.offers if offer.kind == "on-demand"]
    assert [offer.invoke_id for offer in on_demand] == [model.model_id]
    assert on_demand[0].destinations("us-east-1") == ("us-east-1",)  # in-region: served where called
    assert catalog.lookup_id(model.model_id) == (model, on_demand[0])
    # the bare id passes where the model is on demand, and is refused with the profile elsewhere
    assert runtime.resolve_model(model.model_id, "us-east-1") == model.model_id
    with pytest.raises(ProfileRequiredError, match=f"use the inference profile eu.{model.model_id}"):
        runtime.resolve_model(model.model_id, "eu-west-1")
    assert runtime.resolve_model(name, "eu-west-1") == f"eu.{model.model_id}"


# --- Legacy models warn from Python too, once per process (issue 18, item 8) -------------------


@pytest.fixture
def fresh_process(monkeypatch):
    """No model warned about yet, nothing cached, today pinned to the catalog's check date."""
    from runtime.catalog import resolve

    monkeypatch.setattr(resolve, "_legacy_warned", set())
    monkeypatch.setattr(resolve, "_cache", {})
    monkeypatch.setattr("runtime.catalog.model.today_utc", lambda: "2026-11-23")


def test_a_legacy_model_warns_once_per_process(fresh_process):
    import warnings

    import runtime

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # what a plain `python app.py` shows
        runtime.resolve_model("claude-sonnet-4.5", "us-east-1")
        runtime.resolve_model("claude-sonnet-4.5", "eu-west-1")
        runtime.portkey_headers("claude-sonnet-4.5", runtime.Credentials("AKIAIOSFODNN7EXAMPLE", "s" * 40))
        runtime.resolve_model("claude-large", "us-east-1")  # active: no warning
    [warning] = caught
    assert issubclass(warning.category, runtime.LegacyModelWarning)
    assert issubclass(runtime.LegacyModelWarning, FutureWarning)  # shown by default, unlike DeprecationWarning
    assert str(warning.message).startswith("claude-sonnet-4.5 is Legacy on Amazon Bedrock since 2026-10-08")


def test_the_cli_prints_its_own_line_not_the_python_warning(fresh_process, capsys):
    from runtime.cli import main

    assert main(["resolve", "claude-sonnet-4.5"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: claude-sonnet-4.5 is Legacy") and err.count("\n") == 1
    assert "LegacyModelWarning" not in err and "FutureWarning" not in err


def test_a_new_model_with_an_aws_confirmed_profile_resolves():
    assert runtime.resolve_model("claude-fable-5", "us-east-1") == "global.anthropic.claude-fable-5"
    assert runtime.resolve_model("fable-5", "eu-west-3") == "global.anthropic.claude-fable-5"


@pytest.mark.parametrize(
    ("asked", "name", "model_id"),
    [
        ("claude-opus-5.5", "claude-opus-5.5", "anthropic.claude-opus-5-5"),
        ("sonnet-5.5", "claude-sonnet-5.5", "anthropic.claude-sonnet-5-5"),
        ("opus-5", "claude-opus-5", "anthropic.claude-opus-5"),
    ],
)
def test_a_model_whose_profiles_no_aws_page_lists_points_to_catalog_sync(asked, name, model_id):
    with pytest.raises(RegionError) as info:
        runtime.resolve_model(asked, "us-east-1")
    assert str(info.value).startswith(f"{name} ({model_id}) has no inference profile")
    assert "python -m runtime catalog sync" in str(info.value)


def test_an_unknown_region_is_named_by_resolve() -> None:
    from runtime.catalog.resolve import resolve_model
    from runtime.errors import RegionError

    with pytest.raises(RegionError, match=r"^unknown region us-east-7; use an AWS region such as us-east-2$"):
        resolve_model("claude-haiku-4.5", region="us-east-7")
    assert resolve_model("claude-haiku-4.5", region="us-west-2").startswith("us.")  # a known region passes
