"""Refuse a context key the app does not read: a typo (``-c allowed_model=…``) must not deploy the
defaults silently. CDK's own keys and other namespaced keys (``@aws-cdk/…``, ``aws:cdk:…``, lookup
results such as ``availability-zones:account=…``) are left alone."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from runtime.errors import ConfigError
from stacks.config import CONTEXT_KEYS

if TYPE_CHECKING:
    from collections.abc import Iterable


def is_namespaced(key: str) -> bool:
    """Keys of CDK itself or another tool: they carry a namespace (``:``, ``/``) or start with ``@``.

    >>> is_namespaced("@aws-cdk/core:checkSecretUsage"), is_namespaced("aws:cdk:enable-path-metadata")
    (True, True)
    >>> is_namespaced("allowed_model")
    False
    """
    return key.startswith("@") or ":" in key or "/" in key


def check_context_keys(keys: Iterable[str], known: Iterable[str] = CONTEXT_KEYS) -> None:
    """Raise :class:`ConfigError` for the first unknown key, with a did-you-mean.

    >>> check_context_keys(["allowed_models", "@aws-cdk/core:x", "aws:cdk:y"])
    >>> check_context_keys(["allowed_model"])
    Traceback (most recent call last):
    ...
    runtime.errors.ConfigError: unknown context key allowed_model; did you mean allowed_models?
    >>> check_context_keys(["zzz"], known=["region"])
    Traceback (most recent call last):
    ...
    runtime.errors.ConfigError: unknown context key zzz; the app reads: region
    """
    names = tuple(known)
    for key in sorted(keys):
        if key in names or is_namespaced(key):
            continue
        close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}?" if close else f"the app reads: {', '.join(sorted(names))}"
        raise ConfigError(f"unknown context key {key}; {hint}")
