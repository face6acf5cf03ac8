"""The model catalog: `catalog.json` beside this file is the only list of models in the project.

Everything that knows about models (name resolution here, the IAM policy in `stacks`, the Bedrock
double in `local`) reads it through :func:`load_catalog`. Each model carries its lifecycle
(``active`` / ``legacy`` / ``eol`` with AWS's dates), its output limits, the request parameters
Bedrock rejects for it, the AWS pages its facts come from, and its *offers*: the inference
profiles (with AWS's per-source-region routing table: source region -> destination regions) and
the in-region on-demand foundation model, in the order the runtime prefers them.

Importing this module costs only the standard modules Python has already loaded at start-up; the
parsed catalog is cached with `marshal` in `__pycache__` (keyed by the file's size and mtime, like
a `.pyc`) because `json` alone would cost more to import than the whole rest of the package.
"""

import marshal
import os
import sys

from runtime.catalog.terms import (  # re-exported: these names were always read from here
    ACTIVE as ACTIVE,
)
from runtime.catalog.terms import (
    ANTHROPIC_DOC_HOSTS as ANTHROPIC_DOC_HOSTS,
)
from runtime.catalog.terms import (
    ANY_COMMERCIAL_REGION as ANY_COMMERCIAL_REGION,
)
from runtime.catalog.terms import (
    EOL as EOL,
)
from runtime.catalog.terms import (
    GLOBAL_SCOPE as GLOBAL_SCOPE,
)
from runtime.catalog.terms import (
    KNOWN_PARAMS as KNOWN_PARAMS,
)
from runtime.catalog.terms import (
    LEGACY as LEGACY,
)
from runtime.catalog.terms import (
    NUMERIC_PARAMS as NUMERIC_PARAMS,
)
from runtime.catalog.terms import (
    ON_DEMAND_OFFER as ON_DEMAND_OFFER,
)
from runtime.catalog.terms import (
    PROFILE_OFFER as PROFILE_OFFER,
)
from runtime.catalog.terms import (
    STATUSES as STATUSES,
)
from runtime.catalog.terms import (
    SUPPORTED_PARTITION as SUPPORTED_PARTITION,
)
from runtime.catalog.terms import (
    THINKING_MODES as THINKING_MODES,
)
from runtime.catalog.terms import (
    TOOL_CHOICE_KINDS as TOOL_CHOICE_KINDS,
)
from runtime.catalog.terms import (
    is_aws_url as is_aws_url,
)
from runtime.catalog.terms import (
    is_doc_url as is_doc_url,
)
from runtime.catalog.terms import (
    is_region_name as is_region_name,
)
from runtime.catalog.terms import (
    normalize_name as normalize_name,
)
from runtime.constants import ENV_CATALOG_OVERLAY

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from typing import Any

CATALOG_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "catalog.json")
# the overlay `catalog sync` writes (runtime/catalog/overlay.py): PORTKEY_BEDROCK_CATALOG names it,
# else catalog.local.json beside cdk.json in the working directory
OVERLAY_ENV = ENV_CATALOG_OVERLAY
OVERLAY_FILE = "catalog.local.json"
SCHEMA_VERSION = 2


def _aws_regions() -> frozenset[str]:
    """The regions of botocore's endpoint data (AWS's own list), or none without botocore."""
    try:
        from botocore.session import get_session
    except ImportError:
        return frozenset()
    partitions = get_session().get_data("endpoints").get("partitions", [])
    return frozenset(region for partition in partitions for region in partition.get("regions", {}))


def today_utc() -> str:
    """Today's date in UTC as ``YYYY-MM-DD`` (what lifecycle dates are compared with)."""
    import time  # a built-in module: no file to load

    return time.strftime("%Y-%m-%d", time.gmtime())


