"""Bedrock's control plane as local AWS serves it: ListFoundationModels, ListInferenceProfiles and
GetInferenceProfile, answered from a data file shaped exactly like the AWS API responses.

moto has no Bedrock control plane for these calls, so the local-AWS launcher (`local.aws_server`)
puts :class:`ControlPlaneApp` in front of moto's WSGI app, in the server process; nothing the
stack does changes. The data file (`local/data/bedrock_control_plane.json`) is generated from the
catalog, so ``python -m runtime catalog check`` against local AWS is clean unless a test edits a
copy of it (``PORTKEY_BEDROCK_CONTROL_PLANE`` names another file)::

    python -m local.bedrock_control_plane generate     # after a catalog change

Response shapes, per the Bedrock API reference:
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_ListFoundationModels.html
(``modelSummaries[]`` with ``modelLifecycle.status`` ACTIVE | LEGACY:
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_FoundationModelLifecycle.html),
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_ListInferenceProfiles.html
(``inferenceProfileSummaries[]``, ``nextToken``) and
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GetInferenceProfile.html
(``models[].modelArn`` = the foundation model in each destination region). A model past end of
life is absent from ListFoundationModels (the API has no EOL status). What a global profile's
``models[]`` lists is not documented; the generator lists the region-less model ARN.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from runtime.catalog import ANY_COMMERCIAL_REGION, Catalog, load_catalog

DATA_FILE = Path(__file__).resolve().parent / "data" / "bedrock_control_plane.json"
ENV_DATA_FILE = "PORTKEY_BEDROCK_CONTROL_PLANE"
PROVIDER_NAMES = {"anthropic": "Anthropic", "amazon": "Amazon"}

StartResponse = Callable[..., Any]


def _day_to_time(day: str | None) -> str | None:
    return None if day is None else f"{day}T00:00:00+00:00"


def model_summary(catalog: Catalog, model: Any, region: str, day: str | None = None) -> dict[str, Any]:
    """One ``modelSummaries[]`` entry for a catalog model in `region`."""
    on_demand = any(not o.is_profile and region in o.routes for o in model.offers)
    lifecycle: dict[str, Any] = {"status": "LEGACY" if model.status_on(day) == "legacy" else "ACTIVE"}
    for key, value in (("legacyTime", model.lifecycle.legacy_date), ("endOfLifeTime", model.lifecycle.eol_date)):
        if value:
            lifecycle[key] = _day_to_time(value)
    return {
        "modelArn": f"arn:aws:bedrock:{region}::foundation-model/{model.model_id}",
        "modelId": model.model_id,
        "modelName": model.description or model.name,
        "providerName": PROVIDER_NAMES.get(model.provider, model.provider.title()),
        "inputModalities": ["TEXT", "IMAGE"] if model.capabilities.get("vision") else ["TEXT"],
        "outputModalities": ["TEXT"],
        "responseStreamingSupported": bool(model.capabilities.get("streaming", True)),
        "customizationsSupported": [],
        "inferenceTypesSupported": ["ON_DEMAND", "INFERENCE_PROFILE"] if on_demand else ["INFERENCE_PROFILE"],
        "modelLifecycle": lifecycle,
    }


def profile_summary(model: Any, offer: Any, region: str, account: str) -> dict[str, Any]:
    """One ``inferenceProfileSummaries[]`` entry (also GetInferenceProfile's answer)."""
    destinations = offer.routes[region]
    arns = [
        f"arn:aws:bedrock:{'' if d == ANY_COMMERCIAL_REGION else d}::foundation-model/{model.model_id}"
        for d in destinations
    ]
    return {
        "inferenceProfileName": f"{offer.scope.upper() if offer.scope != 'global' else 'Global'} {model.description}",
        "description": f"Routes requests to {model.description}",
        "inferenceProfileArn": f"arn:aws:bedrock:{region}:{account}:inference-profile/{offer.profile_id}",
        "inferenceProfileId": offer.profile_id,
        "models": [{"modelArn": arn} for arn in arns],
        "status": "ACTIVE",
        "type": "SYSTEM_DEFINED",
    }


def generate(catalog: Catalog | None = None, account: str = "123456789012", day: str | None = None) -> dict[str, Any]:
    """The control-plane data for every source region of the catalog (EOL models absent)."""
    catalog = catalog or load_catalog()
    regions = sorted({r for m in catalog for r in m.source_regions()})
    out: dict[str, Any] = {}
    for region in regions:
        live = [m for m in catalog if not m.is_eol(day) and region in m.source_regions()]
        profiles = [
            profile_summary(m, o, region, account)
            for m in live
            for o in m.offers
            if o.is_profile and region in o.routes
        ]
        out[region] = {
            "ListFoundationModels": {"modelSummaries": [model_summary(catalog, m, region, day) for m in live]},
            "ListInferenceProfiles": {"inferenceProfileSummaries": profiles},
        }
    return {
        "generated_from": "runtime/catalog.json by `python -m local.bedrock_control_plane generate`",
        "regions": out,
    }


def dumps(data: Mapping[str, Any]) -> str:
    """Compact JSON, one line per region and API (reviewable diffs, a small file)."""
    lines = ["{", f' "generated_from": {json.dumps(data["generated_from"])},', ' "regions": {']
    regions = list(data["regions"].items())
    for i, (region, apis) in enumerate(regions):
        lines.append(f"  {json.dumps(region)}: {{")
        items = list(apis.items())
        for j, (api, body) in enumerate(items):
            comma = "," if j < len(items) - 1 else ""
            lines.append(f"   {json.dumps(api)}: {json.dumps(body, separators=(',', ':'))}{comma}")
        lines.append("  }" + ("," if i < len(regions) - 1 else ""))
    lines += [" }", "}"]
    return "\n".join(lines) + "\n"


_cache: dict[str, tuple[float, dict[str, Any]]] = {}


def load_data(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The data file (`path`, else ``$PORTKEY_BEDROCK_CONTROL_PLANE``, else the packaged one),
    re-read when it changes."""
    chosen = str(path or os.environ.get(ENV_DATA_FILE) or DATA_FILE)
    mtime = os.stat(chosen).st_mtime
    hit = _cache.get(chosen)
    if hit is None or hit[0] != mtime:
        with open(chosen, encoding="utf-8") as handle:
            hit = (mtime, json.load(handle))
        _cache[chosen] = hit
    return hit[1]


class ControlPlaneError(Exception):
    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_type, self.message = status, error_type, message


def answer(method: str, path: str, query: str, region: str, data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The JSON body for a control-plane request, None when the route is not one of ours.

    >>> data = {"regions": {"r-1": {"ListFoundationModels": {"modelSummaries": []},
    ...          "ListInferenceProfiles": {"inferenceProfileSummaries": [{"inferenceProfileId": "p"}]}}}}
    >>> answer("GET", "/inference-profiles/p", "", "r-1", data)
    {'inferenceProfileId': 'p'}
    >>> answer("GET", "/foundation-models", "byProvider=Amazon", "r-1", data)
    {'modelSummaries': []}
    """
    if method != "GET":
        return None
    regional = data.get("regions", {}).get(region, {})
    params = {k: v[0] for k, v in parse_qs(query).items()}
    if path == "/foundation-models":
        models = regional.get("ListFoundationModels", {}).get("modelSummaries", [])
        if "byProvider" in params:
            models = [m for m in models if m["providerName"].lower() == params["byProvider"].lower()]
        return {"modelSummaries": models}
    profiles = regional.get("ListInferenceProfiles", {}).get("inferenceProfileSummaries", [])
    if path == "/inference-profiles":
        wanted = params.get("type", "SYSTEM_DEFINED")
        chosen = [p for p in profiles if p.get("type", "SYSTEM_DEFINED") == wanted]
        start = int(params.get("nextToken", "0") or 0)
        size = max(1, min(int(params.get("maxResults", "1000")), 1000))
        page: dict[str, Any] = {"inferenceProfileSummaries": chosen[start : start + size]}
        if start + size < len(chosen):
            page["nextToken"] = str(start + size)
        return page
    if path.startswith("/inference-profiles/"):
        wanted_id = unquote(path.removeprefix("/inference-profiles/"))
        for profile in profiles:
            if wanted_id in (profile.get("inferenceProfileId"), profile.get("inferenceProfileArn")):
                return dict(profile)
        raise ControlPlaneError(404, "ResourceNotFoundException", "The specified inference profile does not exist.")
    return None


def _signed_scope(authorization: str) -> tuple[str, str] | None:
    """(region, service) from a SigV4 Authorization header."""
    marker = "Credential="
    if marker not in authorization:
        return None
    parts = authorization.split(marker, 1)[1].split(",", 1)[0].split("/")
    return (parts[2], parts[3]) if len(parts) >= 5 else None


class ControlPlaneApp:
    """WSGI middleware: answers the three Bedrock control-plane calls, passes the rest to moto."""

    def __init__(self, app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        scope = _signed_scope(environ.get("HTTP_AUTHORIZATION", ""))
        if scope is not None and scope[1] == "bedrock":
            try:
                body = answer(
                    environ.get("REQUEST_METHOD", ""),
                    environ.get("PATH_INFO", ""),
                    environ.get("QUERY_STRING", ""),
                    scope[0],
                    load_data(),
                )
            except ControlPlaneError as err:
                return self._reply(start_response, err.status, {"message": err.message}, err.error_type)
            if body is not None:
                return self._reply(start_response, 200, body)
        return self.app(environ, start_response)

    @staticmethod
    def _reply(start_response: StartResponse, status: int, body: Any, error_type: str | None = None) -> list[bytes]:
        raw = json.dumps(body).encode("utf-8")
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(raw)))]
        if error_type:
            headers.append(("x-amzn-ErrorType", error_type))
        reason = {200: "OK", 404: "Not Found"}.get(status, "Error")
        start_response(f"{status} {reason}", headers)
        return [raw]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] != ["generate"]:
        print("usage: python -m local.bedrock_control_plane generate [PATH]", file=sys.stderr)
        return 2
    target = Path(args[1]) if len(args) > 1 else DATA_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(dumps(generate()), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
