"""The catalog overlay: facts `python -m runtime catalog sync` read from Bedrock's control plane,
merged with the shipped ``runtime/catalog/catalog.json`` into the one catalog every reader sees.

The overlay (default ``catalog.local.json`` beside ``cdk.json``; ``PORTKEY_BEDROCK_CATALOG=PATH``
names another) is a small JSON file the operator commits, ``runtime/catalog/overlay.schema.json``::

    {"overlay_version": 1,
     "models":    {"<model id>": {"name", "description", "provider", "family", "source",
                                  "on_demand": {"<region>": "<source>"}}},
     "lifecycle": {"<model id>": {"status", "legacy_date"?, "eol_date"?, "start_date"?,
                                  "extended_access_date"?, "source", "overrides"?: [field, ...]}},
     "profiles":  {"<profile id>": {"model_id", "scope",
                                    "routes": {"<source region>": {"destinations": [...], "source",
                                                                   "overrides"?: true}}}}}

Every ``source`` says where and when the fact was read: ``bedrock:ListInferenceProfiles us-east-1
2026-12-04``. Merge rules (:func:`merge`): the overlay adds models, profiles, source Regions,
destinations and lifecycle dates, and moves a model toward Legacy / end of life; a fact that
contradicts the shipped catalog (an earlier status, another date, fewer destinations) is accepted
only when the operator chose Bedrock's answer (``catalog sync --prefer-bedrock`` records it in
``overrides``); otherwise the overlay is refused as hand-edited (:class:`OverlayError`, one line).
Synced models get no request rules and no output limits (the control plane has neither).
"""

from __future__ import annotations

from runtime.catalog.model import ACTIVE, EOL, LEGACY, ON_DEMAND_OFFER, PROFILE_OFFER, STATUSES, is_region_name
from runtime.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

OVERLAY_VERSION = 1
# what a synced model is called with when a request names no max_tokens: the project's choice, not
# an AWS limit (the control plane states none)
SYNCED_DEFAULT_MAX_TOKENS = 4096
LIFECYCLE_DATES = ("legacy_date", "eol_date", "start_date", "extended_access_date")
RANK = {ACTIVE: 0, LEGACY: 1, EOL: 2}


class OverlayError(ConfigError):
    """A catalog overlay that is malformed or contradicts the shipped catalog."""


def empty_overlay() -> dict[str, Any]:
    return {"overlay_version": OVERLAY_VERSION, "models": {}, "lifecycle": {}, "profiles": {}}


def source_region(source: str) -> str | None:
    """The Region a synced fact was read in.

    >>> source_region("bedrock:ListInferenceProfiles us-east-1 2026-12-04")
    'us-east-1'
    >>> source_region("by hand") is None
    True
    """
    parts = source.split()
    return parts[1] if len(parts) == 3 and parts[0].startswith("bedrock:") and is_region_name(parts[1]) else None


def _is_date(value: object) -> bool:
    return (
        isinstance(value, str) and len(value) == 10 and value[4] == value[7] == "-" and value.replace("-", "").isdigit()
    )


def _source_ok(value: object) -> bool:
    return isinstance(value, str) and source_region(value) is not None and _is_date(value.split()[2])