class Lifecycle:
    """Where a model stands on Bedrock: ``status`` as AWS's lifecycle page records it (or ``active``,
    without dates, on Anthropic's page saying the model is on Bedrock: see catalog.rules), the dates
    (``YYYY-MM-DD`` strings or None), the catalog name of the ``replacement``, and the ``source``."""

    __slots__ = ("eol_date", "legacy_date", "replacement", "source", "status")

    def __init__(self, data: "Mapping[str, Any]") -> None:
        self.status: str = data["status"]
        self.legacy_date: str | None = data.get("legacy_date")
        self.eol_date: str | None = data.get("eol_date")
        self.replacement: str | None = data.get("replacement")
        self.source: str = data["source"]

    def status_on(self, day: str) -> str:
        """The status on `day` (``YYYY-MM-DD``): the recorded status, moved on by any AWS date
        that has passed (a catalog that is not updated still stops at the EOL date).

        >>> life = Lifecycle({"status": "active", "legacy_date": "2026-10-08", "eol_date": "2027-04-08", "source": ""})
        >>> life.status_on("2026-10-07"), life.status_on("2026-10-08"), life.status_on("2027-04-08")
        ('active', 'legacy', 'eol')
        """
        if self.status == EOL or (self.eol_date is not None and day >= self.eol_date):
            return EOL
        if self.status == LEGACY or (self.legacy_date is not None and day >= self.legacy_date):
            return LEGACY
        return ACTIVE

    def __repr__(self) -> str:
        return f"Lifecycle({self.status!r}, eol_date={self.eol_date!r}, replacement={self.replacement!r})"


class RequestRules:
    """What Bedrock refuses for a model: ``rejected_params`` (HTTP 400 when sent),
    ``param_ranges`` (parameter -> the ``min`` / ``max`` / ``below`` bounds of the values it takes),
    ``exclusive_params`` (groups of which at most one may be sent), the ``thinking`` types it
    accepts (``enabled`` = extended thinking with a budget, ``adaptive``, ``disabled``,
    ``between_tools``; empty: the model has no extended thinking, so a ``thinking`` field is
    refused; None: no page states a rule, nothing is checked) and the ``tool_choice`` kinds it
    accepts (``auto``, ``none``, ``any``, ``tool``; None: not checked). The one checker is
    :func:`runtime.catalog.request_rules.first_violation`."""

    __slots__ = ("exclusive_params", "param_ranges", "rejected_params", "source", "thinking", "tool_choice")

    def __init__(self, data: "Mapping[str, Any]") -> None:
        self.rejected_params: tuple[str, ...] = tuple(data.get("rejected_params", ()))
        self.param_ranges: dict[str, dict[str, float]] = {
            param: dict(bounds) for param, bounds in data.get("param_ranges", {}).items()
        }
        self.exclusive_params: tuple[tuple[str, ...], ...] = tuple(tuple(g) for g in data.get("exclusive_params", ()))
        thinking = data.get("thinking")
        # None: no page documents a thinking rule for the model (nothing is checked)
        self.thinking: tuple[str, ...] | None = None if thinking is None else tuple(thinking)
        tool_choice = data.get("tool_choice")
        self.tool_choice: tuple[str, ...] | None = None if tool_choice is None else tuple(tool_choice)
        self.source: str | None = data.get("source")

    def __repr__(self) -> str:
        return f"RequestRules(rejected_params={self.rejected_params!r}, thinking={self.thinking!r})"


