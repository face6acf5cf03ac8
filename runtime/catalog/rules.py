"""The slow-path half of `runtime.catalog.model`: the semantic checks behind
:func:`runtime.catalog.model.validate` and the preparation of a freshly parsed catalog file for its
`marshal` cache. Nothing here runs when the cache is warm, so `import runtime` never loads it.
"""

import marshal
import sys

from runtime.catalog.terms import (
    ACTIVE,
    ANY_COMMERCIAL_REGION,
    EOL,
    GLOBAL_SCOPE,
    LEGACY,
    NUMERIC_PARAMS,
    ON_DEMAND_OFFER,
    SUPPORTED_PARTITION,
    is_aws_url,
    is_doc_url,
    is_region_name,
    normalize_name,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


def catalog_problems(data: "Mapping[str, Any]") -> list[str]:
    """See :func:`runtime.catalog.model.validate`."""
    problems: list[str] = []
    models = data.get("models", [])
    by_name = {model["name"]: model for model in models}
    keys: dict[str, str] = {}
    invoke_ids: dict[str, str] = {}
    partitions = data.get("partitions", {})
    prefixes = tuple(p for group in partitions.get("region_prefixes", {}).values() for p in group)
    if not is_aws_url(partitions.get("source")):
        problems.append(f"partitions.source {partitions.get('source')!r} is not an AWS https URL")

    def check_region(where: str, region: str) -> None:
        if not is_region_name(region):
            problems.append(f"{where}: {region!r} is not a region name")
        elif region.startswith(prefixes) or region.count("-") != 2:
            problems.append(f"{where}: {region!r} is outside the {SUPPORTED_PARTITION} partition")

    default_region = data.get("default_region", "")
    check_region("default_region", default_region)
    for model in models:
        name = model["name"]
        for alias in (name, *model["aliases"]):
            key = normalize_name(alias)
            if key in keys and keys[key] != name:
                problems.append(f"{alias!r} of {name} collides with {keys[key]}")
            keys[key] = name
        if not model["sources"]:
            problems.append(f"{name}: no sources (list the AWS page that confirms its id)")
        for url in model["sources"]:
            if not is_doc_url(url):
                problems.append(f"{name}: source {url!r} is not an AWS or Anthropic documentation https URL")
        life = model["lifecycle"]
        # Lifecycle facts come from AWS. One exception: Anthropic's model page may state that a
        # model is offered on Bedrock under its id (the project accepts it for ids) while no AWS
        # page can be cited yet. That backs `active` and nothing more: no Bedrock date,
        # replacement or legacy/eol status ever comes from Anthropic (its dates are its own API's).
        availability_only = life["status"] == ACTIVE and not (life.keys() & {"legacy_date", "eol_date", "replacement"})
        if not (is_aws_url(life["source"]) or (availability_only and is_doc_url(life["source"]))):
            problems.append(
                f"{name}: lifecycle source {life['source']!r} is not an AWS https URL "
                "(an Anthropic docs page may back only status active, without dates or replacement)"
            )
        status = life["status"]
        if status in (LEGACY, EOL) and not (life.get("legacy_date") or life.get("eol_date")):
            problems.append(f"{name}: a {status} model needs its AWS legacy_date or eol_date")
        if status == EOL and not life.get("eol_date"):
            problems.append(f"{name}: an eol model needs its eol_date")
        if life.get("legacy_date") and life.get("eol_date") and life["legacy_date"] >= life["eol_date"]:
            problems.append(f"{name}: legacy_date {life['legacy_date']} is not before eol_date {life['eol_date']}")
        replacement = life.get("replacement")
        if status in (LEGACY, EOL) and not replacement:
            problems.append(f"{name}: a {status} model needs a replacement (a catalog name)")
        if replacement is not None:
            target = by_name.get(replacement)
            if target is None:
                problems.append(f"{name}: replacement {replacement!r} is not a catalog name")
            elif target["lifecycle"]["status"] == EOL or replacement == name:
                problems.append(f"{name}: replacement {replacement} is itself end of life")
        rules = model.get("request_rules", {})
        if rules.get("source") is not None and not is_doc_url(rules["source"]):
            problems.append(f"{name}: request_rules source {rules['source']!r} is not an AWS or Anthropic docs URL")
        for param, bounds in rules.get("param_ranges", {}).items():
            if param not in NUMERIC_PARAMS:
                problems.append(f"{name}: param_ranges names {param!r}, which is not numeric")
            if param in rules.get("rejected_params", ()):
                problems.append(f"{name}: {param} is both rejected and given a range")
            low, high = bounds.get("min"), bounds.get("max", bounds.get("below"))
            if low is not None and high is not None and low > high:
                problems.append(f"{name}: param_ranges {param} min {low} is above its upper bound {high}")
        limits = model["limits"]
        if limits["default_max_tokens"] > limits.get("max_output_tokens", limits["default_max_tokens"]):
            problems.append(
                f"{name}: default_max_tokens {limits['default_max_tokens']} exceeds "
                f"max_output_tokens {limits.get('max_output_tokens')}"
            )
        if not model["offers"] and not model.get("offers_from_sync"):
            problems.append(
                f"{name}: no offers (cite the AWS page of its profiles, or set offers_from_sync: "
                "catalog sync reads them)"
            )
        for offer in model["offers"]:
            where = f"{name} offer {offer.get('profile_id') or offer['kind']}"
            if not is_aws_url(offer["source"]):
                problems.append(f"{where}: source {offer['source']!r} is not an AWS https URL")
            if offer["kind"] == ON_DEMAND_OFFER:
                invoke_id = model["model_id"]
                for region in offer["regions"]:
                    check_region(where, region)
            else:
                invoke_id = offer["profile_id"]
                if invoke_id != f"{offer['scope']}.{model['model_id']}":
                    problems.append(f"{where}: profile id is not {offer['scope']}.{model['model_id']}")
                for source, dests in offer["routes"].items():
                    check_region(where, source)
                    if ANY_COMMERCIAL_REGION in dests:
                        if offer["scope"] != GLOBAL_SCOPE or list(dests) != [ANY_COMMERCIAL_REGION]:
                            problems.append(f"{where}: '*' (any commercial Region) is for a global profile, alone")
                        continue
                    for dest in dests:
                        check_region(f"{where} route {source}", dest)
            if invoke_id in invoke_ids and invoke_ids[invoke_id] != name:
                problems.append(f"{where}: id {invoke_id} also belongs to {invoke_ids[invoke_id]}")
            invoke_ids.setdefault(invoke_id, name)
        if model["model_id"] in invoke_ids and invoke_ids[model["model_id"]] != name:
            problems.append(f"{name}: duplicate model_id {model['model_id']}")
        invoke_ids.setdefault(model["model_id"], name)
    return problems


def freeze(value: "Any", seen: "dict[Any, Any] | None" = None) -> "Any":
    """JSON lists as tuples and strings interned, recursively: the loaded catalog is immutable,
    `marshal` keeps tuples and writes an interned string once, so the cache stays small and the
    objects built from it share its values instead of copying them on every start-up."""
    seen = {} if seen is None else seen
    if isinstance(value, list):
        frozen = tuple(freeze(item, seen) for item in value)
        if all(isinstance(item, str) for item in frozen):
            return seen.setdefault(frozen, frozen)  # equal rows (route tables) become one object
        return frozen
    if isinstance(value, dict):
        return {sys.intern(key): freeze(item, seen) for key, item in value.items()}
    if isinstance(value, str):
        return sys.intern(value)  # repeated region names become one object, stored once by marshal
    return value


def prepare(data: "Mapping[str, Any]", pack: bool = True) -> "dict[str, Any]":
    """The loaded form of a catalog document: frozen (:func:`freeze`), the exact-id index (``_ids``)
    and the normalized-name index (``_keys``) computed, and each
    model's offers packed with `marshal` (``pack``) so that loading the catalog decodes a routing
    table only for a model that is used."""
    data = freeze(data)
    ids: dict[str, tuple[int, int]] = {}
    keys: dict[str, int] = {}
    models = []
    for model_index, model in enumerate(data["models"]):
        for name in (model["name"], *model["aliases"]):
            keys[normalize_name(name)] = model_index
        offers = model["offers"]
        on_demand = [i for i, offer in enumerate(offers) if offer["kind"] == ON_DEMAND_OFFER]
        ids.setdefault(model["model_id"], (model_index, on_demand[0] if on_demand else -1))
        for offer_index, offer in enumerate(offers):
            if offer["kind"] != ON_DEMAND_OFFER:
                ids.setdefault(offer["profile_id"], (model_index, offer_index))
        models.append({**model, "offers": marshal.dumps(offers) if pack else offers})
    return {**data, "models": tuple(models), "_ids": ids, "_keys": keys}
