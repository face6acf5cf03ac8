"""Limits of a load run: loopback-only targets, counts, concurrency, timeouts."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from runtime.constants import HEADER_CONFIG, HEADER_CUSTOM_HOST
from runtime.errors import PortkeyBedrockError

MAX_TOTAL = 1_000_000
MAX_CONCURRENCY = 256
DEFAULT_DEADLINE = 600.0  # seconds for a whole run; requests not started by then are not sent

Headers = Mapping[str, str]
MakeRequest = Callable[[int], tuple[Headers, Mapping[str, Any]]]


class LoadError(PortkeyBedrockError, ValueError):
    """A load run that must not start (bad limits, a target that is not loopback)."""


# -- pure helpers ------------------------------------------------------------------------------
def is_loopback_url(url: str) -> bool:
    """True for an http(s) URL whose host is ``localhost`` or a loopback address.

    >>> [is_loopback_url(u) for u in ("http://127.0.0.1:8787/v1", "http://localhost:9", "http://[::1]:80")]
    [True, True, True]
    >>> [is_loopback_url(u) for u in ("http://10.0.0.1:8787", "https://bedrock-runtime.us-east-1.amazonaws.com",
    ...                               "http://localhost.example.com", "ftp://127.0.0.1", "127.0.0.1:80")]
    [False, False, False, False, False]
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _leaf_targets(config: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The targets of a Portkey config that call a provider (nested fallback/loadbalance trees)."""
    targets = config.get("targets")
    if isinstance(targets, list) and targets:
        for target in targets:
            if isinstance(target, Mapping):
                yield from _leaf_targets(target)
    else:
        yield config


def target_problem(headers: Headers) -> str | None:
    """Why a request would leave loopback, or None when every upstream it can reach is loopback.

    >>> target_problem({"x-portkey-custom-host": "http://127.0.0.1:9000"}) is None
    True
    >>> target_problem({})
    'the request has no x-portkey-custom-host: the gateway would call the real Bedrock; point it at the double'
    >>> target_problem({"x-portkey-custom-host": "http://10.1.2.3:9000"})
    'x-portkey-custom-host http://10.1.2.3:9000 is not a loopback URL; load may only go to 127.0.0.1/localhost'
    >>> cfg = '{"strategy": {"mode": "fallback"}, "targets": [{"custom_host": "http://127.0.0.1:1"}, {}]}'
    >>> target_problem({"x-portkey-config": cfg, "x-portkey-custom-host": "http://127.0.0.1:1"})
    'a target in x-portkey-config has no custom_host: the gateway would call the real Bedrock'
    >>> target_problem({"x-portkey-config": '{"retry": {"attempts": 3}}', "x-portkey-custom-host": "http://[::1]:1"})
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    header_host = lowered.get(HEADER_CUSTOM_HOST)
    if header_host is not None and not is_loopback_url(header_host):
        return f"{HEADER_CUSTOM_HOST} {header_host} is not a loopback URL; load may only go to 127.0.0.1/localhost"
    raw_config = lowered.get(HEADER_CONFIG)
    config: Any = {}
    if raw_config:
        try:
            config = json.loads(raw_config)
        except ValueError:
            return f"{HEADER_CONFIG} is not JSON (a config id cannot be checked); pass the config object inline"
        if not isinstance(config, Mapping):
            return f"{HEADER_CONFIG} must be a JSON object"
    has_targets = "targets" in config or "provider" in config
    if not has_targets:
        if header_host is None:
            return (
                f"the request has no {HEADER_CUSTOM_HOST}: the gateway would call the real Bedrock; "
                "point it at the double"
            )
        return None
    for target in _leaf_targets(config):
        host = target.get("custom_host")
        if host is None:
            return f"a target in {HEADER_CONFIG} has no custom_host: the gateway would call the real Bedrock"
        if not isinstance(host, str) or not is_loopback_url(host):
            return f"a target's custom_host {host!r} is not a loopback URL; load may only go to 127.0.0.1/localhost"
    return None


def _check_limits(base_url: str, total: int, concurrency: int, timeout: float, deadline: float) -> None:
    if not is_loopback_url(base_url):
        raise LoadError(
            f"load is only allowed against loopback addresses, not {base_url}; start the gateway locally "
            "(python -m local.gateway up) and pass its http://127.0.0.1:PORT/v1 URL"
        )
    if not 1 <= total <= MAX_TOTAL:
        raise LoadError(f"total must be from 1 to {MAX_TOTAL:,}, got {total}")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise LoadError(f"concurrency must be from 1 to {MAX_CONCURRENCY}, got {concurrency}")
    if not 0 < timeout <= deadline:
        raise LoadError(f"timeout must be above 0 and at most the deadline ({deadline} s), got {timeout}")
