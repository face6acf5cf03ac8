"""Friendly name -> Bedrock id, with the region, the partition, the allow-list and the model's
lifecycle applied."""

from runtime.catalog.model import (
    EOL,
    LEGACY,
    ON_DEMAND_OFFER,
    Catalog,
    Model,
    load_catalog,
    normalize_name,
)
from runtime.constants import (
    DEFAULT_REGION,
    ENV_ALLOWED_MODELS,
)
from runtime.env import environ_region, getenv

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

# (name, region, allowed) -> resolved id, for the packaged catalog only; bounded by the
# number of distinct names an app asks for.
_cache: dict[tuple[str, str, str | tuple[str, ...] | None], str] = {}
_valid_regions: set[str] = set()


def pick_region(region: str | None = None) -> str:
    """The region to use: the argument, else ``AWS_REGION``, ``AWS_DEFAULT_REGION``, else
    ``us-east-1``. A malformed or unknown region raises :class:`RegionError`, a region of another
    partition (GovCloud, China, isolated) :class:`UnsupportedPartitionError`."""
    chosen = region or environ_region() or DEFAULT_REGION
    if chosen in _valid_regions:
        return chosen
    load_catalog().check_region(chosen)  # malformed, another partition, or unknown: one line
    _valid_regions.add(chosen)
    return chosen


def find_model(name: str, catalog: Catalog | None = None) -> tuple[Model, str | None]:
    """The catalog entry for a friendly name, alias, Bedrock model id or profile id.

    Returns ``(model, exact_id)`` where ``exact_id`` is the id itself when `name` was an id
    (it then passes through unchanged) and None for a friendly name. End-of-life models are found
    too (their record stays); :func:`resolve_model` refuses them.
    """
    catalog = catalog or load_catalog()
    if not isinstance(name, str) or not name.strip():
        from runtime.errors import UnknownModelError

        raise UnknownModelError(f"empty model name; valid names: {', '.join(catalog.names(include_eol=False))}")
    hit = catalog.lookup_id(name.strip())
    if hit is not None:
        return hit[0], name.strip()
    model = catalog.by_key.get(normalize_name(name))
    if model is None:
        from runtime.errors import UnknownModelError

        raise UnknownModelError(_unknown_message(name, catalog))
    return model, None


def suggestions(name: str, catalog: Catalog | None = None) -> list[str]:
    """Catalog names close to `name`: spelling neighbours of a name or alias, and every model
    whose name or alias contains all of `name`'s words (``opus`` -> the Opus models).

    >>> suggestions("claude-sonet-4.5")[0]
    'claude-sonnet-4.5'
    >>> "claude-large" in suggestions("opus")
    True
    """
    import difflib  # only on the error path

    catalog = catalog or load_catalog()
    key = normalize_name(name)
    if not key:
        return []
    close = difflib.get_close_matches(key, list(catalog.by_key), n=4, cutoff=0.7)
    words = set(key.split("-"))
    containing = [k for k in catalog.by_key if words <= set(k.split("-"))]
    usable = set(catalog.names(include_eol=False))  # an end-of-life model is no suggestion
    # spelling neighbours best first, then the models that contain all the words, in catalog order
    found = dict.fromkeys(catalog.by_key[k].name for k in (*close, *containing))
    return [name for name in found if name in usable]


def _unknown_message(name: str, catalog: Catalog) -> str:
    names = suggestions(name, catalog)
    hint = f"did you mean {', '.join(names)}? " if names else ""
    return f"unknown model {name!r}; {hint}valid names: {', '.join(catalog.names(include_eol=False))}"


def end_of_life_message(model: Model) -> str:
    """One line: when `model` reached end of life and what to use instead.

    >>> end_of_life_message(load_catalog().model("claude-sonnet-4"))
    'claude-sonnet-4 reached end of life on Amazon Bedrock on 2026-10-14; use claude-sonnet-4.6'
    """
    life = model.lifecycle
    when = f" on {life.eol_date}" if life.eol_date else ""
    instead = f"use {life.replacement}" if life.replacement else "pick another model (python -m runtime models)"
    return f"{model.name} reached end of life on Amazon Bedrock{when}; {instead}"


