"""Bedrock's control plane in local AWS: ListFoundationModels, GetFoundationModel,
ListInferenceProfiles, GetInferenceProfile, GetFoundationModelAvailability (moto 5.2.5 routes
them but implements none).

The answers come from a data file shaped exactly like the AWS API responses, per Region:
``{"ListFoundationModels": {"modelSummaries": [...]}, "ListInferenceProfiles":
{"inferenceProfileSummaries": [...]}, "GetFoundationModelAvailability": {"<model id>": {...}}}``
(field names and nesting from the Bedrock API Reference). When the server starts, the file is
copied from the **committed fixture** ``local/fixtures/bedrock_control_plane.json``, written by
hand from AWS's documented shapes and today's lineup -- never generated from the catalog, so that
``catalog check`` against local AWS compares the catalog with something outside it. The copy lives
next to the server's state file (``.local/bedrock_control_plane.json``) and is re-read whenever it
changes, so a test injects drift by writing its own answers into it.
"""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from typing import Any
from urllib.parse import unquote

DATA_FILE_NAME = "bedrock_control_plane.json"
FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / DATA_FILE_NAME
LIST_MODELS = "ListFoundationModels"
LIST_PROFILES = "ListInferenceProfiles"
AVAILABILITY = "GetFoundationModelAvailability"

_lock = threading.Lock()
_state: dict[str, Any] = {"path": None, "mtime": None, "data": None}
_installed = False


def load_fixture(path: Path = FIXTURE) -> dict[str, Any]:
    """The committed control-plane answers (a fresh copy each call: callers may edit it)."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def write_data(path: Path, source: Path = FIXTURE) -> None:
    """Start the served file from the committed fixture (a copy: tests edit the served file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    shutil.copyfile(source, temp)
    temp.replace(path)


def _data() -> dict[str, Any]:
    """The data file's content, re-read when its modification time changes."""
    path = _state["path"]
    if path is None:
        return {"regions": {}}
    with _lock:
        stat = Path(path).stat()
        mtime = (stat.st_mtime_ns, stat.st_ino, stat.st_size)  # any rewrite changes one of them
        if mtime != _state["mtime"]:
            _state["data"] = json.loads(Path(path).read_text(encoding="utf-8"))
            _state["mtime"] = mtime
        return dict(_state["data"])


def _region_answers_regions() -> list[str]:
    """The Regions the served file answers for (tests: the file is re-read on change)."""
    return sorted(_data()["regions"])


def _region_answers(region: str) -> dict[str, Any]:
    answers = _data()["regions"].get(region) or {}
    return {
        LIST_MODELS: answers.get(LIST_MODELS) or {"modelSummaries": []},
        LIST_PROFILES: answers.get(LIST_PROFILES) or {"inferenceProfileSummaries": []},
        AVAILABILITY: answers.get(AVAILABILITY) or {},
    }


def _not_found(message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    error = JsonRESTError("ResourceNotFoundException", message)
    error.code = 404  # Bedrock's ResourceNotFoundException is HTTP 404 (moto's own uses 400)
    return error


def _identifier(response: Any, name: str) -> str:
    value = (getattr(response, "uri_match", None) or {}).get(name) or response.path.rstrip("/").rsplit("/", 1)[-1]
    return unquote(unquote(str(value)))


def _first(response: Any, name: str) -> str | None:
    values = response.querystring.get(name)
    return str(values[0]) if values else None


def list_foundation_models(self: Any) -> str:
    summaries = _region_answers(self.region)[LIST_MODELS]["modelSummaries"]
    provider = _first(self, "byProvider")
    inference = _first(self, "byInferenceType")
    if provider:
        summaries = [s for s in summaries if str(s.get("providerName", "")).lower() == provider.lower()]
    if inference:
        summaries = [s for s in summaries if inference in (s.get("inferenceTypesSupported") or [])]
    return json.dumps({"modelSummaries": summaries})


def get_foundation_model(self: Any) -> str:
    wanted = _identifier(self, "modelIdentifier")
    for summary in _region_answers(self.region)[LIST_MODELS]["modelSummaries"]:
        if wanted in (summary.get("modelId"), summary.get("modelArn")):
            return json.dumps({"modelDetails": summary})
    raise _not_found(f"Could not resolve the foundation model from the provided model identifier: {wanted}")


def list_inference_profiles(self: Any) -> str:
    profiles = _region_answers(self.region)[LIST_PROFILES]["inferenceProfileSummaries"]
    wanted_type = _first(self, "type")
    if wanted_type:
        profiles = [p for p in profiles if p.get("type") == wanted_type]
    start = int(_first(self, "nextToken") or 0)
    size = int(_first(self, "maxResults") or 1000)
    page: dict[str, Any] = {"inferenceProfileSummaries": profiles[start : start + size]}
    if start + size < len(profiles):
        page["nextToken"] = str(start + size)
    return json.dumps(page)


def get_inference_profile(self: Any) -> str:
    wanted = _identifier(self, "inferenceProfileIdentifier")
    for profile in _region_answers(self.region)[LIST_PROFILES]["inferenceProfileSummaries"]:
        if wanted in (profile.get("inferenceProfileId"), profile.get("inferenceProfileArn")):
            return json.dumps(profile)
    raise _not_found(f"The specified inference profile {wanted} does not exist.")


def get_foundation_model_availability(self: Any) -> str:
    wanted = _identifier(self, "modelId")
    body = _region_answers(self.region)[AVAILABILITY].get(wanted)
    if body is None:
        raise _not_found(f"Could not resolve the foundation model from the provided model identifier: {wanted}")
    return json.dumps(body)


def install(data_file: Path) -> None:
    """Start `data_file` from the committed fixture and serve it; call inside the server process."""
    global _installed
    from moto.bedrock.responses import BedrockResponse

    write_data(data_file)
    with _lock:
        _state.update(path=str(data_file), mtime=None, data=None)
    if _installed:
        return
    handlers = (list_foundation_models, get_foundation_model, list_inference_profiles, get_inference_profile,
                get_foundation_model_availability)  # fmt: skip
    for handler in handlers:
        setattr(BedrockResponse, handler.__name__, handler)
    _installed = True
