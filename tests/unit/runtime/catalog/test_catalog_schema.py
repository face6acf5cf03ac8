"""The catalog file against its JSON Schema plus the cross-field rules of `runtime.catalog.model.validate`."""

import copy
import json
from pathlib import Path

import jsonschema
import pytest

from runtime.catalog.model import (
    ANY_COMMERCIAL_REGION,
    CATALOG_PATH,
    EOL,
    ON_DEMAND_OFFER,
    is_aws_url,
    is_doc_url,
    load_catalog,
    validate,
)

SCHEMA_PATH = Path(CATALOG_PATH).with_name("catalog.schema.json")


def catalog_problems(data: dict) -> list[str]:
    """Schema errors, then semantic errors, of a catalog document (empty: valid)."""
    schema = json.loads(SCHEMA_PATH.read_text())
    problems = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(data)]
    return problems or validate(data)


@pytest.fixture
def catalog_data() -> dict:
    return json.loads(Path(CATALOG_PATH).read_text())


def _model(data: dict, name: str) -> dict:
    return next(m for m in data["models"] if m["name"] == name)


def test_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA_PATH.read_text()))


def test_shipped_catalog_is_valid(catalog_data):
    assert catalog_data["schema_version"] == 2
    assert catalog_problems(catalog_data) == []


def test_seed_models_keep_their_names_and_ids(catalog_data):
    assert _model(catalog_data, "claude-large")["model_id"] == "anthropic.claude-opus-4-5-20251101-v1:0"
    assert _model(catalog_data, "claude-sonnet-4")["model_id"] == "anthropic.claude-sonnet-4-20250514-v1:0"
    assert _model(catalog_data, "claude-sonnet-4.5")["model_id"] == "anthropic.claude-sonnet-4-5-20250929-v1:0"
    catalog = load_catalog()
    assert catalog.offer_for(catalog.model("claude-large"), "us-east-1").scope == "global"
    assert catalog.offer_for(catalog.model("claude-sonnet-4"), "us-east-1").scope == "us"
    assert catalog.offer_for(catalog.model("claude-sonnet-4.5"), "us-east-1").scope == "us"


def test_every_entry_has_aws_sources(catalog_data):
    """Routing only from AWS pages; the id and request rules may also cite Anthropic's model pages
    (the project rule). Every entry names an AWS page, except one whose id and availability only
    Anthropic's page states: it is `active` without dates and waits for catalog sync's profiles."""
    for model in catalog_data["models"]:
        assert model["sources"], model["name"]
        life = model["lifecycle"]
        anthropic_only = not any(is_aws_url(url) for url in model["sources"])
        if anthropic_only:
            assert model["offers_from_sync"] and not model["offers"], model["name"]
            assert life == {"status": "active", "source": life["source"]}, model["name"]
        else:
            assert is_aws_url(life["source"]), model["name"]
        assert all(is_aws_url(offer["source"]) for offer in model["offers"]), model["name"]
        docs = [*model["sources"], life["source"], model.get("request_rules", {}).get("source", model["sources"][0])]
        assert all(is_doc_url(url) for url in docs), model["name"]


def test_claude_sonnet_5_5_and_opus_5_cite_their_pages(catalog_data):
    sonnet = _model(catalog_data, "claude-sonnet-5.5")
    assert sonnet["model_id"] == "anthropic.claude-sonnet-5-5"
    assert sonnet["lifecycle"] == {
        "status": "active",
        "source": "https://platform.claude.com/docs/en/models/sonnet-5-5/whats-new-sonnet-5-5",
    }
    assert sonnet["request_rules"]["thinking"] == ["adaptive", "between_tools"]
    assert sonnet["request_rules"]["tool_choice"] == ["auto", "none"]
    opus = _model(catalog_data, "claude-opus-5")
    assert opus["model_id"] == "anthropic.claude-opus-5"
    # Bedrock's own lifecycle page, not Anthropic's "Legacy" (its API's status)
    assert opus["lifecycle"]["status"] == "active" and is_aws_url(opus["lifecycle"]["source"])
    # in AWS's adaptive-thinking supported table but not its adaptive-only note: no thinking rule
    assert "request_rules" not in opus
    assert (
        "https://docs.aws.amazon.com/bedrock/latest/userguide/claude-messages-adaptive-thinking.html" in opus["sources"]
    )


