"""The control-plane answers local AWS serves: a committed fixture in AWS's response shapes (checked
against botocore's Bedrock service model), not derived from the catalog, re-read when it changes."""

from __future__ import annotations

import functools
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from local.moto_patches import bedrock_control
from local.moto_patches.bedrock_control import AVAILABILITY, FIXTURE, LIST_MODELS, LIST_PROFILES, load_fixture
from runtime.catalog.check import NEW_MODEL, compare
from runtime.catalog.model import OVERLAY_ENV, load_catalog

DAY = "2026-12-04"
REPO = Path(__file__).resolve().parents[4]


@pytest.fixture(autouse=True)
def shipped_catalog_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(OVERLAY_ENV, str(tmp_path / "no-overlay.json"))


@functools.cache
def bedrock_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("bedrock")


def output_shape(operation: str) -> Any:
    return bedrock_model().operation_model(operation).output_shape


def validate(body: Any, operation: str) -> None:
    from botocore.validate import ParamValidator

    report = ParamValidator().validate(body, output_shape(operation))
    assert not report.has_errors(), report.generate_report()


def test_the_fixture_is_committed_data_not_generated() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "--error-unmatch", str(FIXTURE.relative_to(REPO))],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert tracked.returncode == 0, "local/fixtures/bedrock_control_plane.json must be a committed file"
    source = Path(bedrock_control.__file__).read_text(encoding="utf-8")
    assert "runtime.catalog.model" not in source and "load_catalog" not in source  # nothing derives it from the catalog


def test_every_body_has_the_aws_shape() -> None:
    data = load_fixture()
    assert {"us-east-1", "us-west-2"} <= set(data["regions"])
    for region, answers in data["regions"].items():
        validate(answers[LIST_MODELS], "ListFoundationModels")
        validate(answers[LIST_PROFILES], "ListInferenceProfiles")
        for model_id, body in answers[AVAILABILITY].items():
            assert body["modelId"] == model_id
            validate(body, "GetFoundationModelAvailability")
        for summary in answers[LIST_MODELS]["modelSummaries"]:
            assert summary["modelArn"] == f"arn:aws:bedrock:{region}::foundation-model/{summary['modelId']}"
        for profile in answers[LIST_PROFILES]["inferenceProfileSummaries"]:
            assert profile["inferenceProfileArn"].startswith(
                f"arn:aws:bedrock:{region}:123456789012:inference-profile/"
            )


def test_a_shape_error_is_caught() -> None:
    """The shape check can fail: a summary without its required modelArn, a misspelt field."""
    body = {"modelSummaries": [{"modelId": "m", "modelLifecycle": {"status": "LEGACY", "legacy_time": "x"}}]}
    with pytest.raises(AssertionError, match="modelArn"):
        validate(body, "ListFoundationModels")


def test_the_fixture_agrees_with_the_catalog_on_every_shipped_model() -> None:
    """The check against the independent fixture: no drift on what the catalog ships (models the
    catalog lacks show up as new-model drifts, which `catalog sync` absorbs)."""
    catalog = load_catalog()
    for region, answers in load_fixture()["regions"].items():
        result = compare(catalog, region, answers[LIST_MODELS]["modelSummaries"],
                         answers[LIST_PROFILES]["inferenceProfileSummaries"], day=DAY)  # fmt: skip
        assert [d.message for d in result.drifts if d.kind != NEW_MODEL] == [], region


def test_the_check_sees_an_edit_of_the_fixture() -> None:
    answers = load_fixture()["regions"]["us-west-2"]
    for profile in answers[LIST_PROFILES]["inferenceProfileSummaries"]:
        if profile["inferenceProfileId"] == "us.anthropic.claude-sonnet-4-6":
            profile["models"].pop()
    result = compare(load_catalog(), "us-west-2", answers[LIST_MODELS]["modelSummaries"],
                     answers[LIST_PROFILES]["inferenceProfileSummaries"], day=DAY)  # fmt: skip
    assert [d.kind for d in result.drifts if d.kind != NEW_MODEL] == ["destination-extra"]


def test_served_copy_starts_from_the_fixture_and_is_re_read_on_change(tmp_path: Path) -> None:
    served = tmp_path / "state" / bedrock_control.DATA_FILE_NAME
    bedrock_control.write_data(served)
    assert served.read_bytes() == FIXTURE.read_bytes()
    bedrock_control._state.update(path=str(served), mtime=None, data=None)
    try:
        assert "us-east-1" in bedrock_control._region_answers_regions()
        data = json.loads(served.read_text())
        data["regions"] = {"eu-north-1": data["regions"]["us-east-1"]}
        served.write_text(json.dumps(data))
        assert bedrock_control._region_answers_regions() == ["eu-north-1"]
    finally:
        bedrock_control._state.update(path=None, mtime=None, data=None)
