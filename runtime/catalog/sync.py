"""`python -m runtime catalog sync`: read Bedrock's control plane and write the catalog overlay.

For each source Region (``--region``, repeatable; default AWS_REGION or us-east-1) it asks
``ListFoundationModels`` and ``ListInferenceProfiles`` (plus ``GetFoundationModel`` /
``GetInferenceProfile`` for what the lists lack) with operator credentials, and collects what the
shipped catalog lacks: models of the catalog's families (named by the convention, see
:func:`name_for`), profiles and their destination Regions from that source Region, and lifecycle
moves and dates. Each fact records where and when it was read (``bedrock:ListInferenceProfiles
us-east-1 2026-12-04``). Facts read earlier in Regions not read now are kept.

Conflicts (Bedrock says a model is active that the catalog has as Legacy, another date, fewer
destinations) are printed; Bedrock's answer is written only with ``--prefer-bedrock``. Without
``--write`` nothing is written (a dry run); ``--write`` writes the overlay atomically (default
:func:`runtime.catalog.model.overlay_path`, ``catalog.local.json`` beside ``cdk.json``).

Exit status: 0 read (and written with ``--write``), 2 bad input (malformed
overlay, an overlay naming a model Bedrock does not list, a Region outside the partition, no
credentials, AccessDenied, throttling): one line, the existing overlay untouched.
"""

from __future__ import annotations

import json
import sys

from runtime.catalog.check import (
    SYSTEM_DEFINED,
    CheckError,
    bedrock_client,
    explain_error,
    family_of,
    fetch_answers,
    profile_destinations,
)
from runtime.catalog.model import ACTIVE, CATALOG_PATH, LEGACY, Catalog, load_catalog, overlay_path, today_utc
from runtime.catalog.overlay import RANK, OverlayError, empty_overlay, problems, read_overlay, source_region
from runtime.catalog.resolve import pick_region
from runtime.cli.parser import OneLineParser
from runtime.constants import EXIT_USAGE
from runtime.errors import PortkeyBedrockError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any

EXIT_OK = 0
LIST_MODELS = "bedrock:ListFoundationModels"
LIST_PROFILES = "bedrock:ListInferenceProfiles"
# overlay lifecycle field <- FoundationModelLifecycle field (Bedrock API Reference)
LIFECYCLE_FIELDS = (
    ("start_date", "startOfLifeTime"),
    ("legacy_date", "legacyTime"),
    ("eol_date", "endOfLifeTime"),
    ("extended_access_date", "publicExtendedAccessTime"),
)


class SyncError(PortkeyBedrockError):
    """The overlay cannot be written: bad input, or Bedrock could not be read."""


def name_for(model_id: str) -> str:
    """The catalog name of a Bedrock model id, by the catalog's convention: the provider prefix,
    a date stamp and a ``-vN[:M]`` suffix dropped, the trailing version numbers joined with dots.

    >>> name_for("anthropic.claude-sonnet-5-5"), name_for("anthropic.claude-opus-5")
    ('claude-sonnet-5.5', 'claude-opus-5')
    >>> name_for("anthropic.claude-haiku-5-5-20261007-v1:0"), name_for("amazon.nova-2-lite-v1:0")
    ('claude-haiku-5.5', 'nova-2-lite')
    """
    words = model_id.split(".", 1)[-1].split(":")[0].split("-")
    if len(words) > 1 and words[-1][:1] == "v" and words[-1][1:].isdigit():
        words.pop()
    if words and len(words[-1]) == 8 and words[-1].isdigit():
        words.pop()
    cut = len(words)
    while cut > 1 and words[cut - 1].isdigit():
        cut -= 1
    return "-".join(words[:cut]) + ("-" + ".".join(words[cut:]) if cut < len(words) else "")


def _day(value: object) -> str | None:
    """A control-plane timestamp (datetime from boto3, ISO string from JSON) as ``YYYY-MM-DD``."""
    if value is None:
        return None
    return value.date().isoformat() if hasattr(value, "date") else str(value)[:10]


