"""How a context value is read by every settings parser (`stacks.config`, `stacks.role_settings`,
`stacks.spend_settings`, `stacks.principals`): whether it is blank, and the one-line error that
names the key and where to fix it."""

from __future__ import annotations

from runtime.errors import ConfigError


def invalid(key: str, value: object, fix: str) -> ConfigError:
    """The error for a bad context value: the key, the value, the fix and where to put it.

    >>> print(invalid("api_keys", "on", "use one of: off, short-term"))
    context key api_keys='on' is invalid: use one of: off, short-term (cdk.json context or -c api_keys=...)
    """
    return ConfigError(f"context key {key}={value!r} is invalid: {fix} (cdk.json context or -c {key}=...)")


def is_blank(value: object) -> bool:
    """Missing, empty, ``none`` or ``null`` (cdk.json's ``null`` and ``-c key=`` alike).

    >>> is_blank(None), is_blank(" None "), is_blank(""), is_blank("off"), is_blank([])
    (True, True, True, False, False)
    """
    return value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "null"))