def test_an_anthropic_page_backs_active_without_dates_only(catalog_data):
    anthropic = "https://platform.claude.com/docs/en/models/opus-4-5/overview"
    _model(catalog_data, "claude-large")["lifecycle"]["source"] = anthropic
    assert catalog_problems(catalog_data) == []
    _model(catalog_data, "claude-large")["lifecycle"]["eol_date"] = "2099-01-01"
    assert any("claude-large: lifecycle source" in p for p in catalog_problems(catalog_data))


def test_loaded_catalog_matches_file(catalog_data):
    catalog = load_catalog()
    assert catalog.names() == [m["name"] for m in catalog_data["models"]]
    for model, data in zip(catalog, catalog_data["models"], strict=True):
        assert model.offers or data.get("offers_from_sync"), model.name
        assert model.default_max_tokens <= (model.max_output_tokens or model.default_max_tokens)


def test_an_entry_without_offers_must_say_catalog_sync_reads_them(catalog_data):
    pending = [m for m in catalog_data["models"] if not m["offers"]]
    assert pending and all(m["offers_from_sync"] is True for m in pending)
    del pending[0]["offers_from_sync"]
    assert any("offers_from_sync" in p for p in catalog_problems(catalog_data))


def test_new_rule_kinds_are_accepted(catalog_data):
    rules = _model(catalog_data, "claude-opus-4.7")["request_rules"]
    rules["thinking"] = ["adaptive", "between_tools"]
    rules["tool_choice"] = ["auto", "none"]
    rules["rejected_params"] = ["top_k"]
    rules["param_ranges"] = {"temperature": {"min": 1.0, "max": 1.0}, "top_p": {"min": 0.99, "below": 1.0}}
    assert catalog_problems(catalog_data) == []


def _drop_sources(d):
    d["models"][0]["sources"] = []


def _no_sources_key(d):
    del d["models"][0]["sources"]


def _non_aws_source(d):
    d["models"][0]["sources"] = ["https://www.anthropic.com/claude"]


def _lookalike_source(d):
    d["models"][0]["sources"] = ["https://docs.aws.amazon.com.example.org/bedrock/"]


def _non_aws_lifecycle_source(d):
    d["models"][0]["lifecycle"]["source"] = "https://example.com/lifecycle"


def _non_aws_offer_source(d):
    d["models"][0]["offers"][0]["source"] = "http://docs.aws.amazon.com/bedrock/"


def _drop_limits(d):
    del d["models"][0]["limits"]


def _default_above_max(d):
    limits = _model(d, "claude-opus-4.7")["limits"]
    limits["default_max_tokens"] = limits["max_output_tokens"] + 1


def _bad_status(d):
    d["models"][0]["lifecycle"]["status"] = "retired"


def _eol_without_date(d):
    life = _model(d, "claude-sonnet-4")["lifecycle"]
    del life["eol_date"]


def _legacy_without_replacement(d):
    del _model(d, "claude-sonnet-4.5")["lifecycle"]["replacement"]


def _replacement_missing(d):
    _model(d, "claude-sonnet-4")["lifecycle"]["replacement"] = "claude-sonnet-9"


def _replacement_is_eol(d):
    _model(d, "claude-sonnet-4.5")["lifecycle"]["replacement"] = "claude-sonnet-4"


def _dates_out_of_order(d):
    life = _model(d, "claude-sonnet-4")["lifecycle"]
    life["legacy_date"], life["eol_date"] = life["eol_date"], life["legacy_date"]


def _bad_date(d):
    _model(d, "claude-sonnet-4")["lifecycle"]["eol_date"] = "14/10/2026"


def _unknown_rejected_param(d):
    d["models"][0]["request_rules"] = {"rejected_params": ["frequency_penalty"]}


def _unknown_thinking_mode(d):
    d["models"][0]["request_rules"] = {"thinking": ["always"]}