def _lifecycle_of(summary: Mapping[str, Any], source: str) -> dict[str, Any]:
    """The overlay lifecycle of a model summary's ``modelLifecycle``."""
    life = summary.get("modelLifecycle") or {}
    fact: dict[str, Any] = {"status": LEGACY if str(life.get("status", "")).upper() == "LEGACY" else ACTIVE}
    for field, key in LIFECYCLE_FIELDS:
        day = _day(life.get(key))
        if day:
            fact[field] = day
    fact["source"] = source
    return fact


class Findings:
    """What one sync read: the overlay facts, the lines to print, and the conflicts."""

    def __init__(self) -> None:
        self.overlay = empty_overlay()
        self.lines: list[str] = []
        self.conflicts: list[str] = []
        self.listed: dict[str, set[str]] = {}  # region -> model ids Bedrock lists there


def collect(
    catalog: Catalog,
    region: str,
    summaries: Sequence[Mapping[str, Any]],
    profiles: Sequence[Mapping[str, Any]],
    day: str,
    prefer_bedrock: bool = False,
    findings: Findings | None = None,
) -> Findings:
    """The overlay facts of Bedrock's answers in `region` against the shipped `catalog`. Pure."""
    found = findings or Findings()
    models_src, profiles_src = f"{LIST_MODELS} {region} {day}", f"{LIST_PROFILES} {region} {day}"
    overlay = found.overlay
    shipped = {model.model_id: model for model in catalog}
    families = sorted({(m.provider, m.family) for m in catalog}, key=lambda pf: -len(pf[1]))
    taken = set(catalog.by_key)
    found.listed.setdefault(region, set()).update(str(s.get("modelId")) for s in summaries)
    for summary in summaries:
        model_id = str(summary.get("modelId"))
        life = _lifecycle_of(summary, models_src)
        if model_id in shipped:
            _lifecycle_fact(shipped[model_id], life, prefer_bedrock, found)
            continue
        family = family_of(model_id, families)
        if family is None or life["status"] != ACTIVE or summary.get("inferenceTypesSupported") == ["PROVISIONED"]:
            continue
        entry = overlay["models"].get(model_id)
        if entry is None:
            name = name_for(model_id)
            if name.replace(".", "-") in taken:
                name = model_id.split(".", 1)[-1].split(":")[0]
            entry = overlay["models"][model_id] = {
                "name": name, "description": str(summary.get("modelName") or name), "provider": family[0],
                "family": family[1], "source": models_src, "on_demand": {},
                "capabilities": {"streaming": bool(summary.get("responseStreamingSupported", True)),
                                 "vision": "IMAGE" in (summary.get("inputModalities") or ())},
            }  # fmt: skip
            overlay["lifecycle"][model_id] = life
            found.lines.append(f"new model {name} ({model_id}), {life['status']}, read in {region}")
        if "ON_DEMAND" in (summary.get("inferenceTypesSupported") or ()):
            entry["on_demand"][region] = models_src
    for profile in profiles:
        if profile.get("type", SYSTEM_DEFINED) != SYSTEM_DEFINED or not profile.get("models"):
            continue
        profile_id = str(profile.get("inferenceProfileId"))
        model_id = str(profile["models"][0].get("modelArn", "")).rsplit("foundation-model/", 1)[-1]
        if not profile_id.endswith("." + model_id) or (model_id not in shipped and model_id not in overlay["models"]):
            continue
        theirs = profile_destinations(profile)
        theirs = {"*"} if "*" in theirs else theirs
        _route_fact(shipped.get(model_id), profile_id, model_id, region, theirs, profiles_src, prefer_bedrock, found)
    return found


