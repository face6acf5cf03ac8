"""Bedrock's control plane in local AWS: ListFoundationModels, GetFoundationModel,
ListInferenceProfiles, GetInferenceProfile (moto 5.2.5 routes them but implements none).

The answers come from a data file shaped exactly like the AWS API responses (per Region:
``{"ListFoundationModels": {"modelSummaries": [...]}, "ListInferenceProfiles":
{"inferenceProfileSummaries": [...]}}``; field names and nesting from the Bedrock API Reference).
The file is **generated from the catalog** when the server starts (:func:`control_plane_data`), so
the catalog stays the one source of truth and ``catalog check`` against local AWS is clean by
construction; it lives next to the server's state file (``.local/bedrock_control_plane.json``) and
is re-read whenever it changes, so a test injects drift by editing it.

What is served, per source Region R of the catalog (end-of-life models are absent, as on AWS):
a model summary for each model offered from R (``LEGACY`` when the catalog says so on the day the
server starts), and each SYSTEM_DEFINED profile usable from R with one ``models[].modelArn`` per
destination Region of the catalog's route from R (a global profile: the foundation model in R
plus the Region-less ARN AWS's global-inference page names; what AWS lists there is not confirmed).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from runtime.atomicfile import atomic_write_text
from runtime.catalog import ANY_COMMERCIAL_REGION, EOL, LEGACY, Catalog, load_catalog

DATA_FILE_NAME = "bedrock_control_plane.json"
LIST_MODELS = "ListFoundationModels"
LIST_PROFILES = "ListInferenceProfiles"
PROVIDER_NAMES = {"anthropic": "Anthropic", "amazon": "Amazon"}
# A fixed timestamp keeps the generated file deterministic (no AWS date is claimed by it).
CREATED_AT = "2026-01-01T00:00:00Z"

_lock = threading.Lock()
_state: dict[str, Any] = {"path": None, "mtime": None, "data": None}
_installed = False


def _timestamp(day: str | None) -> str | None:
    return None if day is None else f"{day}T00:00:00Z"


def model_summary(model: Any, region: str, status: str) -> dict[str, Any]:
    """A FoundationModelSummary for a catalog model in `region`."""
    lifecycle: dict[str, Any] = {"status": "LEGACY" if status == LEGACY else "ACTIVE"}
    for key, day in (("legacyTime", model.lifecycle.legacy_date), ("endOfLifeTime", model.lifecycle.eol_date)):
        if day:
            lifecycle[key] = _timestamp(day)
    on_demand = any(not o.is_profile and region in o.source_regions for o in model.offers)
    return {
        "modelArn": f"arn:aws:bedrock:{region}::foundation-model/{model.model_id}",
        "modelId": model.model_id,
        "modelName": model.description,
        "providerName": PROVIDER_NAMES.get(model.provider, model.provider.title()),
        "inputModalities": ["TEXT", "IMAGE"] if model.capabilities.get("vision") else ["TEXT"],
        "outputModalities": ["TEXT"],
        "responseStreamingSupported": bool(model.capabilities.get("streaming", True)),
        "customizationsSupported": [],
        "inferenceTypesSupported": ["ON_DEMAND"] if on_demand else ["INFERENCE_PROFILE"],
        "modelLifecycle": lifecycle,
    }


def profile_summary(model: Any, offer: Any, region: str, account: str) -> dict[str, Any]:
    """An InferenceProfileSummary of `offer` as Bedrock answers it from source Region `region`."""
    arns = []
    for destination in offer.destinations(region):
        if destination == ANY_COMMERCIAL_REGION:
            arns.append(f"arn:aws:bedrock:{region}::foundation-model/{model.model_id}")
            arns.append(f"arn:aws:bedrock:::foundation-model/{model.model_id}")
        else:
            arns.append(f"arn:aws:bedrock:{destination}::foundation-model/{model.model_id}")
    scope = "Global" if offer.is_global else str(offer.scope).upper()
    return {
        "inferenceProfileName": f"{scope} {model.description}",
        "description": f"Routes requests to {model.description} in {len(arns)} destination(s).",
        "createdAt": CREATED_AT,
        "updatedAt": CREATED_AT,
        "inferenceProfileArn": f"arn:aws:bedrock:{region}:{account}:inference-profile/{offer.profile_id}",
        "models": [{"modelArn": arn} for arn in dict.fromkeys(arns)],
        "inferenceProfileId": offer.profile_id,
        "status": "ACTIVE",
        "type": "SYSTEM_DEFINED",
    }


def control_plane_data(account: str, catalog: Catalog | None = None, day: str | None = None) -> dict[str, Any]:
    """Per-Region control-plane answers consistent with the catalog (deterministic for a day)."""
    catalog = catalog or load_catalog()
    regions: dict[str, dict[str, Any]] = {}
    for model in catalog:
        status = model.status_on(day)
        if status == EOL:
            continue  # the API has no EOL status: an end-of-life model is not listed
        for region in model.source_regions():
            answers = regions.setdefault(region, {LIST_MODELS: {"modelSummaries": []},
                                                  LIST_PROFILES: {"inferenceProfileSummaries": []}})  # fmt: skip
            answers[LIST_MODELS]["modelSummaries"].append(model_summary(model, region, status))
            for offer in model.offers:
                if offer.is_profile and region in offer.source_regions:
                    summary = profile_summary(model, offer, region, account)
                    answers[LIST_PROFILES]["inferenceProfileSummaries"].append(summary)
    return {"account": account, "regions": dict(sorted(regions.items()))}


def write_data(path: Path, account: str) -> None:
    """Generate the data file from the catalog (atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(control_plane_data(account), indent=1) + "\n", mode=0o644)


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


def _region_answers(region: str) -> dict[str, Any]:
    answers = _data()["regions"].get(region) or {}
    return {
        LIST_MODELS: answers.get(LIST_MODELS) or {"modelSummaries": []},
        LIST_PROFILES: answers.get(LIST_PROFILES) or {"inferenceProfileSummaries": []},
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


def install(data_file: Path) -> None:
    """Generate `data_file` from the catalog and serve it; call inside the server process."""
    global _installed
    from moto.bedrock.responses import BedrockResponse
    from moto.core.models import DEFAULT_ACCOUNT_ID

    write_data(data_file, DEFAULT_ACCOUNT_ID)
    with _lock:
        _state.update(path=str(data_file), mtime=None, data=None)
    if _installed:
        return
    for handler in (list_foundation_models, get_foundation_model, list_inference_profiles, get_inference_profile):
        setattr(BedrockResponse, handler.__name__, handler)
    _installed = True