def _alias_collision(d):
    d["models"][1]["aliases"].append("Claude_Large")


def _duplicate_id(d):
    d["models"][2]["model_id"] = d["models"][1]["model_id"]


def _bad_model_id(d):
    d["models"][0]["model_id"] = "claude opus"


def _profile_id_of_other_model(d):
    d["models"][0]["offers"][0]["profile_id"] = "global." + d["models"][1]["model_id"]


def _profile_id_scope_mismatch(d):
    offer = d["models"][0]["offers"][0]
    offer["profile_id"] = "us." + d["models"][0]["model_id"]


def _bad_route_source(d):
    d["models"][0]["offers"][0]["routes"]["useast1"] = ["us-east-1"]


def _bad_route_destination(d):
    offer = next(o for o in _model(d, "claude-sonnet-4.5")["offers"] if o.get("scope") == "us")
    next(iter(offer["routes"].values())).append("useast1")


def _govcloud_route(d):
    offer = next(o for o in _model(d, "claude-sonnet-4.5")["offers"] if o.get("scope") == "us")
    offer["routes"]["us-gov-west-1"] = ["us-gov-west-1"]


def _any_region_on_geo_profile(d):
    offer = next(o for o in _model(d, "claude-sonnet-4.5")["offers"] if o.get("scope") == "us")
    offer["routes"]["us-east-1"] = [ANY_COMMERCIAL_REGION]


def _empty_offers(d):
    d["models"][0]["offers"] = []


def _on_demand_without_regions(d):
    d["models"][0]["offers"].append({"kind": ON_DEMAND_OFFER, "regions": [], "source": d["models"][0]["sources"][0]})


def _range_on_non_numeric_param(d):
    _model(d, "claude-opus-4.7")["request_rules"]["param_ranges"] = {"stop": {"min": 1}}


def _range_on_rejected_param(d):
    _model(d, "claude-opus-4.7")["request_rules"]["param_ranges"] = {"temperature": {"min": 1.0, "max": 1.0}}


def _range_upside_down(d):
    _model(d, "claude-opus-4.6")["request_rules"]["param_ranges"] = {"top_p": {"min": 0.99, "below": 0.5}}


def _empty_range(d):
    _model(d, "claude-opus-4.6")["request_rules"]["param_ranges"] = {"top_p": {}}


def _unknown_tool_choice(d):
    _model(d, "claude-opus-4.6")["request_rules"]["tool_choice"] = ["required"]


def _anthropic_lookalike_rules_source(d):
    _model(d, "claude-opus-4.6")["request_rules"]["source"] = "https://platform.claude.com.example.org/docs/"


def _anthropic_lifecycle_source(d):
    """Anthropic's Legacy status is its own API's: a legacy entry needs AWS's page."""
    _model(d, "claude-sonnet-4.5")["lifecycle"]["source"] = "https://platform.claude.com/docs/en/models/overview"


def _extra_field(d):
    d["models"][0]["price"] = 3


def _old_schema_version(d):
    d["schema_version"] = 1


@pytest.mark.parametrize(
    "breakage",
    [
        _drop_sources,
        _no_sources_key,
        _non_aws_source,
        _lookalike_source,
        _non_aws_lifecycle_source,
        _non_aws_offer_source,
        _drop_limits,
        _default_above_max,
        _bad_status,
        _eol_without_date,
        _legacy_without_replacement,
        _replacement_missing,
        _replacement_is_eol,
        _dates_out_of_order,
        _bad_date,
        _unknown_rejected_param,
        _unknown_thinking_mode,
        _alias_collision,
        _duplicate_id,
        _bad_model_id,
        _profile_id_of_other_model,
        _profile_id_scope_mismatch,
        _bad_route_source,
        _bad_route_destination,
        _govcloud_route,
        _any_region_on_geo_profile,
        _empty_offers,
        _on_demand_without_regions,
        _range_on_non_numeric_param,
        _range_on_rejected_param,
        _range_upside_down,
        _empty_range,
        _unknown_tool_choice,
        _anthropic_lookalike_rules_source,
        _anthropic_lifecycle_source,
        _extra_field,
        _old_schema_version,
    ],
)
def test_a_broken_entry_fails_validation(catalog_data, breakage):
    broken = copy.deepcopy(catalog_data)
    breakage(broken)
    assert catalog_problems(broken) != []


