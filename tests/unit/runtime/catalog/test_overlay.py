"""The catalog overlay: its checks (the stdlib `problems` and the JSON schema file agree), where it
is found, and the merge rules (a hand-edited contradiction is refused; what cannot be placed)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from runtime.catalog.model import CATALOG_PATH, OVERLAY_ENV, load_catalog, overlay_path
from runtime.catalog.overlay import OverlayError, empty_overlay, merge, problems
from runtime.cli import main as cli_main

DAY = "2026-12-04"
REGION = "us-east-1"
SONNET_55 = "anthropic.claude-sonnet-5-5"


@pytest.fixture
def overlay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "catalog.local.json"
    monkeypatch.setenv(OVERLAY_ENV, str(path))
    return path


def one_error_line(capsys: Any) -> str:
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.err.startswith("error: "), captured.err
    return str(captured.err)


def test_overlay_path_env_then_beside_cdk_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(OVERLAY_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert overlay_path() is None  # no cdk.json here: no overlay
    (tmp_path / "cdk.json").write_text("{}")
    assert overlay_path() == str(tmp_path / "catalog.local.json")
    monkeypatch.setenv(OVERLAY_ENV, "elsewhere.json")
    assert overlay_path() == str(tmp_path / "elsewhere.json")
    assert load_catalog() is load_catalog(CATALOG_PATH)  # a named file that does not exist: no overlay


def test_hand_edited_overlay_is_refused(overlay: Path, capsys: Any) -> None:
    data = empty_overlay()
    data["lifecycle"]["anthropic.claude-sonnet-4-5-20250929-v1:0"] = {
        "status": "active", "source": f"bedrock:ListFoundationModels us-east-1 {DAY}"
    }  # fmt: skip
    overlay.write_text(json.dumps(data))
    with pytest.raises(OverlayError, match=r"moves anthropic\.claude-sonnet-4-5-20250929-v1:0 back from legacy"):
        load_catalog()
    assert cli_main(["models"]) == 2
    assert "without overrides" in one_error_line(capsys)
    data["lifecycle"]["anthropic.claude-sonnet-4-5-20250929-v1:0"]["overrides"] = ["status"]
    overlay.write_text(json.dumps(data))
    assert load_catalog().model("claude-sonnet-4.5").status == "active"  # the operator chose Bedrock's answer


def test_merge_refuses_what_it_cannot_place() -> None:
    raw = json.loads(Path(CATALOG_PATH).read_text())
    data = empty_overlay()
    route = {"destinations": ["us-east-1"], "source": f"bedrock:ListInferenceProfiles us-east-1 {DAY}"}
    data["profiles"]["us.anthropic.nope"] = {"model_id": "anthropic.nope", "scope": "us", "routes": {REGION: route}}
    with pytest.raises(OverlayError, match=r"anthropic\.nope, which is in neither"):
        merge(raw, data)
    data = empty_overlay()
    source = f"bedrock:X us-east-1 {DAY}"
    entry = {"name": "x", "description": "x", "provider": "anthropic", "family": "claude-opus", "source": source}
    data["models"]["anthropic.claude-opus-4-7"] = entry
    with pytest.raises(OverlayError, match="already has"):
        merge(raw, data)


def test_schema_file_and_problems_agree(overlay: Path) -> None:
    """runtime/catalog/overlay.schema.json (for editors and CI) accepts what `problems` accepts."""
    import jsonschema

    schema = json.loads((Path(CATALOG_PATH).parent / "overlay.schema.json").read_text())
    good = empty_overlay()
    good["models"][SONNET_55] = {"name": "claude-sonnet-5.5", "description": "Claude Sonnet 5.5",
                                 "provider": "anthropic", "family": "claude-sonnet",
                                 "source": f"bedrock:ListFoundationModels us-east-1 {DAY}",
                                 "on_demand": {}, "capabilities": {"streaming": True}}  # fmt: skip
    jsonschema.validate(good, schema)
    assert problems(good) == []
    bad = copy.deepcopy(good)
    bad["models"][SONNET_55]["source"] = "copied from a blog"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    assert problems(bad) != []
