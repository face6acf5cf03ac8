"""Reading optional environment variables on the hot path, the region the environment names, and
comma lists as environment variables and ``-c`` context values carry them.

``os.environ.get`` of an unset name raises and catches a KeyError inside ``os``, which costs about
2 µs; the request builders read two such names per call. :func:`getenv` answers a miss with one
dict look-up in ``os.environ``'s own store, so it sees every change made through ``os.environ``
(``monkeypatch.setenv`` included) and costs ~0.1 µs.
"""

import os

from runtime.constants import ENV_AWS_DEFAULT_REGION, ENV_AWS_REGION

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

_store = getattr(os.environ, "_data", None)
_encode = getattr(os.environ, "encodekey", None)
_encoded: dict[str, object] = {}


def getenv(name: str) -> str | None:
    """``os.environ.get(name)``, fast when the variable is unset.

    >>> getenv("PORTKEY_BEDROCK_SURELY_UNSET") is None
    True
    >>> os.environ["PORTKEY_BEDROCK_DOCTEST"] = "x"; getenv("PORTKEY_BEDROCK_DOCTEST")
    'x'
    >>> del os.environ["PORTKEY_BEDROCK_DOCTEST"]; getenv("PORTKEY_BEDROCK_DOCTEST") is None
    True
    """
    if _store is None or _encode is None:  # not CPython's os._Environ: take the plain path
        return os.environ.get(name)
    key = _encoded.get(name)
    if key is None:
        key = _encoded[name] = _encode(name)
    if key not in _store:
        return None
    return os.environ.get(name)


def environ_region(environ: "Mapping[str, str] | None" = None) -> "str | None":
    """The region the environment names: ``AWS_REGION``, else ``AWS_DEFAULT_REGION``, else None
    (of `environ`, or of the process). The one owner of that precedence; an explicit argument
    beats it and ``us-east-1`` (``runtime.constants.DEFAULT_REGION``) follows it, where the caller
    says so (``runtime.catalog.resolve.pick_region``).

    >>> environ_region({"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "eu-west-1"})
    'us-west-2'
    >>> environ_region({"AWS_DEFAULT_REGION": "eu-west-1"})
    'eu-west-1'
    >>> environ_region({}) is None
    True
    """
    if environ is None:
        return getenv(ENV_AWS_REGION) or getenv(ENV_AWS_DEFAULT_REGION)
    return environ.get(ENV_AWS_REGION) or environ.get(ENV_AWS_DEFAULT_REGION)


def split_list(value: object) -> list[str] | None:
    """A comma string or a list of strings (a JSON list from cdk.json, a set from Python) as a
    list of stripped, non-empty strings; None stays None, anything else raises TypeError (each
    caller words its own one-line error). The one owner of that rule.

    >>> split_list(" claude-large, sonnet-4.5 ,"), split_list(["a", " b "]), split_list(None)
    (['claude-large', 'sonnet-4.5'], ['a', 'b'], None)
    >>> split_list(3)
    Traceback (most recent call last):
    ...
    TypeError: expected a comma-separated string or a list of strings
    """
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple | set | frozenset) or not all(isinstance(i, str) for i in items):
        raise TypeError("expected a comma-separated string or a list of strings")
    return [item.strip() for item in items if item.strip()]
