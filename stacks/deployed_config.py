"""The deployed stack owns its settings: the ``Config`` output records them, every deploy starts there.

``cdk.json`` and ``-c`` are *intent*; the deployed settings are the *baseline*. For each setting
(every key of ``CONTEXT_KEYS`` but the location keys, the key serials and the deploy flag):

1. given explicitly (``-c key=value``) -> that value;
2. else, cdk.json's value differs from what cdk.json said at the last deploy (the record keeps
   both) -> cdk.json's new value (an edit of cdk.json is intent too);
3. else -> the deployed value (a deploy never undoes an earlier ``-c`` by accident);
4. a setting the record does not know (added to the project since) -> cdk.json's value.

A rotation (``exact=True``) takes every setting from the record: only the serial changes. The
record is compact JSON, never a secret: ``{"v": 1, "settings": {...}, "cdk_json": {...}}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from runtime.constants import OUTPUT_CONFIG
from runtime.errors import PortkeyBedrockError
from stacks.config import (
    CONTEXT_KEYS,
    CTX_ACCESS_KEY_SERIAL,
    CTX_ACCOUNT,
    CTX_ALLOW_WIDENING,
    CTX_REGION,
    CTX_RETAINED_ACCESS_KEY_SERIAL,
    CTX_STACK_NAME,
    StackConfig,
)
from stacks.widening import Widening, compare

if TYPE_CHECKING:
    from constructs import Construct

RECORD_VERSION = 1
# Where the stack is: they say which stack the baseline is read from, so they never come from it.
LOCATION_KEYS = (CTX_STACK_NAME, CTX_REGION, CTX_ACCOUNT)
# Not settings: the serials are owned by the deployed keys (stacks/deployed_keys.py); a flag.
NOT_SETTINGS = (CTX_ACCESS_KEY_SERIAL, CTX_RETAINED_ACCESS_KEY_SERIAL, CTX_ALLOW_WIDENING)
# Passed by python -m stacks.deploy / stacks.rotate: the context is already resolved against the
# deployed stack (and any widening allowed), so app.py does not look it up again.
CTX_RESOLVED = "portkey-bedrock:resolved"


class WideningRefused(PortkeyBedrockError):
    """The deploy would widen the grant and no flag allows it; nothing was deployed."""

    def __init__(self, message: str, widening: Widening) -> None:
        super().__init__(message)
        self.widening = widening


def setting_keys() -> tuple[str, ...]:
    """Every recorded setting: CONTEXT_KEYS minus the serials and the flag (new keys join by themselves).

    >>> "allowed_models" in setting_keys(), "access_key_serial" in setting_keys()
    (True, False)
    """
    return tuple(key for key in CONTEXT_KEYS if key not in NOT_SETTINGS)


def _plain(value: Any) -> Any:
    """A JSON value for a config field (tuples become lists).

    >>> _plain(("a", "b")), _plain(None), _plain({"k": ("v",)})
    (['a', 'b'], None, {'k': ['v']})
    """
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _raw(value: Any) -> str | None:
    """A setting with no field of its own, recorded as ``-c`` would pass it (so cdk.json's ``3600``
    and a rotation's ``"3600"`` are the same record); blank is None.

    >>> _raw(3600), _raw("3600"), _raw(""), _raw(None), _raw(["a", "b"])
    ('3600', '3600', None, None, 'a,b')
    """
    return context_text(value) or None


def settings_of(config: StackConfig, context_of: Callable[[str], Any]) -> dict[str, Any]:
    """The effective settings: the validated field of the same name, else the context value.

    >>> cfg = StackConfig(allowed_models=("claude-haiku-4.5",))
    >>> settings_of(cfg, {}.get)["allowed_models"], settings_of(cfg, {}.get)["source_regions"]
    (['claude-haiku-4.5'], [])
    >>> settings_of(cfg, {"maximum_session_duration": 3600}.get)["maximum_session_duration"]
    '3600'
    """
    return {
        key: _plain(getattr(config, key)) if hasattr(config, key) else _raw(context_of(key)) for key in setting_keys()
    }


def record_json(settings: Mapping[str, Any], cdk_json: Mapping[str, Any]) -> str:
    """The ``Config`` output: the settings and what cdk.json said for them, compact.

    >>> record_json({"api_keys": "off"}, {"api_keys": "off", "@aws-cdk/x": True})
    '{"cdk_json":{"api_keys":"off"},"settings":{"api_keys":"off"},"v":1}'
    """
    said = {key: _plain(cdk_json[key]) for key in setting_keys() if key in cdk_json}
    record = {"v": RECORD_VERSION, "settings": dict(settings), "cdk_json": said}
    return json.dumps(record, separators=(",", ":"), sort_keys=True)


def add_config_output(
    stack: Construct, config: StackConfig, context_of: Callable[[str], Any], cdk_json: Mapping[str, Any]
) -> None:
    """Publish the record as the stack's ``Config`` output."""
    from aws_cdk import CfnOutput

    CfnOutput(stack, OUTPUT_CONFIG, value=record_json(settings_of(config, context_of), cdk_json))


@dataclass(frozen=True)
class DeployedConfig:
    """The ``Config`` output of a deployed stack (`derived`: read from the other outputs and the
    template of a stack deployed before the ``Config`` output existed)."""

    settings: dict[str, Any]
    cdk_json: dict[str, Any]
    derived: bool = False

    @classmethod
    def derive(
        cls, outputs: Mapping[str, str], template_text: str, cdk_json: Mapping[str, Any]
    ) -> DeployedConfig | None:
        """What the outputs and template of an older stack say about its grant: models
        (``ModelIds``), source regions, ``api_keys``, ``policy_mode``, user and secret names.
        cdk.json is taken as unchanged since, so these deployed values stay the baseline.

        >>> derived = DeployedConfig.derive({"ModelIds": "us.anthropic.claude-sonnet-4-6", "Region": "us-east-1",
        ...     "SourceRegions": "us-east-1", "UserName": "u",
        ...     "SecretArn": "arn:aws:secretsmanager:us-east-1:1:secret:p/b-AbCdEf"}, "{}", {})
        >>> derived.settings  # doctest: +NORMALIZE_WHITESPACE
        {'allowed_models': ['claude-sonnet-4.6'], 'source_regions': [], 'api_keys': 'off',
         'policy_mode': 'least-privilege', 'user_name': 'u', 'secret_name': 'p/b'}
        >>> DeployedConfig.derive({}, "{}", {}) is None
        True
        """
        from runtime.catalog.model import load_catalog
        from runtime.constants import (
            OUTPUT_MODEL_IDS,
            OUTPUT_REGION,
            OUTPUT_SECRET_ARN,
            OUTPUT_SOURCE_REGIONS,
            OUTPUT_USER_NAME,
        )
        from stacks.bedrock_policy import (
            API_KEYS_OFF,
            API_KEYS_SHORT_TERM,
            POLICY_MODE_FULL,
            POLICY_MODE_LEAST_PRIVILEGE,
        )
        from stacks.config import (
            CTX_ALLOWED_MODELS,
            CTX_API_KEYS,
            CTX_POLICY_MODE,
            CTX_SECRET_NAME,
            CTX_SOURCE_REGIONS,
            CTX_USER_NAME,
        )
        from stacks.constructs.invoke_policy import FULL_ACCESS_MANAGED_POLICY

        if OUTPUT_MODEL_IDS not in outputs:
            return None
        catalog = load_catalog()
        found = [catalog.lookup_id(item.strip()) for item in outputs[OUTPUT_MODEL_IDS].split(",") if item.strip()]
        sources = [item for item in outputs.get(OUTPUT_SOURCE_REGIONS, "").split(",") if item]
        settings: dict[str, Any] = {
            CTX_ALLOWED_MODELS: [entry[0].name for entry in found if entry is not None],
            CTX_SOURCE_REGIONS: [] if sources in ([], [outputs.get(OUTPUT_REGION)]) else sources,
            CTX_API_KEYS: API_KEYS_SHORT_TERM if "bedrock:CallWithBearerToken" in template_text else API_KEYS_OFF,
            CTX_POLICY_MODE: POLICY_MODE_FULL if FULL_ACCESS_MANAGED_POLICY in template_text
            else POLICY_MODE_LEAST_PRIVILEGE,
        }  # fmt: skip
        if outputs.get(OUTPUT_USER_NAME):
            settings[CTX_USER_NAME] = outputs[OUTPUT_USER_NAME]
        secret = outputs.get(OUTPUT_SECRET_ARN, "").split(":secret:", 1)
        if len(secret) == 2 and len(secret[1]) > 7 and secret[1][-7] == "-":
            settings[CTX_SECRET_NAME] = secret[1][:-7]  # Secrets Manager appends "-" and six characters
        return cls(settings, dict(cdk_json), derived=True)

    @classmethod
    def parse(cls, text: str | None) -> DeployedConfig | None:
        """The record, or None when there is none (a stack deployed before the output existed).

        >>> DeployedConfig.parse('{"v":1,"settings":{"api_keys":"off"},"cdk_json":{}}').settings
        {'api_keys': 'off'}
        >>> DeployedConfig.parse(None) is None, DeployedConfig.parse("{") is None
        (True, True)
        """
        try:
            value = json.loads(text) if text else None
        except ValueError:
            return None
        if not isinstance(value, dict) or not isinstance(value.get("settings"), dict):
            return None
        cdk_json = value.get("cdk_json")
        return cls(dict(value["settings"]), dict(cdk_json) if isinstance(cdk_json, dict) else {})


def _same(a: Any, b: Any) -> bool:
    """Equal as context values (a JSON list and its comma string are the same list).

    >>> _same(["a", "b"], "a,b"), _same("all", "all"), _same(None, "x")
    (True, True, False)
    """
    return context_text(a) == context_text(b)


def context_text(value: Any) -> str:
    """A value as ``-c key=value`` passes it (what the CLI hands the app).

    >>> context_text(["a", "b"]), context_text([]), context_text(None), context_text(True), context_text({"k": 1})
    ('a,b', '', '', 'true', '{"k": 1}')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return ",".join(value)
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, sort_keys=True)
    return str(value)


def baseline_context(
    explicit: Mapping[str, Any],
    cdk_json: Mapping[str, Any],
    deployed: DeployedConfig | None,
    *,
    exact: bool = False,
) -> dict[str, Any]:
    """The settings to deploy with (the rules of the module docstring); {} without a record.

    >>> rec = DeployedConfig({"allowed_models": ["claude-haiku-4.5"], "api_keys": "short-term"},
    ...                      {"allowed_models": "all", "api_keys": "off"})
    >>> baseline_context({}, {"allowed_models": "all", "api_keys": "off"}, rec)
    {'api_keys': 'short-term', 'allowed_models': ['claude-haiku-4.5']}
    >>> baseline_context({"api_keys": "off"}, {"allowed_models": "all", "api_keys": "off"}, rec)["api_keys"]
    'off'
    >>> baseline_context({}, {"allowed_models": "claude-sonnet-4.6", "api_keys": "off"}, rec)["allowed_models"]
    'claude-sonnet-4.6'
    >>> baseline_context({"api_keys": "off"}, {"allowed_models": "x"}, rec, exact=True)
    {'api_keys': 'short-term', 'allowed_models': ['claude-haiku-4.5']}
    """
    if deployed is None:
        return {}
    chosen: dict[str, Any] = {}
    for key in setting_keys():
        if key in LOCATION_KEYS:
            continue
        if not exact and key in explicit:
            chosen[key] = explicit[key]
        elif not exact and key in cdk_json and not _same(cdk_json[key], deployed.cdk_json.get(key)):
            chosen[key] = cdk_json[key]  # cdk.json was edited since the last deploy
        elif key in deployed.settings:
            chosen[key] = deployed.settings[key]
        elif key in cdk_json:
            chosen[key] = cdk_json[key]
    return chosen


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """One line per setting that differs, for the user to see before the deploy.

    >>> changes({"api_keys": "off", "policy_mode": "full"}, {"api_keys": "short-term", "policy_mode": "full"})
    ['  api_keys: off -> short-term']
    """
    return [
        f"  {key}: {context_text(before.get(key)) or '-'} -> {context_text(after.get(key)) or '-'}"
        for key in setting_keys()
        if key not in LOCATION_KEYS and not _same(before.get(key), after.get(key))
    ]


def is_true(value: Any) -> bool:
    """A context flag (``-c allow_widening=true`` arrives as a string).

    >>> is_true("true"), is_true(True), is_true("false"), is_true(None)
    (True, True, False, False)
    """
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "1", "yes"))


def check_deploy(
    stack: str,
    deployed: DeployedConfig | None,
    intended: Mapping[str, Any],
    *,
    allow_widening: bool,
    flag: str,
    say: Callable[[str], None],
) -> None:
    """Show what changes against the deployed settings; refuse a widening without `flag`."""
    if deployed is None:
        return
    lines = changes(deployed.settings, intended)
    if not lines:
        return
    say(f"{stack}: settings that change against the deployed stack:")
    for line in lines:
        say(line)
    widening = compare(deployed.settings, intended)
    if not widening.widens:
        return
    say(f"{stack}: this deploy widens the grant:")
    for line in widening.lines():
        say(line)
    if not allow_widening:
        raise WideningRefused(
            f"refusing to widen the grant of {stack} ({'; '.join(widening.added)}); nothing was deployed: "
            f"pass {flag} to deploy it, or narrow the -c values",
            widening,
        )


class HasConfig(Protocol):
    """A deployed stack as `stacks.deployed_keys.Deployed` reads it."""

    @property
    def config(self) -> DeployedConfig | None: ...


def resolve_settings(
    stack: str,
    explicit: Mapping[str, Any],
    cdk_json: Mapping[str, Any],
    deployed: HasConfig | None,
    *,
    environ: Mapping[str, str],
    allow_widening: bool,
    flag: str,
    say: Callable[[str], None],
    exact: bool = False,
) -> dict[str, Any]:
    """The settings to deploy `stack` with over cdk.json and `explicit` (see the module
    docstring), after showing what changes and refusing a widening without `flag`."""
    recorded = deployed.config if deployed is not None else None
    if recorded is not None and recorded.derived:
        say(
            f"note: {stack} records no settings yet (deployed before its {OUTPUT_CONFIG} output): its models, "
            "source regions, actions, user and secret names are read from its outputs and template instead; "
            "this deploy records them all"
        )
    chosen = baseline_context(explicit, cdk_json, recorded, exact=exact)
    merged = {**cdk_json, **explicit, **chosen}
    config = StackConfig.from_mapping(merged, environ=environ)
    check_deploy(stack, recorded, settings_of(config, merged.get), allow_widening=allow_widening, flag=flag, say=say)
    return chosen