class Offer:
    """One way to call a model: an inference profile or the in-region on-demand model.

    ``kind``: ``inference-profile`` or ``on-demand``; ``scope``: the profile prefix (``global``,
    ``us``, ``eu``, ``apac``, ``jp``, ``au`` ...; None for on-demand); ``invoke_id``: what Bedrock is
    called with (the profile id, or the foundation-model id for on-demand); ``routes``: source
    region -> the destination regions Bedrock may route a call from that source to (AWS's table;
    ``("*",)`` = any commercial Region, global profiles); ``source``: the AWS page of the table.
    """

    __slots__ = ("invoke_id", "kind", "model_id", "profile_id", "routes", "scope", "source")

    def __init__(self, data: "Mapping[str, Any]", model_id: str) -> None:
        self.kind: str = data["kind"]
        self.model_id = model_id
        self.source: str = data["source"]
        if self.kind == ON_DEMAND_OFFER:
            self.scope: str | None = None
            self.profile_id: str | None = None
            self.invoke_id: str = model_id
            self.routes: dict[str, tuple[str, ...]] = {region: (region,) for region in data["regions"]}
        else:
            self.scope = data["scope"]
            self.profile_id = data["profile_id"]
            self.invoke_id = data["profile_id"]
            self.routes = data["routes"]  # lists were frozen to tuples when the file was read

    def __repr__(self) -> str:
        return f"Offer({self.kind!r}, {self.invoke_id!r})"

    @property
    def is_profile(self) -> bool:
        return self.kind == PROFILE_OFFER

    @property
    def is_global(self) -> bool:
        return self.scope == GLOBAL_SCOPE

    @property
    def source_regions(self) -> tuple[str, ...]:
        """Every region this offer can be called from, in the table's order."""
        return tuple(self.routes)

    def destinations(self, source_region: str) -> tuple[str, ...]:
        """Where a call from `source_region` may be served (``("*",)``: any commercial Region);
        empty when the offer cannot be called from there."""
        return self.routes.get(source_region, ())

    def all_destinations(self) -> tuple[str, ...]:
        """The union of every source region's destinations, sorted."""
        return tuple(sorted({d for dests in self.routes.values() for d in dests}))


class Model:
    """One catalog entry. :meth:`Catalog.offer_for` says what to call it with from a region."""

    __slots__ = (
        "_offers",
        "_packed_offers",
        "aliases",
        "capabilities",
        "context_tokens",
        "default_max_tokens",
        "description",
        "family",
        "lifecycle",
        "max_output_tokens",
        "model_id",
        "name",
        "pricing",
        "provider",
        "request_rules",
        "sources",
        "synced",
    )

    def __init__(self, data: "Mapping[str, Any]") -> None:
        self.name: str = data["name"]
        self.aliases: tuple[str, ...] = tuple(data["aliases"])
        self.description: str = data.get("description", "")
        self.provider: str = data["provider"]
        self.family: str = data["family"]
        self.model_id: str = data["model_id"]
        # on-demand USD per million tokens with its source page, only where one is cited (runtime.cli.usage)
        self.pricing: Mapping[str, Any] | None = data.get("pricing")
        self.lifecycle = Lifecycle(data["lifecycle"])
        limits: Mapping[str, int] = data["limits"]
        # None when no AWS page states the limit: requests are then not checked against it
        self.max_output_tokens: int | None = limits.get("max_output_tokens")
        self.default_max_tokens: int = limits["default_max_tokens"]
        self.context_tokens: int | None = limits.get("context_tokens")
        self.request_rules = RequestRules(data.get("request_rules", {}))
        self.capabilities: dict[str, bool] = dict(data["capabilities"])
        self.sources: tuple[str, ...] = tuple(data["sources"])
        # where and when `catalog sync` read a model the shipped catalog lacks (None: shipped)
        self.synced: str | None = data.get("synced")
        # the offers (the bulk of the file: routing tables) are decoded when first used
        self._packed_offers: bytes | tuple[Mapping[str, Any], ...] = data["offers"]
        self._offers: tuple[Offer, ...] | None = None

    def __repr__(self) -> str:
        return f"Model({self.name!r}, {self.model_id!r})"

    @property
    def offers(self) -> tuple[Offer, ...]:
        """Every way to call this model, in the order the runtime prefers them."""
        if self._offers is None:
            raw = self._packed_offers
            if isinstance(raw, bytes):
                raw = marshal.loads(raw)  # noqa: S302 - packed by runtime.catalog.rules.prepare from our own file
            self._offers = tuple(Offer(offer, self.model_id) for offer in raw)
        return self._offers

    @property
    def status(self) -> str:
        """The recorded lifecycle status (``active`` / ``legacy`` / ``eol``)."""
        return self.lifecycle.status

    def status_on(self, day: str | None = None) -> str:
        """The status today (or on `day`), AWS's dates applied: see :meth:`Lifecycle.status_on`."""
        return self.lifecycle.status_on(day or today_utc())

    def is_eol(self, day: str | None = None) -> bool:
        return self.status_on(day) == EOL

    def profile_ids(self) -> list[str]:
        """Every inference-profile id of this model, e.g. ``us.anthropic...``, in offer order."""
        return [offer.invoke_id for offer in self.offers if offer.is_profile]

    def source_regions(self) -> tuple[str, ...]:
        """Every region some offer of this model can be called from, first-seen order."""
        return tuple(dict.fromkeys(region for offer in self.offers for region in offer.routes))


