"""The control-plane answers local AWS serves: AWS's shape, generated from the catalog, so the
drift check is clean in every source Region of the catalog."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local.moto_patches.bedrock_control import control_plane_data, write_data
from runtime.catalog import load_catalog
from runtime.catalog_check import compare

DAY = "2026-11-23"
ACCOUNT = "123456789012"


@pytest.fixture(autouse=True)
def today_is_the_catalog_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("runtime.catalog.today_utc", lambda: DAY)


def test_clean_in_every_source_region_of_the_catalog() -> None:
    catalog = load_catalog()
    data = control_plane_data(ACCOUNT, catalog, day=DAY)
    regions = {region for model in catalog for region in model.source_regions() if not model.is_eol(DAY)}
    assert set(data["regions"]) == regions
    for region, answers in data["regions"].items():
        result = compare(
            catalog,
            region,
            answers["ListFoundationModels"]["modelSummaries"],
            answers["ListInferenceProfiles"]["inferenceProfileSummaries"],
            day=DAY,
        )
        assert result.drifts == (), region


def test_shapes_and_arns() -> None:
    answers = control_plane_data(ACCOUNT, day=DAY)["regions"]["us-east-1"]
    by_id = {s["modelId"]: s for s in answers["ListFoundationModels"]["modelSummaries"]}
    sonnet45 = by_id["anthropic.claude-sonnet-4-5-20250929-v1:0"]
    assert sonnet45["modelLifecycle"] == {
        "status": "LEGACY",
        "legacyTime": "2026-10-08T00:00:00Z",
        "endOfLifeTime": "2027-04-08T00:00:00Z",
    }
    assert (
        sonnet45["modelArn"] == "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0"
    )
    assert by_id["amazon.nova-micro-v1:0"]["inferenceTypesSupported"] == ["ON_DEMAND"]
    assert "anthropic.claude-sonnet-4-20250514-v1:0" not in by_id  # end of life
    profiles = {p["inferenceProfileId"]: p for p in answers["ListInferenceProfiles"]["inferenceProfileSummaries"]}
    glob = profiles["global.anthropic.claude-opus-4-5-20251101-v1:0"]
    assert glob["inferenceProfileArn"] == (
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/global.anthropic.claude-opus-4-5-20251101-v1:0"
    )
    assert [m["modelArn"] for m in glob["models"]] == [
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-opus-4-5-20251101-v1:0",
        "arn:aws:bedrock:::foundation-model/anthropic.claude-opus-4-5-20251101-v1:0",
    ]
    assert set(glob) == {
        "inferenceProfileName", "description", "createdAt", "updatedAt", "inferenceProfileArn",
        "models", "inferenceProfileId", "status", "type",
    }  # fmt: skip


def test_data_file_is_deterministic(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    write_data(first, ACCOUNT)
    write_data(second, ACCOUNT)
    assert first.read_bytes() == second.read_bytes()
    assert json.loads(first.read_text())["account"] == ACCOUNT