def lifecycle_warning(model: "Model | str", day: str | None = None, catalog: Catalog | None = None) -> str | None:
    """One line for a Legacy (or end-of-life) model, None for an active one. `model` is a
    :class:`Model` or any name :func:`find_model` knows; `day` defaults to today (UTC).

    >>> lifecycle_warning("claude-sonnet-4.5", day="2026-11-23")  # doctest: +ELLIPSIS
    'claude-sonnet-4.5 is Legacy on Amazon Bedrock since 2026-10-08 and reaches end of life on 2027-04-08; ...'
    >>> lifecycle_warning("claude-large", day="2026-11-23") is None
    True
    """
    if isinstance(model, str):
        model = find_model(model, catalog)[0]
    status = model.status_on(day)
    if status == EOL:
        return end_of_life_message(model)
    if status != LEGACY:
        return None
    life = model.lifecycle
    since = f" since {life.legacy_date}" if life.legacy_date else ""
    until = f" and reaches end of life on {life.eol_date}" if life.eol_date else ""
    instead = f"move to {life.replacement}" if life.replacement else "move to an active model"
    return (
        f"{model.name} is Legacy on Amazon Bedrock{since}{until}; {instead} "
        "(accounts that have not used it recently cannot call it)"
    )


_legacy_warned: set[str] = set()  # models already warned about in this process


def _warn_legacy(model: "Model") -> None:
    """:class:`runtime.errors.LegacyModelWarning` for `model`, once per process (the CLI prints
    its own ``warning:`` line instead)."""
    import warnings

    from runtime.errors import LegacyModelWarning

    _legacy_warned.add(model.name)
    message = lifecycle_warning(model)
    if message:
        warnings.warn(message, LegacyModelWarning, stacklevel=3)


def allowed_models(
    allowed: "Iterable[str] | str | None" = None, catalog: Catalog | None = None
) -> frozenset[str] | None:
    """Catalog names the allow-list admits (None: all). The argument beats
    ``PORTKEY_BEDROCK_ALLOWED_MODELS``; both are comma lists of names or aliases, or ``all``.
    Unset means all; an empty list or ``none`` is a ConfigError (it would allow nothing), as in
    the stack's ``allowed_models`` context key: both are `runtime.catalog.admission.admit`."""
    raw = allowed if allowed is not None else getenv(ENV_ALLOWED_MODELS)
    if raw is None:
        return None
    from runtime.catalog.admission import admit  # the one owner of admission; no region: each call has its own

    admission = admit(raw, catalog=catalog, where=f"the allow-list ({ENV_ALLOWED_MODELS})", keep_eol=True)
    return None if admission.everything else frozenset(admission.names)


def resolve_model(
    name: str,
    region: str | None = None,
    *,
    allowed: "Iterable[str] | str | None" = None,
    catalog: Catalog | None = None,
) -> str:
    """The Bedrock id to send for `name` from `region`.

    Friendly names and aliases are case- and separator-insensitive; an inference-profile id that
    is in the catalog passes through unchanged when it can be called from `region`, and so does a
    foundation-model id the model is offered on demand with. An end-of-life model raises
    :class:`EndOfLifeError`; a Legacy one resolves (see :func:`lifecycle_warning`).

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
    if model.is_eol():
        from runtime.errors import EndOfLifeError

        raise EndOfLifeError(end_of_life_message(model))
    if model.name not in _legacy_warned and model.status_on(None) == LEGACY:
        _warn_legacy(model)
    admitted = allowed_models(allowed, catalog)
    if admitted is not None and model.name not in admitted:
        from runtime.errors import ModelNotAllowedError

        raise ModelNotAllowedError(
            f"model {model.name} is not in the allow-list ({', '.join(sorted(admitted))}); "
            f"add it to {ENV_ALLOWED_MODELS} or pick an allowed model"
        )
    result = catalog.offer_for(model, region).invoke_id if exact_id is None else _check_exact(exact_id, region, catalog)
    if cache_key is not None:
        _cache[cache_key] = result
    return result


def _check_exact(exact_id: str, region: str, catalog: Catalog) -> str:
    """An exact Bedrock id, checked against its offer's source regions."""
    hit = catalog.lookup_id(exact_id)
    assert hit is not None  # find_model found it
    model, offer = hit
    if offer is not None and region in offer.routes:
        return exact_id
    from runtime.errors import ProfileRequiredError, RegionError

    try:
        usable = catalog.offer_for(model, region).invoke_id
    except RegionError:
        usable = None
    if (offer is None or offer.kind == ON_DEMAND_OFFER) and usable:
        where = "" if offer is None else f" from {region}"
        raise ProfileRequiredError(
            f"{exact_id} is served only through an inference profile on Amazon Bedrock{where}; "
            f"use the inference profile {usable} (from {region})"
        )
    if offer is None:
        raise ProfileRequiredError(
            f"{exact_id} is served only through an inference profile on Amazon Bedrock; "
            f"call {model.name} from a region one of its profiles lists"
        )
    what = "foundation model" if offer.kind == ON_DEMAND_OFFER else "inference profile"
    fix = f"use {usable}" if usable else f"use a region it lists (e.g. {', '.join(offer.source_regions[:4])})"
    raise RegionError(f"{what} {exact_id} cannot be called from region {region}; {fix}")