class Catalog:
    """The parsed catalog with its lookup indexes."""

    def __init__(self, data: "Mapping[str, Any]", path: str = CATALOG_PATH) -> None:
        self.path = path
        self.schema_version: int = data["schema_version"]
        self.default_region: str = data["default_region"]
        partitions: Mapping[str, Any] = data["partitions"]
        self.supported_partitions: tuple[str, ...] = tuple(partitions["supported"])
        self.partition_prefixes: dict[str, tuple[str, ...]] = {
            name: tuple(prefixes) for name, prefixes in partitions["region_prefixes"].items()
        }
        self.partition_source: str = partitions["source"]
        if "_ids" not in data:
            from runtime.catalog.rules import prepare

            data = prepare(data, pack=False)
        self.models = tuple(Model(entry) for entry in data["models"])
        self.by_name: dict[str, Model] = {model.name: model for model in self.models}
        # normalized friendly name or alias -> model (normalized once, when the file was read)
        self.by_key: dict[str, Model] = {key: self.models[index] for key, index in data["_keys"].items()}
        # exact Bedrock id -> (model index, offer index; -1: a foundation-model id without an
        # on-demand offer), computed with the file so that no routing table is decoded to find one
        self._ids: Mapping[str, tuple[int, int]] = data["_ids"]

    @property
    def by_invoke_id(self) -> "dict[str, tuple[Model, Offer | None]]":
        """Every exact Bedrock id (profile id or foundation-model id) -> (model, offer), see
        :meth:`lookup_id`."""
        return {key: self._lookup(index) for key, index in self._ids.items()}

    def _lookup(self, index: "tuple[int, int]") -> "tuple[Model, Offer | None]":
        model = self.models[index[0]]
        return model, (model.offers[index[1]] if index[1] >= 0 else None)

    def __iter__(self) -> "Iterator[Model]":
        return iter(self.models)

    def names(self, *, include_eol: bool = True, day: str | None = None, offered_from: str | None = None) -> list[str]:
        """Catalog names in catalog order; ``include_eol=False`` leaves out models past end of life,
        ``offered_from`` those no offer can be called from that region (e.g. an entry whose
        profiles only ``catalog sync`` knows)."""
        models = self.models
        if offered_from is not None:
            models = tuple(m for m in models if any(offered_from in offer.routes for offer in m.offers))
        if include_eol:
            return [model.name for model in models]
        day = day or today_utc()
        return [model.name for model in models if not model.is_eol(day)]

    def model(self, name: str) -> Model:
        """The model of a catalog name (exact; see ``runtime.catalog.resolve.find_model`` for aliases)."""
        return self.by_name[name]

    def partition_of(self, region: str) -> str | None:
        """The partition of a well-formed region name; None for a region outside every partition
        the catalog names that is not a commercial (three-part) name, e.g. an isolated Region.

        >>> catalog = load_catalog()
        >>> catalog.partition_of("eu-west-1"), catalog.partition_of("us-gov-west-1"), catalog.partition_of("cn-north-1")
        ('aws', 'aws-us-gov', 'aws-cn')
        >>> catalog.partition_of("us-iso-east-1") is None
        True
        """
        for partition, prefixes in self.partition_prefixes.items():
            if region.startswith(prefixes):
                return partition
        return SUPPORTED_PARTITION if region.count("-") == 2 else None

    def check_partition(self, region: str) -> None:
        """Raise :class:`~runtime.errors.UnsupportedPartitionError` for a region outside the
        supported partitions (GovCloud, China, isolated Regions)."""
        partition = self.partition_of(region)
        if partition in self.supported_partitions:
            return
        from runtime.errors import UnsupportedPartitionError  # the error path only

        where = f"the {partition} partition" if partition else "no partition this project knows (an isolated Region?)"
        raise UnsupportedPartitionError(
            f"region {region} is in {where}, which is not supported yet; "
            f"use a region of the {SUPPORTED_PARTITION} partition such as {self.default_region}"
        )

    def known_regions(self) -> frozenset[str]:
        """Every region the catalog's routing tables name, as a source or a destination."""
        known: frozenset[str] | None = getattr(self, "_known_regions", None)
        if known is None:
            found = set()
            for model in self.models:
                for offer in model.offers:
                    for source, destinations in offer.routes.items():
                        found.add(source)
                        found.update(region for region in destinations if region != "*")
            known = self._known_regions = frozenset(found)
        return known

    def check_region(self, region: str) -> None:
        """The one owner of "is this a region": well-formed, of a supported partition, and known
        (to the catalog's routing tables, else to botocore's endpoint data when it is installed).
        Raises :class:`~runtime.errors.RegionError` naming the region.

        >>> load_catalog().check_region("us-east-1")
        >>> load_catalog().check_region("us-east-7")
        Traceback (most recent call last):
        ...
        runtime.errors.RegionError: unknown region us-east-7; use an AWS region such as us-east-2
        """
        if is_region_name(region):
            self.check_partition(region)
            if region in self.known_regions() or region in _aws_regions():
                return
        from runtime.errors import RegionError  # the error path only: keeps `import runtime` cheap

        if not is_region_name(region):
            raise RegionError(f"region {region!r} is not an AWS region name; use one like us-east-1 or eu-west-1")
        import difflib

        close = difflib.get_close_matches(region, sorted(self.known_regions()), n=1, cutoff=0.8)
        raise RegionError(
            f"unknown region {region}; use an AWS region such as {close[0] if close else self.default_region}"
        )

    def offer_for(self, model: Model, region: str) -> Offer:
        """The first offer of `model` whose routing table has `region` as a source region.

        Lifecycle is not checked here (see ``runtime.catalog.resolve.resolve_model``). Raises
        :class:`~runtime.errors.RegionError` when no offer can be called from `region`.
        """
        for offer in model.offers:
            if region in offer.routes:
                return offer
        from runtime.errors import RegionError  # the error path only: keeps `import runtime` cheap

        if not model.offers:
            raise RegionError(
                f"{model.name} ({model.model_id}) has no inference profile confirmed on an AWS page in the "
                "shipped catalog yet; run `python -m runtime catalog sync` to read its profiles from Bedrock, "
                "or pick another model"
            )
        kinds = ", ".join(offer.scope or "on-demand" for offer in model.offers)
        sample = ", ".join(model.source_regions()[:4])
        raise RegionError(
            f"{model.name} is not offered from region {region} (its offers: {kinds}); "
            f"use a region its offers list (e.g. {sample}), or pick another model"
        )

    def destinations(self, model: Model, region: str) -> tuple[str, ...]:
        """Where Bedrock may serve a call of `model` from `region` (``("*",)``: any commercial Region)."""
        return self.offer_for(model, region).destinations(region)

    def lookup_id(self, bedrock_id: str) -> "tuple[Model, Offer | None] | None":
        """The model (and offer) of an exact Bedrock id: a profile id gives its profile offer, a
        foundation-model id its on-demand offer or None when it has none. None: not in the catalog."""
        index = self._ids.get(bedrock_id)
        return None if index is None else self._lookup(index)