def _lifecycle_fact(model: Any, life: dict[str, Any], prefer_bedrock: bool, found: Findings) -> None:
    ours = model.lifecycle
    moved = RANK[life["status"]] > RANK[ours.status]
    news, overrides = [], []
    if RANK[life["status"]] < RANK[ours.status]:
        overrides.append("status")
        found.conflicts.append(f"{model.name}: Bedrock lists it {life['status'].upper()}, the catalog has it "
                               f"{ours.status} ({ours.source})")  # fmt: skip
    for field, shipped_day in (("legacy_date", ours.legacy_date), ("eol_date", ours.eol_date)):
        if field not in life:
            continue
        if shipped_day is None:
            news.append(f"{field} {life[field]}")
        elif shipped_day != life[field]:
            overrides.append(field)
            found.conflicts.append(f"{model.name}: Bedrock's {field} is {life[field]}, the catalog's {shipped_day} "
                                   f"({ours.source})")  # fmt: skip
    if overrides and not prefer_bedrock:
        for field in overrides:
            if field != "status":
                life.pop(field, None)
        life["status"] = ours.status if "status" in overrides else life["status"]
        overrides = []
    if not (moved or news or overrides):
        return
    if overrides:
        life["overrides"] = overrides
    found.overlay["lifecycle"][model.model_id] = life
    what = ", ".join([f"now {life['status']}"] * (moved or "status" in overrides) + news)
    found.lines.append(f"lifecycle of {model.name}: {what or 'Bedrock answer preferred'}")


def _route_fact(
    model: Any, profile_id: str, model_id: str, region: str, theirs: set[str], source: str, prefer: bool,
    found: Findings,
) -> None:  # fmt: skip
    offer = None if model is None else next((o for o in model.offers if o.profile_id == profile_id), None)
    ours = set(offer.destinations(region)) if offer is not None else set()
    added, dropped = theirs - ours, ours - theirs
    route: dict[str, Any] = {"destinations": sorted(theirs | (set() if prefer else ours)), "source": source}
    if dropped:
        found.conflicts.append(f"{profile_id} from {region}: Bedrock no longer routes to {', '.join(sorted(dropped))}, "
                               f"which the catalog lists ({offer.source if offer else '?'})")  # fmt: skip
        if prefer:
            route["overrides"] = True
    if not added and not (dropped and prefer):
        return
    scope = profile_id[: -len(model_id) - 1]
    entry = found.overlay["profiles"].setdefault(profile_id, {"model_id": model_id, "scope": scope, "routes": {}})
    entry["routes"][region] = route
    if offer is None or region not in offer.routes:
        found.lines.append(f"profile {profile_id} from {region} -> {', '.join(sorted(theirs))}")
    else:
        found.lines.append(f"profile {profile_id} from {region}: new destination(s) {', '.join(sorted(added))}")


def combine(existing: Mapping[str, Any], found: Findings, regions: Iterable[str]) -> dict[str, Any]:
    """The overlay to write: `existing` without the facts read in `regions`, plus `found`'s.

    Raises :class:`SyncError` when `existing` names a model that Bedrock does not list in the
    Region its fact was read in (a model gone, or a hand edit).
    """
    read = set(regions)
    for section in ("models", "lifecycle"):
        for model_id, fact in existing[section].items():
            where = source_region(fact["source"])
            if where in read and model_id not in found.listed.get(where, set()):
                raise SyncError(f"the overlay names {model_id} (read in {where}), which Bedrock does not list in "
                                f"{where}; delete its entries from the overlay and run catalog sync again")  # fmt: skip
    merged = empty_overlay()
    for section in ("models", "lifecycle"):
        kept = {k: v for k, v in existing[section].items() if source_region(v["source"]) not in read}
        merged[section] = {**kept, **found.overlay[section]}
    for profile_id, profile in existing["profiles"].items():
        routes = {r: v for r, v in profile["routes"].items() if r not in read}
        if routes:
            merged["profiles"][profile_id] = {**profile, "routes": routes}
    for profile_id, profile in found.overlay["profiles"].items():
        entry = merged["profiles"].setdefault(profile_id, {**profile, "routes": {}})
        entry["routes"].update(profile["routes"])
    for model_id, model in merged["models"].items():  # on-demand Regions read earlier elsewhere stay
        earlier = existing["models"].get(model_id, {}).get("on_demand", {})
        model["on_demand"] = {**{r: s for r, s in earlier.items() if r not in read}, **model.get("on_demand", {})}
    return merged


