"""Which models a list of names admits, from which regions, on which day: the one owner of that rule.

A list is a comma string or a list of names and aliases, or ``all``; missing (None) means ``all``;
empty or ``none`` is an error, because it would allow nothing. ``all`` means every model that has
not reached end of life and is offered from *every* region asked for; a named model that is
unknown, past end of life or not offered from one of the regions is an error. The stack's
``allowed_models`` (`stacks.config`), the policy builder (`stacks.bedrock_policy`) and the
runtime's ``PORTKEY_BEDROCK_ALLOWED_MODELS`` (`runtime.catalog.resolve.allowed_models`) all ask here and
trust the answer: :class:`Admission`, the models in catalog order with their offer per region.

Every error is one line that starts with `where` (what was read, e.g. ``context key
allowed_models``) and names the fix. Answers are kept per (catalog, names, regions, day), so
``Catalog.offer_for`` runs once per (model, region) however often the stack, its config and its
policy ask.
"""

from __future__ import annotations

from runtime.catalog.model import Catalog, Model, Offer, load_catalog, today_utc
from runtime.env import split_list
from runtime.errors import ConfigError, EndOfLifeError, PortkeyBedrockError, RegionError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

ALL_MODELS = "all"
# what a list may not be: it would allow nothing, which is never what was meant
NO_MODELS = ("", "none", "null")


class Admission:
    """The admitted models (catalog order) and each one's offer from each region asked for.

    >>> admission = admit("sonnet-4.5, claude-large", ["us-east-1", "eu-west-1"], day="2026-11-23")
    >>> admission.names
    ('claude-large', 'claude-sonnet-4.5')
    >>> admission.offer("claude-sonnet-4.5", "eu-west-1").invoke_id
    'eu.anthropic.claude-sonnet-4-5-20250929-v1:0'
    """

    __slots__ = ("everything", "models", "names", "offers", "regions")

    def __init__(
        self, models: Sequence[Model], regions: Sequence[str], offers: dict[tuple[str, str], Offer], everything: bool
    ) -> None:
        self.models: tuple[Model, ...] = tuple(models)
        self.names: tuple[str, ...] = tuple(model.name for model in models)
        self.regions: tuple[str, ...] = tuple(regions)
        self.offers = offers
        self.everything = everything  # the list was "all" (or missing)

    def offer(self, name: str, region: str) -> Offer:
        """The offer of an admitted model from one of the admitted regions."""
        return self.offers[name, region]

    def __repr__(self) -> str:
        return f"Admission({list(self.names)!r}, regions={list(self.regions)!r})"


def split_names(value: object, where: str, catalog: Catalog) -> list[str] | None:
    """The names of a comma string or list, stripped; None for ``all`` (or a missing value).

    >>> split_names(" claude-large, sonnet-4.5 ,", "x", load_catalog())
    ['claude-large', 'sonnet-4.5']
    >>> split_names("ALL", "x", load_catalog()) is None
    True
    >>> split_names("none", "the allow-list", load_catalog())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    runtime.errors.ConfigError: the allow-list='none' names no model; name at least one model, or use 'all'; valid: ...
    """
    if value is None:
        return None
    try:
        names = split_list(value) or []
    except TypeError:
        valid = ", ".join(catalog.names(include_eol=False))
        raise ConfigError(f"{where}={value!r} is invalid: use {ALL_MODELS!r} or a comma list of: {valid}") from None
    if [name.lower() for name in names] == [ALL_MODELS]:
        return None
    if not names or (len(names) == 1 and names[0].lower() in NO_MODELS):
        shown = value if isinstance(value, str) else ",".join(names)
        raise ConfigError(
            f"{where}={shown!r} names no model; name at least one model, or use {ALL_MODELS!r}; "
            f"valid: {', '.join(catalog.names(include_eol=False))}"
        )
    return names


_cache: dict[tuple[object, ...], Admission] = {}


def admit(
    names: object,
    regions: Sequence[str] = (),
    *,
    day: str | None = None,
    catalog: Catalog | None = None,
    where: str = "allowed models",
    keep_eol: bool = False,
) -> Admission:
    """The models `names` admits from every one of `regions` on `day` (default today, UTC), or one
    error line starting with `where`. No `regions`: names are checked, offers are not (the
    runtime's allow-list: the region is each call's). `keep_eol`: a named model past end of life
    stays admitted (the runtime refuses it per call, naming its replacement); ``all`` never
    includes one.

    >>> admit("all", ["us-east-1"], day="2026-11-23").names[:2]
    ('claude-large', 'claude-sonnet-4.5')
    >>> admit("claude-haiku-4.5", ["us-east-1", "sa-east-1"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    runtime.errors.RegionError: allowed models: claude-haiku-4.5 is not offered from source region sa-east-1; ...
    """
    catalog = catalog or load_catalog()
    day = day or today_utc()
    regions = tuple(dict.fromkeys(regions))
    raw = tuple(names) if isinstance(names, list | tuple | set | frozenset) else names
    key = (catalog, raw, regions, day, where, keep_eol)
    hit = _cache.get(key)
    if hit is not None:
        return hit
    chosen = split_names(raw, where, catalog)
    offers: dict[tuple[str, str], Offer] = {}
    if chosen is None:
        models = [
            model for model in catalog.models if not model.is_eol(day) and _offered(model, regions, offers, catalog)
        ]
        if not models:
            raise ConfigError(
                f"{where}: no catalog model is offered from {', '.join(regions)}; "
                f"pick a region with a Bedrock inference profile (e.g. {catalog.default_region})"
            )
    else:
        from runtime.catalog.resolve import end_of_life_message, find_model

        picked: set[str] = set()
        for name in chosen:
            try:
                model = find_model(name, catalog)[0]
                if not keep_eol and model.is_eol(day):
                    raise EndOfLifeError(end_of_life_message(model))
                _offers_of(model, regions, offers, catalog)
            except PortkeyBedrockError as err:
                raise type(err)(f"{where}: {err}") from None
            picked.add(model.name)
        models = [model for model in catalog.models if model.name in picked]
    admission = Admission(models, regions, offers, everything=chosen is None)
    if len(_cache) < 256:  # bounded: a process asks about a handful of lists
        _cache[key] = admission
    return admission


def _offered(model: Model, regions: Sequence[str], offers: dict[tuple[str, str], Offer], catalog: Catalog) -> bool:
    """Record `model`'s offer from every region; False (nothing recorded) when one has none."""
    try:
        found = {(model.name, region): catalog.offer_for(model, region) for region in regions}
    except RegionError:
        return False
    offers.update(found)
    return True


def _offers_of(model: Model, regions: Sequence[str], offers: dict[tuple[str, str], Offer], catalog: Catalog) -> None:
    for index, region in enumerate(regions):
        try:
            offers[model.name, region] = catalog.offer_for(model, region)
        except RegionError:
            if index == 0:
                raise  # its message names the regions to use instead
            raise RegionError(
                f"{model.name} is not offered from source region {region}; "
                f"drop {region} from the source regions or {model.name} from the models"
            ) from None