def validate(data: "Mapping[str, Any]") -> list[str]:
    """The rules of a catalog document that its JSON Schema cannot state (empty list: valid).

    Run after the schema check (tests/unit/runtime/catalog/test_catalog_schema.py does both): names and
    aliases unique after :func:`normalize_name`, ids unique, every source an AWS https URL, a
    replacement that exists and is not end of life, dates in order, limits consistent, profile ids
    that match their scope and model, and well-formed regions of a supported partition. The rules
    themselves are in `runtime.catalog.rules`, loaded only when checking (not on import).
    """
    from runtime.catalog.rules import catalog_problems

    return catalog_problems(data)


# bump when the cached shape changes (6: shared tuples, interned strings, offers packed per model,
# the id and name indexes), so an older cache is not reused
_CACHE_FORMAT = 6


def _read_data(path: str, use_cache: bool) -> dict[str, object]:
    stat = os.stat(path)
    key = (_CACHE_FORMAT, stat.st_size, stat.st_mtime_ns)
    cache_dir = os.path.join(os.path.dirname(path), "__pycache__")
    cache_path = os.path.join(cache_dir, f"{os.path.basename(path)}.{sys.implementation.cache_tag}.marshal")
    if use_cache:
        try:
            with open(cache_path, "rb") as handle:
                # one read: marshal.load on a file object reads item by item, ten times slower
                cached_key, data = marshal.loads(handle.read())  # noqa: S302 - our own cache, trusted like a .pyc
            if tuple(cached_key) == key:
                return data  # type: ignore[no-any-return]
        except (OSError, EOFError, ValueError, TypeError):
            pass
    import json  # the slow path only: json costs ~10 ms to import

    from runtime.catalog.rules import prepare

    with open(path, encoding="utf-8") as handle:
        data = prepare(json.load(handle))
    # written also under PYTHONDONTWRITEBYTECODE (containers often set it): this is a data cache, and
    # without it every process would import json and parse the file (~10 ms, see `make bench`)
    if use_cache:
        from runtime.atomicfile import atomic_write_bytes

        try:
            os.makedirs(cache_dir, exist_ok=True)
            atomic_write_bytes(cache_path, marshal.dumps((key, data)), mode=0o644)
        except OSError:
            pass  # a read-only install just parses the JSON each time
    return data