def sync(
    regions: Sequence[str],
    existing: Mapping[str, Any],
    *,
    profile: str | None = None,
    day: str | None = None,
    prefer_bedrock: bool = False,
    client_for: Any = None,
) -> tuple[dict[str, Any], Findings]:
    """Read every Region, then combine with `existing` (nothing is written here)."""
    catalog = load_catalog(CATALOG_PATH)  # the shipped catalog: the overlay is what differs from it
    day = day or today_utc()
    found = Findings()
    for region in regions:
        client = (client_for or bedrock_client)(region, profile)
        try:
            summaries, profiles = fetch_answers(client, region, catalog)
        except PortkeyBedrockError:
            raise
        except Exception as exc:
            raise explain_error(exc, region) from exc
        collect(catalog, region, summaries, profiles, day, prefer_bedrock, found)
    return combine(existing, found, regions), found


def write_overlay(path: str, overlay: Mapping[str, Any]) -> None:
    """Write `overlay` atomically (a reader sees the old file or the new one, never half)."""
    from runtime.atomicfile import atomic_write_text

    found = problems(overlay)
    if found:  # never write what the loader would refuse
        raise SyncError(f"refusing to write a malformed overlay ({found[0]})")
    atomic_write_text(path, json.dumps(overlay, indent=1, sort_keys=True) + "\n", mode=0o644)


def main(argv: Sequence[str] | None = None, day: str | None = None) -> int:
    parser = OneLineParser(prog="python -m runtime catalog sync", description=__doc__.splitlines()[0])
    parser.add_argument("--region", action="append", help="source Region to read (repeatable; default AWS_REGION)")
    parser.add_argument("--write", nargs="?", const="", metavar="PATH",
                        help="write the overlay (default: PORTKEY_BEDROCK_CATALOG, else catalog.local.json beside "
                             "cdk.json); without it nothing is written")  # fmt: skip
    parser.add_argument("--profile", help="AWS profile with operator credentials (not the portkey-bedrock-access user)")
    parser.add_argument("--prefer-bedrock", action="store_true", help="on a conflict, write Bedrock's answer")
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
        regions = list(dict.fromkeys(pick_region(r) for r in (args.region or [None])))
        path = (args.write or overlay_path()) if args.write is not None else overlay_path()
        if args.write is not None and path is None:
            raise SyncError("no overlay path: pass --write PATH, set PORTKEY_BEDROCK_CATALOG, or run beside cdk.json")
        existing = read_overlay(path) if path and _exists(path) else empty_overlay()
        overlay, found = sync(regions, existing, profile=args.profile, day=day, prefer_bedrock=args.prefer_bedrock)
        if args.write is not None and path is not None:
            write_overlay(path, overlay)
    except (PortkeyBedrockError, OverlayError, CheckError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    for line in dict.fromkeys(found.lines):
        print(f"sync: {line}")
    for line in dict.fromkeys(found.conflicts):
        verdict = "Bedrock's answer written (--prefer-bedrock)" if args.prefer_bedrock else "kept the catalog's"
        print(f"conflict: {line}; {verdict}")
    where = ", ".join(regions)
    if not found.lines:
        print(f"catalog sync {where}: nothing new")
        return EXIT_OK
    done = f"written to {path}" if args.write is not None else "not written (dry run; add --write)"
    print(f"catalog sync {where}: {len(dict.fromkeys(found.lines))} fact(s) {done}")
    return EXIT_OK


def _exists(path: str) -> bool:
    import os

    return os.path.exists(path)