@pytest.mark.parametrize(
    "breakage",
    [_non_aws_source, _lookalike_source, _replacement_missing, _replacement_is_eol, _profile_id_of_other_model],
)
def test_semantic_rules_live_in_the_runtime_validate(catalog_data, breakage):
    """These pass the JSON Schema; only runtime.catalog.model.validate catches them."""
    broken = copy.deepcopy(catalog_data)
    breakage(broken)
    schema = json.loads(SCHEMA_PATH.read_text())
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(broken)) == []
    assert validate(broken) != []


def test_a_copy_of_the_catalog_loads_from_its_path(tmp_path, catalog_data):
    source = catalog_data["models"][0]["sources"][0]
    catalog_data["models"].append(
        {
            "name": "claude-test",
            "aliases": [],
            "provider": "anthropic",
            "family": "claude-test",
            "model_id": "anthropic.claude-test-20990101-v1:0",
            "lifecycle": {"status": "active", "source": source},
            "limits": {"max_output_tokens": 100, "default_max_tokens": 100},
            "capabilities": {"prompt_caching": False, "vision": False, "streaming": True},
            "sources": [source],
            "offers": [
                {
                    "kind": "inference-profile",
                    "scope": "eu",
                    "profile_id": "eu.anthropic.claude-test-20990101-v1:0",
                    "routes": {"eu-west-1": ["eu-west-1", "eu-central-1"]},
                    "source": source,
                }
            ],
        }
    )
    assert catalog_problems(catalog_data) == []
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog_data))
    copy_catalog = load_catalog(str(path))
    model = copy_catalog.model("claude-test")
    offer = copy_catalog.offer_for(model, "eu-west-1")
    assert offer.invoke_id == "eu.anthropic.claude-test-20990101-v1:0"
    assert offer.destinations("eu-west-1") == ("eu-west-1", "eu-central-1")
    assert "claude-test" not in load_catalog().by_key


def test_eol_models_keep_their_record():
    catalog = load_catalog()
    sonnet4 = catalog.model("claude-sonnet-4")
    assert sonnet4.status == EOL
    assert catalog.offer_for(sonnet4, "us-east-1").invoke_id == "us.anthropic.claude-sonnet-4-20250514-v1:0"
    assert "claude-sonnet-4" in catalog.names()
    assert "claude-sonnet-4" not in catalog.names(include_eol=False, day="2026-11-23")


def test_the_marshal_cache_is_keyed_by_format_and_file_and_matches_a_fresh_parse(tmp_path, catalog_data, monkeypatch):
    import marshal
    import sys

    from runtime.catalog import model as catalog_module

    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # PYTHONDONTWRITEBYTECODE=1: the data cache is still written
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog_data))
    fresh = catalog_module._read_data(str(path), use_cache=True)  # parses and writes the cache
    cache = tmp_path / "__pycache__" / f"catalog.json.{sys.implementation.cache_tag}.marshal"
    key, cached = marshal.loads(cache.read_bytes())  # noqa: S302 - the cache this test just wrote
    assert key[0] == catalog_module._CACHE_FORMAT
    assert cached == fresh
    # a cache of another format is ignored, not trusted
    cache.write_bytes(marshal.dumps(((key[0] - 1, *key[1:]), {"models": ()})))
    assert catalog_module._read_data(str(path), use_cache=True) == fresh


def test_offers_decode_lazily_and_equal_the_file(catalog_data):
    catalog = load_catalog()
    model = catalog.model("claude-sonnet-4.6")
    raw = next(m for m in catalog_data["models"] if m["name"] == "claude-sonnet-4.6")["offers"]
    assert [o.invoke_id for o in model.offers] == [o.get("profile_id") or model.model_id for o in raw]
    for offer, data in zip(model.offers, raw, strict=True):
        expected = data.get("routes") or {region: [region] for region in data["regions"]}
        assert {k: list(v) for k, v in offer.routes.items()} == expected
