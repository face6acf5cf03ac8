"""runtime.catalog.admission: the one rule for which models a list admits, from which regions, on which day."""

from __future__ import annotations

import pytest

from runtime.catalog.admission import admit
from runtime.catalog.model import load_catalog
from runtime.errors import ConfigError, EndOfLifeError, RegionError, UnknownModelError


def test_names_and_aliases_admit_their_models_in_catalog_order_with_offers_per_region():
    admission = admit(["sonnet-4.5", "Claude_Large"], ["us-east-1", "eu-west-1"], day="2026-11-23")
    assert admission.names == ("claude-large", "claude-sonnet-4.5")
    assert admission.offer("claude-sonnet-4.5", "eu-west-1").invoke_id.startswith("eu.anthropic.")
    assert admission.offer("claude-sonnet-4.5", "us-east-1").invoke_id.startswith("us.anthropic.")
    assert not admission.everything


def test_all_and_missing_mean_every_model_offered_from_every_region_and_not_past_end_of_life():
    catalog = load_catalog()
    everything = admit(None, ["us-east-1"], day="2026-11-23")
    assert everything.everything and everything.names == admit("ALL", ["us-east-1"], day="2026-11-23").names
    assert "claude-sonnet-4" not in everything.names  # end of life 2026-10-14
    assert "claude-sonnet-4.5" not in admit(None, ["us-east-1"], day="2027-04-09").names  # its end of life: 2027-04-08
    both = admit("all", ["us-east-1", "sa-east-1"], day="2026-11-23").names
    assert "claude-haiku-4.5" in everything.names and "claude-haiku-4.5" not in both
    assert all(catalog.offer_for(catalog.model(name), "sa-east-1") for name in both)


@pytest.mark.parametrize(
    ("names", "regions", "error", "fragment"),
    [
        ("", ["us-east-1"], ConfigError, "names no model"),
        ("none", ["us-east-1"], ConfigError, "names no model"),
        (5, ["us-east-1"], ConfigError, "comma list"),
        ("claude-huge", ["us-east-1"], UnknownModelError, "unknown model 'claude-huge'"),
        ("claude-sonnet-4", ["us-east-1"], EndOfLifeError, "reached end of life"),
        ("claude-haiku-4.5", ["ap-southeast-1"], RegionError, "use a region"),
        ("claude-haiku-4.5", ["us-east-1", "sa-east-1"], RegionError, "not offered from source region sa-east-1"),
        ("all", ["us-iso-east-1"], ConfigError, "no catalog model is offered"),
    ],
)
def test_a_bad_list_is_one_error_line_naming_where_it_came_from(names, regions, error, fragment):
    with pytest.raises(error) as info:
        admit(names, regions, day="2026-11-23", where="context key allowed_models")
    message = str(info.value)
    assert message.startswith("context key allowed_models") and fragment in message and "\n" not in message


def test_keep_eol_admits_a_named_end_of_life_model_for_the_runtime_to_refuse_per_call():
    assert admit("claude-sonnet-4", day="2026-11-23", keep_eol=True).names == ("claude-sonnet-4",)


def test_offer_for_runs_once_per_model_and_region(monkeypatch):
    catalog = load_catalog()
    calls: list[tuple[str, str]] = []
    real = type(catalog).offer_for

    def counting(self, model, region):
        calls.append((model.name, region))
        return real(self, model, region)

    monkeypatch.setattr(type(catalog), "offer_for", counting)
    names, regions = ["claude-haiku-4.5", "claude-sonnet-4.6"], ["us-east-2", "us-west-2"]
    first = admit(names, regions, day="2001-01-01", catalog=catalog)
    again = admit(names, regions, day="2001-01-01", catalog=catalog)
    assert again is first
    assert sorted(calls) == sorted(set(calls)) and len(calls) == 4