def problems(data: object) -> list[str]:
    """What is wrong with an overlay document (the schema's rules, checked with the standard
    library so that `runtime` needs no jsonschema); empty: well formed.

    >>> problems({"overlay_version": 1, "models": {}, "lifecycle": {}, "profiles": {}})
    []
    >>> for line in problems({"overlay_version": 1, "models": {}, "lifecycle": {"m": {"status": "gone"}},
    ...                       "profiles": {}}):
    ...     print(line)
    lifecycle['m'].status 'gone' is not one of active, legacy, eol
    lifecycle['m'].source is missing or not 'bedrock:<Call> <region> <YYYY-MM-DD>'
    """
    if not isinstance(data, dict):
        return ["the overlay is not a JSON object"]
    found: list[str] = []
    extra = set(data) - {"overlay_version", "models", "lifecycle", "profiles"}
    if extra:
        found.append(f"unknown top-level keys {sorted(extra)}")
    if data.get("overlay_version") != OVERLAY_VERSION:
        found.append(f"overlay_version is not {OVERLAY_VERSION}")
    for key in ("models", "lifecycle", "profiles"):
        if not isinstance(data.get(key), dict):
            found.append(f"{key} is not an object")
    if found:
        return found

    def need_source(where: str, value: object) -> None:
        if not _source_ok(value):
            found.append(f"{where}.source is missing or not 'bedrock:<Call> <region> <YYYY-MM-DD>'")

    for model_id, entry in data["models"].items():
        where = f"models[{model_id!r}]"
        if not isinstance(entry, dict):
            found.append(f"{where} is not an object")
            continue
        for field in ("name", "description", "provider", "family"):
            if not isinstance(entry.get(field), str) or not entry.get(field):
                found.append(f"{where}.{field} is missing")
        need_source(where, entry.get("source"))
        on_demand = entry.get("on_demand", {})
        if not isinstance(on_demand, dict) or not all(
            is_region_name(r) and _source_ok(s) for r, s in on_demand.items()
        ):
            found.append(f"{where}.on_demand is not region -> source")
    for model_id, life in data["lifecycle"].items():
        where = f"lifecycle[{model_id!r}]"
        if not isinstance(life, dict):
            found.append(f"{where} is not an object")
            continue
        if life.get("status") not in STATUSES:
            found.append(f"{where}.status {life.get('status')!r} is not one of {', '.join(STATUSES)}")
        for field in LIFECYCLE_DATES:
            if field in life and not _is_date(life[field]):
                found.append(f"{where}.{field} {life[field]!r} is not YYYY-MM-DD")
        if not set(life.get("overrides", ())) <= {"status", *LIFECYCLE_DATES}:
            found.append(f"{where}.overrides names unknown fields")
        need_source(where, life.get("source"))
    for profile_id, profile in data["profiles"].items():
        where = f"profiles[{profile_id!r}]"
        if not isinstance(profile, dict) or not isinstance(profile.get("routes"), dict):
            found.append(f"{where} needs model_id, scope and routes")
            continue
        if profile_id != f"{profile.get('scope')}.{profile.get('model_id')}":
            found.append(f"{where} is not <scope>.<model_id>")
        for region, route in profile["routes"].items():
            dests = route.get("destinations") if isinstance(route, dict) else None
            if not is_region_name(region) or not isinstance(dests, list) or not dests:
                found.append(f"{where}.routes[{region!r}] needs a region name and destinations")
                continue
            if not all(d == "*" or is_region_name(d) for d in dests):
                found.append(f"{where}.routes[{region!r}].destinations holds a non-region")
            need_source(f"{where}.routes[{region!r}]", route.get("source"))
    return found


def read_overlay(path: str) -> dict[str, Any]:
    """The overlay at `path`, checked (:func:`problems`); :class:`OverlayError` in one line."""
    import json

    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise OverlayError(
            f"cannot read the catalog overlay {path} ({exc.strerror}); fix the path or unset PORTKEY_BEDROCK_CATALOG"
        ) from exc
    except ValueError as exc:
        raise OverlayError(
            f"the catalog overlay {path} is not valid JSON ({exc}); restore it from git or "
            "re-create it with: python -m runtime catalog sync --write"
        ) from exc
    found = problems(data)
    if found:
        raise OverlayError(
            f"the catalog overlay {path} is malformed ({found[0]}); re-create it with: "
            "python -m runtime catalog sync --write"
        )
    return dict(data)


