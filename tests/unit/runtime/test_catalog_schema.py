"""The catalog file against its JSON Schema plus the cross-field rules a schema cannot say."""

import copy
import json
from pathlib import Path

import jsonschema
import pytest

from runtime.catalog import CATALOG_PATH, is_region_name, load_catalog, normalize_name

SCHEMA_PATH = Path(CATALOG_PATH).with_name("catalog.schema.json")


def catalog_problems(data: dict) -> list[str]:
    """Schema errors and semantic errors of a catalog document (empty: valid)."""
    schema = json.loads(SCHEMA_PATH.read_text())
    problems = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(data)]
    if problems:
        return problems
    keys: dict[str, str] = {}
    ids: set[str] = set()
    for model in data["models"]:
        for name in (model["name"], *model["aliases"]):
            key = normalize_name(name)
            if key in keys and keys[key] != model["name"]:
                problems.append(f"{name!r} of {model['name']} collides with {keys[key]}")
            keys[key] = model["name"]
        if model["model_id"] in ids:
            problems.append(f"duplicate model_id {model['model_id']}")
        ids.add(model["model_id"])
        for geo in model["geographies"]:
            if geo not in data["geographies"]:
                problems.append(f"{model['name']} names unknown geography {geo!r}")
    for name, geo in data["geographies"].items():
        for region in geo["source_regions"] + geo["destination_regions"]:
            if not is_region_name(region):
                problems.append(f"geography {name}: {region!r} is not a region")
    return problems


@pytest.fixture
def catalog_data() -> dict:
    return json.loads(Path(CATALOG_PATH).read_text())


def test_shipped_catalog_is_valid(catalog_data):
    assert catalog_problems(catalog_data) == []


def test_seed_models_are_present_with_their_scope(catalog_data):
    by_name = {m["name"]: m for m in catalog_data["models"]}
    assert by_name["claude-large"]["model_id"] == "anthropic.claude-opus-4-5-20251101-v1:0"
    assert by_name["claude-large"]["profile_scope"] == "global"
    assert by_name["claude-sonnet-4"]["profile_scope"] == "geo"
    assert by_name["claude-sonnet-4.5"]["profile_scope"] == "geo"
    assert any(m["model_id"].startswith("anthropic.claude-haiku-4-5") for m in catalog_data["models"])


def _drop_max_tokens(d):
    del d["models"][0]["max_tokens"]


def _bad_scope(d):
    d["models"][0]["profile_scope"] = "regional"


def _geo_without_geographies(d):
    d["models"][1]["geographies"] = []


def _global_with_geographies(d):
    d["models"][0]["geographies"] = ["us"]


def _unknown_geography(d):
    d["models"][1]["geographies"] = ["mars"]


def _alias_collision(d):
    d["models"][1]["aliases"].append("Claude_Large")


def _duplicate_id(d):
    d["models"][2]["model_id"] = d["models"][1]["model_id"]


def _bad_model_id(d):
    d["models"][0]["model_id"] = "claude opus"


def _bad_destination(d):
    d["geographies"]["us"]["destination_regions"].append("useast1")


def _extra_field(d):
    d["models"][0]["price"] = 3


@pytest.mark.parametrize(
    "breakage",
    [
        _drop_max_tokens,
        _bad_scope,
        _geo_without_geographies,
        _global_with_geographies,
        _unknown_geography,
        _alias_collision,
        _duplicate_id,
        _bad_model_id,
        _bad_destination,
        _extra_field,
    ],
)
def test_a_broken_entry_fails_validation(catalog_data, breakage):
    broken = copy.deepcopy(catalog_data)
    breakage(broken)
    assert catalog_problems(broken) != []


def test_loaded_catalog_matches_file(catalog_data):
    catalog = load_catalog()
    assert catalog.names() == [m["name"] for m in catalog_data["models"]]
    assert set(catalog.geographies) == set(catalog_data["geographies"])


def test_a_copy_of_the_catalog_loads_from_its_path(tmp_path, catalog_data):
    catalog_data["models"].append(
        {
            "name": "claude-test",
            "aliases": [],
            "model_id": "anthropic.claude-test-20990101-v1:0",
            "profile_scope": "geo",
            "geographies": ["eu"],
            "max_tokens": 100,
            "capabilities": {"prompt_caching": False, "vision": False, "streaming": True},
        }
    )
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog_data))
    copy_catalog = load_catalog(str(path))
    model = copy_catalog.by_key["claude-test"]
    assert copy_catalog.profile_id(model, "eu-west-1") == "eu.anthropic.claude-test-20990101-v1:0"
    assert "claude-test" not in load_catalog().by_key
