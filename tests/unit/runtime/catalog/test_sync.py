"""`catalog sync`: facts read from Bedrock's answers (the committed fixture, each drift kind
injected), the overlay's merge and conflict rules, and bad input (one line, exit 2, the existing
overlay untouched). The clock is injected: every fact is "read on" DAY."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from local.moto_patches.bedrock_control import load_fixture
from runtime.catalog import sync as catalog_sync
from runtime.catalog.model import OVERLAY_ENV, load_catalog
from runtime.catalog.overlay import empty_overlay, problems
from runtime.catalog.resolve import resolve_model
from runtime.cli import main as cli_main

DAY = "2026-12-04"
REGION = "us-east-1"
HAIKU_55 = "anthropic.claude-haiku-5-5"


class ClientError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code, "Message": "..."}}


class FakeBedrock:
    """A control-plane client answering from fixture-shaped data (what boto3 would return)."""

    def __init__(self, answers: dict[str, Any], fail: dict[str, str] | None = None) -> None:
        self.answers, self.fail = answers, fail or {}

    def _maybe_fail(self, call: str) -> None:
        if call in self.fail:
            raise ClientError(self.fail[call])

    def list_foundation_models(self) -> dict[str, Any]:
        self._maybe_fail("list_foundation_models")
        return copy.deepcopy(self.answers["ListFoundationModels"])

    def list_inference_profiles(self, **_: Any) -> dict[str, Any]:
        self._maybe_fail("list_inference_profiles")
        return copy.deepcopy(self.answers["ListInferenceProfiles"])

    def get_foundation_model(self, **_: Any) -> dict[str, Any]:
        raise ClientError("ResourceNotFoundException")

    def get_inference_profile(self, **_: Any) -> dict[str, Any]:
        raise ClientError("ResourceNotFoundException")


@pytest.fixture
def overlay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "catalog.local.json"
    monkeypatch.setenv(OVERLAY_ENV, str(path))
    return path


@pytest.fixture
def answers() -> dict[str, dict[str, Any]]:
    return {region: copy.deepcopy(a) for region, a in load_fixture()["regions"].items()}


def serve(monkeypatch: pytest.MonkeyPatch, answers: dict[str, dict[str, Any]], **fail: str) -> None:
    monkeypatch.setattr(catalog_sync, "bedrock_client", lambda region, profile: FakeBedrock(answers[region], fail))


def summaries(answers: dict[str, Any]) -> list[dict[str, Any]]:
    return answers["ListFoundationModels"]["modelSummaries"]  # type: ignore[no-any-return]


def profiles(answers: dict[str, Any]) -> list[dict[str, Any]]:
    return answers["ListInferenceProfiles"]["inferenceProfileSummaries"]  # type: ignore[no-any-return]


def add_sonnet_55(answers: dict[str, Any], region: str = REGION) -> None:
    """A model Bedrock has that the catalog lacks, with its us. profile."""
    summaries(answers).append({
        "modelArn": f"arn:aws:bedrock:{region}::foundation-model/{HAIKU_55}", "modelId": HAIKU_55,
        "modelName": "Claude Haiku 5.5", "providerName": "Anthropic", "inputModalities": ["TEXT", "IMAGE"],
        "outputModalities": ["TEXT"], "responseStreamingSupported": True,
        "inferenceTypesSupported": ["INFERENCE_PROFILE"],
        "modelLifecycle": {"status": "ACTIVE", "startOfLifeTime": "2026-10-07T00:00:00Z"},
    })  # fmt: skip
    profiles(answers).append({
        "inferenceProfileName": "US Claude Haiku 5.5", "inferenceProfileId": f"us.{HAIKU_55}",
        "inferenceProfileArn": f"arn:aws:bedrock:{region}:123456789012:inference-profile/us.{HAIKU_55}",
        "models": [{"modelArn": f"arn:aws:bedrock:{r}::foundation-model/{HAIKU_55}"}
                   for r in ("us-east-1", "us-east-2", "us-west-2")],
        "status": "ACTIVE", "type": "SYSTEM_DEFINED",
    })  # fmt: skip


def summary_of(answers: dict[str, Any], model_id: str) -> dict[str, Any]:
    return next(s for s in summaries(answers) if s["modelId"] == model_id)


def profile_of(answers: dict[str, Any], profile_id: str) -> dict[str, Any]:
    return next(p for p in profiles(answers) if p["inferenceProfileId"] == profile_id)


def run(*argv: str) -> int:
    return catalog_sync.main(list(argv), day=DAY)


def test_nothing_new_against_the_fixture_writes_an_empty_overlay(
    monkeypatch: pytest.MonkeyPatch, answers: Any, overlay: Path, capsys: Any
) -> None:
    for region in answers:  # the fixture's models the shipped catalog lacks are not this test's subject
        known = {m.model_id for m in load_catalog()}
        summaries(answers[region])[:] = [s for s in summaries(answers[region]) if s["modelId"] in known]
    serve(monkeypatch, answers)
    assert run("--region", REGION, "--write") == 0
    assert capsys.readouterr().out == "catalog sync us-east-1: nothing new\n"
    assert json.loads(overlay.read_text()) == empty_overlay()


def test_a_new_model_is_absorbed_and_resolves(monkeypatch: pytest.MonkeyPatch, answers: Any, overlay: Path,
                                              capsys: Any) -> None:  # fmt: skip
    add_sonnet_55(answers[REGION])
    serve(monkeypatch, answers)
    assert run("--region", REGION) == 0  # dry run
    assert "not written (dry run; add --write)" in capsys.readouterr().out and not overlay.exists()
    assert run("--region", REGION, "--write") == 0
    out = capsys.readouterr().out
    assert f"sync: new model claude-haiku-5.5 ({HAIKU_55}), active, read in us-east-1\n" in out
    data = json.loads(overlay.read_text())
    assert problems(data) == []
    assert data["models"][HAIKU_55]["source"] == f"bedrock:ListFoundationModels us-east-1 {DAY}"
    assert data["lifecycle"][HAIKU_55]["start_date"] == "2026-10-07"
    route = data["profiles"][f"us.{HAIKU_55}"]["routes"][REGION]
    assert route == {"destinations": ["us-east-1", "us-east-2", "us-west-2"],
                     "source": f"bedrock:ListInferenceProfiles us-east-1 {DAY}"}  # fmt: skip
    assert resolve_model("claude-haiku-5.5", REGION) == f"us.{HAIKU_55}"
    model = load_catalog().model("claude-haiku-5.5")
    assert model.synced and model.request_rules.thinking is None and model.max_output_tokens is None
    assert cli_main(["models", "--json"]) == 0
    row = next(r for r in json.loads(capsys.readouterr().out) if r["name"] == "claude-haiku-5.5")
    assert row["synced"] == f"bedrock:ListFoundationModels us-east-1 {DAY}" and row["thinking"] is None
    assert cli_main(["models"]) == 0
    assert any("none (synced)" in line for line in capsys.readouterr().out.splitlines() if "claude-haiku-5.5" in line)


def test_a_new_destination_is_added_to_the_route(monkeypatch: pytest.MonkeyPatch, answers: Any, overlay: Path) -> None:
    arn = "arn:aws:bedrock:ca-central-1::foundation-model/anthropic.claude-sonnet-4-6"
    profile_of(answers[REGION], "us.anthropic.claude-sonnet-4-6")["models"].append({"modelArn": arn})
    serve(monkeypatch, answers)
    assert run("--region", REGION, "--write") == 0
    catalog = load_catalog()
    assert "ca-central-1" in catalog.destinations(catalog.model("claude-sonnet-4.6"), REGION)
    assert catalog.destinations(catalog.model("claude-sonnet-4.6"), "us-west-2") == (
        "us-east-1",
        "us-east-2",
        "us-west-2",
    )


def test_a_model_turned_legacy_with_dates(monkeypatch: pytest.MonkeyPatch, answers: Any, overlay: Path) -> None:
    summary_of(answers[REGION], "anthropic.claude-opus-4-6-v1")["modelLifecycle"] = {
        "status": "LEGACY", "legacyTime": "2026-12-01T00:00:00Z", "endOfLifeTime": "2027-06-01T00:00:00Z",
        "publicExtendedAccessTime": "2027-03-01T00:00:00Z",
    }  # fmt: skip
    serve(monkeypatch, answers)
    assert run("--region", REGION, "--write") == 0
    life = load_catalog().model("claude-opus-4.6").lifecycle
    assert (life.status, life.legacy_date, life.eol_date) == ("legacy", "2026-12-01", "2027-06-01")
    assert life.source == f"bedrock:ListFoundationModels us-east-1 {DAY}"
    assert json.loads(overlay.read_text())["lifecycle"]["anthropic.claude-opus-4-6-v1"]["extended_access_date"] == (
        "2027-03-01"
    )


def test_a_conflict_is_printed_and_kept_unless_prefer_bedrock(
    monkeypatch: pytest.MonkeyPatch, answers: Any, overlay: Path, capsys: Any
) -> None:
    """The catalog has Sonnet 4.5 Legacy (2026-10-08 -> 2027-04-08); Bedrock says another EOL date."""
    sonnet45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"
    summary_of(answers[REGION], sonnet45)["modelLifecycle"]["endOfLifeTime"] = "2027-05-01T00:00:00Z"
    serve(monkeypatch, answers)
    assert run("--region", REGION, "--write") == 0
    out = capsys.readouterr().out
    assert "conflict: claude-sonnet-4.5: Bedrock's eol_date is 2027-05-01, the catalog's 2027-04-08" in out
    assert "kept the catalog's" in out
    assert load_catalog().model("claude-sonnet-4.5").lifecycle.eol_date == "2027-04-08"
    assert run("--region", REGION, "--write", "--prefer-bedrock") == 0
    assert "Bedrock's answer written (--prefer-bedrock)" in capsys.readouterr().out
    assert load_catalog().model("claude-sonnet-4.5").lifecycle.eol_date == "2027-05-01"


def test_a_dropped_destination_is_a_conflict(monkeypatch: pytest.MonkeyPatch, answers: Any, overlay: Path,
                                             capsys: Any) -> None:  # fmt: skip
    profile = profile_of(answers[REGION], "us.anthropic.claude-sonnet-4-6")
    profile["models"] = [m for m in profile["models"] if ":us-west-2:" not in m["modelArn"]]
    serve(monkeypatch, answers)
    assert run("--region", REGION, "--write") == 0
    assert "conflict: us.anthropic.claude-sonnet-4-6 from us-east-1: Bedrock no longer routes to us-west-2" in (
        capsys.readouterr().out
    )
    catalog = load_catalog()
    assert "us-west-2" in catalog.destinations(catalog.model("claude-sonnet-4.6"), REGION)
    assert run("--region", REGION, "--write", "--prefer-bedrock") == 0
    catalog = load_catalog()
    assert "us-west-2" not in catalog.destinations(catalog.model("claude-sonnet-4.6"), REGION)


def test_facts_of_regions_not_read_are_kept(monkeypatch: pytest.MonkeyPatch, answers: Any, overlay: Path) -> None:
    add_sonnet_55(answers["us-west-2"], "us-west-2")
    serve(monkeypatch, answers)
    assert run("--region", "us-west-2", "--write") == 0
    assert run("--region", REGION, "--write") == 0  # us-east-1 lacks it; us-west-2's fact stays
    assert resolve_model("claude-haiku-5.5", "us-west-2") == f"us.{HAIKU_55}"


# --- bad input: one line, exit 2, the existing overlay untouched ----------------------------------


def one_error_line(capsys: Any) -> str:
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.err.startswith("error: "), captured.err
    return str(captured.err)


def test_malformed_overlay(monkeypatch: pytest.MonkeyPatch, answers: Any, overlay: Path, capsys: Any) -> None:
    overlay.write_text('{"overlay_version": 1, "models": {')
    serve(monkeypatch, answers)
    assert run("--region", REGION, "--write") == 2
    assert "is not valid JSON" in one_error_line(capsys)
    assert overlay.read_text() == '{"overlay_version": 1, "models": {'
    assert cli_main(["resolve", "claude-large"]) == 2  # every reader refuses it, in one line
    assert "catalog overlay" in one_error_line(capsys)


def test_overlay_naming_a_model_bedrock_does_not_list(
    monkeypatch: pytest.MonkeyPatch, answers: Any, overlay: Path, capsys: Any
) -> None:
    add_sonnet_55(answers[REGION])
    serve(monkeypatch, answers)
    assert run("--region", REGION, "--write") == 0
    before = overlay.read_bytes()
    summaries(answers[REGION])[:] = [s for s in summaries(answers[REGION]) if s["modelId"] != HAIKU_55]
    assert run("--region", REGION, "--write") == 2
    assert f"names {HAIKU_55} (read in us-east-1), which Bedrock does not list in us-east-1" in one_error_line(capsys)
    assert overlay.read_bytes() == before


@pytest.mark.parametrize(
    ("fail", "expected"),
    [
        ({"list_inference_profiles": "AccessDeniedException"}, "Bedrock denied the control-plane call in us-west-2"),
        ({"list_foundation_models": "ThrottlingException"}, "Bedrock throttled the control-plane calls in us-west-2"),
    ],
)
def test_a_failed_call_writes_nothing(monkeypatch: pytest.MonkeyPatch, answers: Any, overlay: Path, capsys: Any,
                                      fail: dict[str, str], expected: str) -> None:  # fmt: skip
    add_sonnet_55(answers[REGION])
    serve(monkeypatch, answers)
    assert run("--region", REGION, "--write") == 0
    before = overlay.read_bytes()

    def client(region: str, profile: str | None) -> FakeBedrock:
        return FakeBedrock(answers[region], fail if region != REGION else {})

    monkeypatch.setattr(catalog_sync, "bedrock_client", client)
    assert run("--region", REGION, "--region", "us-west-2", "--write") == 2  # the second Region fails
    assert expected in one_error_line(capsys)
    assert overlay.read_bytes() == before


def test_region_outside_the_partition(overlay: Path, capsys: Any) -> None:
    assert run("--region", "cn-north-1", "--write") == 2
    assert "aws-cn partition" in one_error_line(capsys)
    assert not overlay.exists()


def test_no_operator_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, overlay: Path, capsys: Any) -> None:
    """The real boto3 credential chain, with nothing to find."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert cli_main(["catalog", "sync", "--region", "eu-west-1", "--write"]) == 2
    assert "no AWS credentials found" in one_error_line(capsys)
    assert not overlay.exists()
