"""Does a deploy widen the grant? Compare the deployed settings with the intended ones.

Both sides are settings as the ``Config`` output records them (``stacks/deployed_config.py``):
plain JSON values keyed by context key. A widening is anything that lets the key do more:
models or source regions added, ``api_keys`` turned on (``bedrock:CallWithBearerToken``),
``policy_mode=full``, KMS principals added, a principal kind added (``principal``: the role, or the
user's long-lived key), role trust added or its external id dropped, a secret resource policy
opened (``secret_readers``), the budget stop dropped (``budget_action``). It needs
``--allow-widening`` (our commands) or ``-c allow_widening=true`` (plain ``npx cdk deploy``); narrowing never does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runtime.env import split_list
from stacks.bedrock_policy import API_KEYS_OFF, POLICY_MODE_FULL
from stacks.config import (
    CTX_ALLOWED_MODELS,
    CTX_API_KEYS,
    CTX_KMS_PRINCIPALS,
    CTX_POLICY_MODE,
    CTX_REGION,
    CTX_SECRET_READERS,
    CTX_SOURCE_REGIONS,
)
from stacks.role_settings import CTX_PRINCIPAL, CTX_ROLE_EXTERNAL_ID, CTX_ROLE_TRUST, PRINCIPAL_BOTH, PRINCIPAL_USER
from stacks.spend_settings import BUDGET_ACTION_DENY, CTX_BUDGET_ACTION


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
    return split_list([str(item) for item in value] if isinstance(value, list | tuple) else value) or []


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
    _who_may_call(deployed, intended, added, removed)
    return Widening(tuple(added), tuple(removed))


def _principal_kinds(value: Any) -> list[str]:
    """Who holds the grant for a recorded ``principal`` (missing: the seed's user).

    >>> _principal_kinds(None), _principal_kinds("both"), _principal_kinds("role")
    (['user'], ['user', 'role'], ['role'])
    """
    principal = str(value or PRINCIPAL_USER)
    return [kind for kind in ("user", "role") if principal in (kind, PRINCIPAL_BOTH)]


def _who_may_call(
    deployed: Mapping[str, Any], intended: Mapping[str, Any], added: list[str], removed: list[str]
) -> None:
    """Widenings of who may use the grant or its key: principal kinds, role trust, the role's
    external id, the secret's readers, the budget stop.

    >>> out, gone = [], []
    >>> _who_may_call({"principal": "user"}, {"principal": "both", "role_trust": "lambda.amazonaws.com"}, out, gone)
    >>> out
    ['principals: role', 'role trust: lambda.amazonaws.com']
    >>> out, gone = [], []
    >>> _who_may_call({"secret_readers": ["arn:aws:iam::1:role/ci"], "budget_action": "deny"}, {}, out, gone)
    >>> out  # doctest: +NORMALIZE_WHITESPACE
    ['secret readers: the resource policy is removed (any principal with IAM rights may read)',
     'budget stop: budget_action=deny removed']
    >>> out, gone = [], []
    >>> _who_may_call({}, {"secret_readers": ["arn:aws:iam::1:role/ci"], "budget_action": "deny"}, out, gone)
    >>> out, gone  # doctest: +NORMALIZE_WHITESPACE
    ([], ['secret readers: arn:aws:iam::1:role/ci', 'budget stop: none before, budget_action=deny now'])
    """
    _set_change("principals", _principal_kinds(deployed.get(CTX_PRINCIPAL)),
                _principal_kinds(intended.get(CTX_PRINCIPAL)), added, removed)  # fmt: skip
    _set_change(
        "role trust", _items(deployed.get(CTX_ROLE_TRUST)), _items(intended.get(CTX_ROLE_TRUST)), added, removed
    )
    if deployed.get(CTX_ROLE_EXTERNAL_ID) and not intended.get(CTX_ROLE_EXTERNAL_ID):
        added.append(f"role trust: {CTX_ROLE_EXTERNAL_ID} removed (sts:ExternalId no longer required)")
    readers_before, readers = _items(deployed.get(CTX_SECRET_READERS)), _items(intended.get(CTX_SECRET_READERS))
    if readers_before and not readers:
        added.append("secret readers: the resource policy is removed (any principal with IAM rights may read)")
    elif not readers_before and readers:
        removed.append(f"secret readers: {', '.join(readers)}")
    else:
        _set_change("secret readers", readers_before, readers, added, removed)
    stop_before = deployed.get(CTX_BUDGET_ACTION) == BUDGET_ACTION_DENY
    stop = intended.get(CTX_BUDGET_ACTION) == BUDGET_ACTION_DENY
    if stop_before and not stop:
        added.append(f"budget stop: {CTX_BUDGET_ACTION}={BUDGET_ACTION_DENY} removed")
    elif stop and not stop_before:
        removed.append(f"budget stop: none before, {CTX_BUDGET_ACTION}={BUDGET_ACTION_DENY} now")
