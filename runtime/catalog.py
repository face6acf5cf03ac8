"""The model catalog: `catalog.json` beside this file is the only list of models in the project.

Everything that knows about models (name resolution here, the IAM policy in `stacks`) reads it
through :func:`load_catalog`. Importing this module costs only the standard modules Python has
already loaded at start-up; the parsed catalog is cached with `marshal` in `__pycache__`
(keyed by the file's size and mtime, like a `.pyc`) because `json` alone would cost more to
import than the whole rest of the package.
"""

import marshal
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from typing import Any

CATALOG_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "catalog.json")
GLOBAL_SCOPE = "global"
GEO_SCOPE = "geo"

_SEPARATORS = str.maketrans({"_": "-", " ": "-", ".": "-", "/": "-"})


def normalize_name(name: str) -> str:
    """Fold a friendly model name to its lookup key: lower case, any separator run -> ``-``.

    >>> normalize_name("Claude_Sonnet_4.5")
    'claude-sonnet-4-5'
    >>> normalize_name("  claude  large ")
    'claude-large'
    >>> normalize_name("CLAUDE-SONNET-4")
    'claude-sonnet-4'
    """
    parts = name.strip().lower().translate(_SEPARATORS).split("-")
    return "-".join(part for part in parts if part)


def is_region_name(region: str) -> bool:
    """True for a well-formed AWS region name (``us-east-1``, ``us-gov-west-1``).

    >>> is_region_name("eu-west-1"), is_region_name("us-gov-west-1")
    (True, True)
    >>> is_region_name("us-east"), is_region_name("US-EAST-1"), is_region_name("useast1")
    (False, False, False)
    """
    parts = region.split("-")
    if len(parts) not in (3, 4) or not parts[-1].isdigit():
        return False
    return all(part.isalpha() and part.islower() and part.isascii() for part in parts[:-1])


class Geography:
    """A cross-Region inference geography (``us``, ``eu``, ``jp`` ...)."""

    __slots__ = ("destination_regions", "name", "source_region_prefixes", "source_regions")

    def __init__(self, name: str, data: "Mapping[str, Any]") -> None:
        self.name = name
        self.source_region_prefixes: tuple[str, ...] = tuple(data["source_region_prefixes"])
        self.source_regions: tuple[str, ...] = tuple(data["source_regions"])
        self.destination_regions: tuple[str, ...] = tuple(data["destination_regions"])

    def __repr__(self) -> str:
        return f"Geography({self.name!r})"


class Model:
    """One catalog entry. ``profile_id(region)`` is what Bedrock is called with."""

    __slots__ = (
        "aliases",
        "capabilities",
        "description",
        "geographies",
        "max_tokens",
        "model_id",
        "name",
        "profile_scope",
    )

    def __init__(self, data: "Mapping[str, Any]") -> None:
        self.name: str = data["name"]
        self.aliases: tuple[str, ...] = tuple(data["aliases"])
        self.description: str = data.get("description", "")
        self.model_id: str = data["model_id"]
        self.profile_scope: str = data["profile_scope"]
        self.geographies: tuple[str, ...] = tuple(data["geographies"])
        self.max_tokens: int = data["max_tokens"]
        self.capabilities: dict[str, bool] = dict(data["capabilities"])

    def __repr__(self) -> str:
        return f"Model({self.name!r}, {self.model_id!r})"

    @property
    def is_global(self) -> bool:
        return self.profile_scope == GLOBAL_SCOPE

    def profile_ids(self) -> list[str]:
        """Every inference-profile id of this model, e.g. ``us.anthropic...``."""
        if self.is_global:
            return [f"{GLOBAL_SCOPE}.{self.model_id}"]
        return [f"{geo}.{self.model_id}" for geo in self.geographies]


class Catalog:
    """The parsed catalog with its lookup indexes."""

    def __init__(self, data: "Mapping[str, Any]", path: str = CATALOG_PATH) -> None:
        self.path = path
        self.default_region: str = data["default_region"]
        geos: Mapping[str, Mapping[str, Any]] = data["geographies"]
        self.geographies = {name: Geography(name, geo) for name, geo in geos.items()}
        self.models = tuple(Model(entry) for entry in data["models"])
        # normalized friendly name or alias -> model
        self.by_key: dict[str, Model] = {}
        # exact Bedrock model id or inference-profile id -> (model, scope prefix or "")
        self.by_id: dict[str, tuple[Model, str]] = {}
        for model in self.models:
            for name in (model.name, *model.aliases):
                self.by_key[normalize_name(name)] = model
            self.by_id[model.model_id] = (model, "")
            for profile in model.profile_ids():
                self.by_id[profile] = (model, profile.split(".", 1)[0])

    def __iter__(self) -> "Iterator[Model]":
        return iter(self.models)

    def names(self) -> list[str]:
        return [model.name for model in self.models]

    def geographies_for_region(self, region: str) -> list[Geography]:
        """Candidate geographies of a region, most specific first (``ap-northeast-1``: jp, apac)."""
        exact = [geo for geo in self.geographies.values() if region in geo.source_regions]
        by_prefix = [
            geo
            for geo in self.geographies.values()
            if geo not in exact and any(region.startswith(p) for p in geo.source_region_prefixes)
        ]
        return exact + by_prefix

    def scope_for(self, model: Model, region: str) -> str:
        """The profile prefix to use for `model` called from `region` (``global``, ``us`` ...)."""
        if model.is_global:
            return GLOBAL_SCOPE
        candidates = self.geographies_for_region(region)
        for geo in candidates:
            if geo.name in model.geographies:
                return geo.name
        where = ", ".join(g.name for g in candidates) or "none"
        from runtime.errors import RegionError  # the error path only: keeps `import runtime` cheap

        raise RegionError(
            f"{model.name} has no inference profile for region {region} (geography: {where}); "
            f"use a region in one of: {', '.join(model.geographies)}, or another model"
        )

    def profile_id(self, model: Model, region: str) -> str:
        """The inference-profile id for `model` called from `region`."""
        return f"{self.scope_for(model, region)}.{model.model_id}"


def _read_data(path: str, use_cache: bool) -> dict[str, object]:
    stat = os.stat(path)
    key = (stat.st_size, stat.st_mtime_ns)
    cache_dir = os.path.join(os.path.dirname(path), "__pycache__")
    cache_path = os.path.join(cache_dir, f"{os.path.basename(path)}.{sys.implementation.cache_tag}.marshal")
    if use_cache:
        try:
            with open(cache_path, "rb") as handle:
                cached_key, data = marshal.load(handle)  # noqa: S302 - our own cache, trusted like a .pyc
            if tuple(cached_key) == key:
                return data  # type: ignore[no-any-return]
        except (OSError, EOFError, ValueError, TypeError):
            pass
    import json  # the slow path only: json costs ~10 ms to import

    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if use_cache and not sys.dont_write_bytecode:
        from runtime.atomicfile import atomic_write_bytes

        try:
            os.makedirs(cache_dir, exist_ok=True)
            atomic_write_bytes(cache_path, marshal.dumps((key, data)), mode=0o644)
        except OSError:
            pass  # a read-only install just parses the JSON each time
    return data  # type: ignore[no-any-return]


_default: Catalog | None = None


def load_catalog(path: str | None = None) -> Catalog:
    """The packaged catalog (cached for the process), or the one at `path` (not cached)."""
    global _default
    if path is not None and os.path.abspath(path) != CATALOG_PATH:
        return Catalog(_read_data(path, use_cache=False), path=path)
    if _default is None:
        _default = Catalog(_read_data(CATALOG_PATH, use_cache=True))
    return _default