_default: Catalog | None = None
_merged: "tuple[tuple[str, int, int, int], Catalog] | None" = None


def overlay_path() -> str | None:
    """The catalog overlay this process reads: ``$PORTKEY_BEDROCK_CATALOG``, else
    ``catalog.local.json`` beside ``cdk.json`` in the working directory; None when neither applies."""
    named = os.environ.get(OVERLAY_ENV)
    if named:
        return os.path.abspath(named)
    return os.path.abspath(OVERLAY_FILE) if os.path.isfile("cdk.json") else None


def load_catalog(path: str | None = None) -> Catalog:
    """The one catalog: the packaged ``catalog.json`` merged with the overlay `catalog sync` wrote
    (:func:`overlay_path`, re-read when it changes), cached for the process. ``path``: that file
    alone (``CATALOG_PATH``: the shipped catalog without any overlay)."""
    global _default, _merged
    if path is not None and os.path.abspath(path) != CATALOG_PATH:
        return Catalog(_read_data(path, use_cache=False), path=path)
    if _default is None:
        _default = Catalog(_read_data(CATALOG_PATH, use_cache=True))
    overlay = overlay_path() if path is None else None
    try:
        stat = os.stat(overlay) if overlay else None
    except FileNotFoundError:
        stat = None  # no overlay yet (`catalog sync --write` creates it)
    if overlay is None or stat is None:
        return _default
    key = (overlay, stat.st_mtime_ns, stat.st_size, stat.st_ino)  # an atomic rewrite is a new inode
    if _merged is None or _merged[0] != key:
        import json

        from runtime.catalog.overlay import merge, read_overlay

        with open(CATALOG_PATH, encoding="utf-8") as handle:
            shipped = json.load(handle)
        _merged = (key, Catalog(merge(shipped, read_overlay(overlay), where=overlay), path=overlay))
    return _merged[1]
