"""Does a deploy widen the grant? Compare the deployed settings with the intended ones.

Both sides are settings as the ``Config`` output records them (``stacks/deployed_config.py``):
plain JSON values keyed by context key. A widening is anything that lets the key do more:
models or source regions added, ``api_keys`` turned on (``bedrock:CallWithBearerToken``),
``policy_mode=full``, KMS principals added. It needs ``--allow-widening`` (our commands) or
``-c allow_widening=true`` (plain ``npx cdk deploy``); narrowing never does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stacks.bedrock_policy import API_KEYS_OFF, POLICY_MODE_FULL
from stacks.config import (
    CTX_ALLOWED_MODELS,
    CTX_API_KEYS,
    CTX_KMS_PRINCIPALS,
    CTX_POLICY_MODE,
    CTX_REGION,
    CTX_SOURCE_REGIONS,
)


@dataclass(frozen=True)
class Widening:
    """What the intended settings add to and remove from the deployed grant, one line each."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def widens(self) -> bool:
        return bool(self.added)

    def lines(self) -> list[str]:
        """The lines to show before deploying.

        >>> Widening(("models +a",), ("regions -b",)).lines()
        ['  + models +a', '  - regions -b']
        """
        return [f"  + {line}" for line in self.added] + [f"  - {line}" for line in self.removed]


def _items(value: Any) -> list[str]:
    """A recorded list (or comma string, or nothing) as a list of strings.

    >>> _items(["a", "b"]), _items("a, b"), _items(None)
    (['a', 'b'], ['a', 'b'], [])
    """
    if value is None:
        return []
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return [str(item) for item in value]


def _regions(settings: Mapping[str, Any]) -> list[str]:
    """Where the key may call from: the source regions, or the deploy region alone."""
    return _items(settings.get(CTX_SOURCE_REGIONS)) or _items(settings.get(CTX_REGION))


def _set_change(label: str, before: list[str], after: list[str], added: list[str], removed: list[str]) -> None:
    plus = [item for item in after if item not in before]
    minus = [item for item in before if item not in after]
    if plus:
        added.append(f"{label}: {', '.join(plus)}")
    if minus:
        removed.append(f"{label}: {', '.join(minus)}")


def compare(deployed: Mapping[str, Any], intended: Mapping[str, Any]) -> Widening:
    """The widening (and narrowing) from `deployed` to `intended`.

    >>> before = {"region": "us-east-1", "allowed_models": ["claude-haiku-4.5"], "api_keys": "off",
    ...           "policy_mode": "least-privilege", "kms_principals": [], "source_regions": []}
    >>> compare(before, {**before, "allowed_models": ["claude-haiku-4.5", "claude-opus-4.6"]}).lines()
    ['  + models: claude-opus-4.6']
    >>> compare(before, {**before, "source_regions": ["us-west-2"]}).lines()
    ['  + source regions: us-west-2', '  - source regions: us-east-1']
    >>> w = compare(before, {**before, "api_keys": "short-term", "policy_mode": "full"})
    >>> w.widens, w.lines()  # doctest: +NORMALIZE_WHITESPACE
    (True, ['  + actions: api_keys=short-term (bedrock:CallWithBearerToken)',
            '  + actions: policy_mode=full (AWS-managed AmazonBedrockFullAccess)'])
    >>> compare({**before, "api_keys": "short-term"}, before).widens  # narrowing
    False
    >>> compare(before, before)
    Widening(added=(), removed=())
    """
    added: list[str] = []
    removed: list[str] = []
    models, principals = CTX_ALLOWED_MODELS, CTX_KMS_PRINCIPALS
    _set_change("models", _items(deployed.get(models)), _items(intended.get(models)), added, removed)
    _set_change("source regions", _regions(deployed), _regions(intended), added, removed)
    was_keys, keys = deployed.get(CTX_API_KEYS) or API_KEYS_OFF, intended.get(CTX_API_KEYS) or API_KEYS_OFF
    if keys != was_keys:
        line = f"actions: {CTX_API_KEYS}={keys if keys != API_KEYS_OFF else was_keys} (bedrock:CallWithBearerToken)"
        (added if keys != API_KEYS_OFF else removed).append(line)
    was_full = deployed.get(CTX_POLICY_MODE) == POLICY_MODE_FULL
    full = intended.get(CTX_POLICY_MODE) == POLICY_MODE_FULL
    if full != was_full:
        line = f"actions: {CTX_POLICY_MODE}={POLICY_MODE_FULL} (AWS-managed AmazonBedrockFullAccess)"
        (added if full else removed).append(line)
    _set_change("KMS principals", _items(deployed.get(principals)), _items(intended.get(principals)), added, removed)
    return Widening(tuple(added), tuple(removed))