def merge(shipped: Mapping[str, Any], overlay: Mapping[str, Any], where: str = "the overlay") -> dict[str, Any]:
    """The catalog document of `shipped` (raw ``catalog.json``) with `overlay` applied.

    Raises :class:`OverlayError` for a fact that contradicts the shipped catalog without an
    ``overrides`` mark (a hand edit), or that names a model / profile the merge cannot place.
    """
    models = [_thaw(model) for model in shipped["models"]]
    by_id = {model["model_id"]: model for model in models}
    for model_id, entry in overlay["models"].items():
        if model_id in by_id:
            raise OverlayError(
                f"{where} adds {model_id}, which the shipped catalog already has; remove it from "
                "models (re-run catalog sync)"
            )
        model = {
            "name": entry["name"],
            "aliases": [],
            "description": entry["description"],
            "provider": entry["provider"],
            "family": entry["family"],
            "model_id": model_id,
            "lifecycle": {"status": ACTIVE, "source": entry["source"]},
            "limits": {"default_max_tokens": SYNCED_DEFAULT_MAX_TOKENS},
            "capabilities": dict(entry.get("capabilities") or {"streaming": True}),
            "sources": [entry["source"]],
            "synced": entry["source"],
            "offers": [],
        }
        if entry.get("on_demand"):
            first = next(iter(entry["on_demand"].values()))
            model["offers"].append({"kind": ON_DEMAND_OFFER, "regions": list(entry["on_demand"]), "source": first})
        models.append(model)
        by_id[model_id] = model
    for model_id, life in overlay["lifecycle"].items():
        if model_id not in by_id:
            raise OverlayError(
                f"{where} sets the lifecycle of {model_id}, which is in neither the catalog nor "
                "the overlay's models; remove it (re-run catalog sync)"
            )
        by_id[model_id]["lifecycle"] = merge_lifecycle(by_id[model_id]["lifecycle"], life, model_id, where)
    for profile_id, profile in overlay["profiles"].items():
        owner = by_id.get(profile["model_id"])
        if owner is None:
            raise OverlayError(
                f"{where} has profile {profile_id} of {profile['model_id']}, which is in neither "
                "the catalog nor the overlay's models; remove it (re-run catalog sync)"
            )
        offer = next((o for o in owner["offers"] if o.get("profile_id") == profile_id), None)
        if offer is None:
            first = next(iter(profile["routes"].values()))["source"]
            offer = {
                "kind": PROFILE_OFFER,
                "scope": profile["scope"],
                "profile_id": profile_id,
                "routes": {},
                "source": first,
            }
            owner["offers"].append(offer)  # after the offers the catalog already prefers
        for region, route in profile["routes"].items():
            ours = list(offer["routes"].get(region, ()))
            theirs = list(route["destinations"])
            if set(ours) - set(theirs) and not route.get("overrides"):
                raise OverlayError(
                    f"{where} drops destinations {sorted(set(ours) - set(theirs))} of {profile_id} "
                    f"from {region} without overrides; re-run catalog sync (add --prefer-bedrock to "
                    "accept Bedrock's answer)"
                )
            offer["routes"][region] = theirs if route.get("overrides") else sorted(set(ours) | set(theirs))
    return {**{k: v for k, v in shipped.items() if k != "models"}, "models": models}


def merge_lifecycle(ours: Mapping[str, Any], theirs: Mapping[str, Any], model_id: str, where: str) -> dict[str, Any]:
    """A shipped lifecycle with a synced one applied (see :func:`merge`).

    >>> ours = {"status": "active", "source": "https://docs.aws.amazon.com/x"}
    >>> merge_lifecycle(ours, {"status": "legacy", "legacy_date": "2026-12-01", "source": "s"}, "m", "o")["status"]
    'legacy'
    >>> merge_lifecycle({**ours, "status": "legacy"}, {"status": "active", "source": "s"}, "m", "o")
    Traceback (most recent call last):
    ...
    runtime.catalog.overlay.OverlayError: o moves m back from legacy to active without overrides; ...
    """
    merged = dict(ours)
    overrides = set(theirs.get("overrides", ()))
    if RANK[theirs["status"]] < RANK[ours["status"]] and "status" not in overrides:
        raise OverlayError(
            f"{where} moves {model_id} back from {ours['status']} to {theirs['status']} without "
            "overrides; re-run catalog sync (add --prefer-bedrock to accept Bedrock's answer)"
        )
    if RANK[theirs["status"]] != RANK[ours["status"]]:
        merged["status"] = theirs["status"]
    for field in ("legacy_date", "eol_date"):
        if field not in theirs:
            continue
        if ours.get(field) not in (None, theirs[field]) and field not in overrides:
            raise OverlayError(
                f"{where} changes {model_id}'s {field} from {ours[field]} to {theirs[field]} "
                "without overrides; re-run catalog sync (add --prefer-bedrock to accept it)"
            )
        merged[field] = theirs[field]
    if merged != dict(ours):
        merged["source"] = theirs["source"]
    return merged


def _thaw(value: Any) -> Any:
    """Plain dicts and lists (the shipped catalog may come frozen from its cache)."""
    if isinstance(value, dict):
        return {key: _thaw(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_thaw(item) for item in value]
    return value
