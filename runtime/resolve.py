"""Friendly name -> Bedrock inference-profile id, with the region and the allow-list applied."""

from runtime.catalog import Catalog, Model, is_region_name, load_catalog, normalize_name
from runtime.constants import (
    DEFAULT_REGION,
    ENV_ALLOWED_MODELS,
    ENV_AWS_DEFAULT_REGION,
    ENV_AWS_REGION,
)
from runtime.env import getenv

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

# (name, region, allowed) -> resolved id, for the packaged catalog only; bounded by the
# number of distinct names an app asks for.
_cache: dict[tuple[str, str, str | tuple[str, ...] | None], str] = {}
_valid_regions: set[str] = set()


def pick_region(region: str | None = None) -> str:
    """The region to use: the argument, else ``AWS_REGION``, ``AWS_DEFAULT_REGION``, else
    ``us-east-1``. A malformed region raises :class:`RegionError`."""
    chosen = region or getenv(ENV_AWS_REGION) or getenv(ENV_AWS_DEFAULT_REGION) or DEFAULT_REGION
    if chosen in _valid_regions:
        return chosen
    if not is_region_name(chosen):
        from runtime.errors import RegionError  # the error path only, as every errors import here

        raise RegionError(f"region {chosen!r} is not an AWS region name; use one like us-east-1 or eu-west-1")
    _valid_regions.add(chosen)
    return chosen


def find_model(name: str, catalog: Catalog | None = None) -> tuple[Model, str | None]:
    """The catalog entry for a friendly name, alias, Bedrock model id or profile id.

    Returns ``(model, exact_id)`` where ``exact_id`` is the id itself when `name` was an id
    (it then passes through unchanged) and None for a friendly name.
    """
    catalog = catalog or load_catalog()
    if not isinstance(name, str) or not name.strip():
        from runtime.errors import UnknownModelError

        raise UnknownModelError(f"empty model name; use one of: {', '.join(catalog.names())}")
    hit = catalog.by_id.get(name.strip())
    if hit is not None:
        return hit[0], name.strip()
    model = catalog.by_key.get(normalize_name(name))
    if model is None:
        from runtime.errors import UnknownModelError

        raise UnknownModelError(_unknown_message(name, catalog))
    return model, None


def _unknown_message(name: str, catalog: Catalog) -> str:
    import difflib  # only on the error path

    keys = list(catalog.by_key)
    close = difflib.get_close_matches(normalize_name(name), keys, n=4, cutoff=0.7)
    names = list(dict.fromkeys(catalog.by_key[key].name for key in close))
    hint = f"did you mean {', '.join(names)}? " if names else ""
    return f"unknown model {name!r}; {hint}valid names: {', '.join(catalog.names())}"


def allowed_models(
    allowed: "Iterable[str] | str | None" = None, catalog: Catalog | None = None
) -> frozenset[str] | None:
    """Catalog names the allow-list admits (None: all). The argument beats
    ``PORTKEY_BEDROCK_ALLOWED_MODELS``; both are comma lists of names or aliases."""
    catalog = catalog or load_catalog()
    raw = allowed if allowed is not None else getenv(ENV_ALLOWED_MODELS)
    if raw is None:
        return None
    from runtime.errors import UnknownModelError

    items = raw.split(",") if isinstance(raw, str) else list(raw)
    names = set()
    for item in items:
        if not item.strip():
            continue
        try:
            names.add(find_model(item, catalog)[0].name)
        except UnknownModelError as err:
            raise UnknownModelError(f"in the allow-list ({ENV_ALLOWED_MODELS}): {err}") from None
    return frozenset(names)


def resolve_model(
    name: str,
    region: str | None = None,
    *,
    allowed: "Iterable[str] | str | None" = None,
    catalog: Catalog | None = None,
) -> str:
    """The Bedrock id to send for `name` from `region`.

    Friendly names and aliases are case- and separator-insensitive; a Bedrock model id or
    inference-profile id that is in the catalog passes through unchanged.

    >>> resolve_model("claude-large", "us-east-1")
    'global.anthropic.claude-opus-4-5-20251101-v1:0'
    >>> resolve_model("Claude_Sonnet_4.5", "eu-west-1")
    'eu.anthropic.claude-sonnet-4-5-20250929-v1:0'
    """
    region = pick_region(region)
    cache_key: tuple[str, str, str | tuple[str, ...] | None] | None = None
    if catalog is None and (allowed is None or isinstance(allowed, str)):
        cache_key = (name, region, allowed if allowed is not None else getenv(ENV_ALLOWED_MODELS))
        hit = _cache.get(cache_key)
        if hit is not None:
            return hit
    catalog = catalog or load_catalog()
    model, exact_id = find_model(name, catalog)
    admitted = allowed_models(allowed, catalog)
    if admitted is not None and model.name not in admitted:
        from runtime.errors import ModelNotAllowedError

        raise ModelNotAllowedError(
            f"model {model.name} is not in the allow-list ({', '.join(sorted(admitted)) or 'empty'}); "
            f"add it to {ENV_ALLOWED_MODELS} or pick an allowed model"
        )
    if exact_id is None:
        result = catalog.profile_id(model, region)
    else:
        scope = catalog.by_id[exact_id][1]
        if scope and scope != catalog.scope_for(model, region):
            from runtime.errors import RegionError

            raise RegionError(
                f"inference profile {exact_id} cannot be called from region {region}; "
                f"use {catalog.profile_id(model, region)} or a region of geography {scope}"
            )
        result = exact_id
    if cache_key is not None:
        _cache[cache_key] = result
    return result
