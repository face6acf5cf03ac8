"""Reading optional environment variables on the hot path.

``os.environ.get`` of an unset name raises and catches a KeyError inside ``os``, which costs about
2 µs; the request builders read two such names per call. :func:`getenv` answers a miss with one
dict look-up in ``os.environ``'s own store, so it sees every change made through ``os.environ``
(``monkeypatch.setenv`` included) and costs ~0.1 µs.
"""

import os

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
