"""The stack's settings: one frozen, validated object read from CDK context.

Defaults live in ``cdk.json`` under ``"context"``; override any of them with ``-c key=value``
(values given on the command line arrive as strings). The region and account default to the
CLI's ``CDK_DEFAULT_REGION``/``CDK_DEFAULT_ACCOUNT``. A bad value raises :class:`ConfigError` with
one line naming the context key and the fix.

The access-key serials are the exception: they have no default in ``cdk.json``, because the
deployed stack owns them (``app.py`` looks them up, see ``stacks/deployed_keys.py``) and an
explicit ``-c access_key_serial=N`` (a rotation) must be told apart from a default. A stack that
does not exist yet starts at serial 1 (the dataclass default).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from runtime.catalog.admission import Admission, admit
from runtime.catalog.model import Catalog, is_region_name, load_catalog
from runtime.constants import DEFAULT_REGION, DEFAULT_STACK_NAME, ENV_CDK_DEFAULT_ACCOUNT, ENV_CDK_DEFAULT_REGION
from runtime.env import split_list
from runtime.errors import ConfigError, PortkeyBedrockError
from stacks.bedrock_policy import API_KEYS_MODES, API_KEYS_OFF, POLICY_MODE_LEAST_PRIVILEGE, POLICY_MODES
from stacks.context_values import invalid as _fail
from stacks.context_values import is_blank as _blank
from stacks.names import default_secret_name
from stacks.principals import parse_principals
from stacks.role_settings import ROLE_CONTEXT_KEYS, RoleSettings, parse_role_settings
from stacks.spend_settings import SPEND_CONTEXT_KEYS, SpendSettings, parse_spend

if TYPE_CHECKING:
    from collections.abc import Mapping

REPO_ROOT = Path(__file__).resolve().parents[1]  # the checkout: cdk.json, node_modules, .local/
CDK_JSON = os.path.join(REPO_ROOT, "cdk.json")

CTX_STACK_NAME = "stack_name"
CTX_USER_NAME = "user_name"
CTX_REGION = "region"
CTX_ACCOUNT = "account"
CTX_ALLOWED_MODELS = "allowed_models"
CTX_POLICY_MODE = "policy_mode"
CTX_SECRET_NAME = "secret_name"  # noqa: S105 (a context key, not a secret)
CTX_ACCESS_KEY_SERIAL = "access_key_serial"
CTX_RETAINED_ACCESS_KEY_SERIAL = "retained_access_key_serial"
CTX_KMS_PRINCIPALS = "kms_principals"
CTX_SOURCE_REGIONS = "source_regions"
CTX_API_KEYS = "api_keys"  # "short-term": the user may call Bedrock with short-term API keys
CTX_SECRET_READERS = "secret_readers"  # noqa: S105 (a context key): only these may GetSecretValue
CTX_ALLOW_WIDENING = "allow_widening"  # a deploy flag, not a setting: see stacks/deployed_config.py
CONTEXT_KEYS = (
    CTX_API_KEYS,
    CTX_STACK_NAME,
    CTX_USER_NAME,
    CTX_REGION,
    CTX_ACCOUNT,
    CTX_ALLOWED_MODELS,
    CTX_POLICY_MODE,
    CTX_SECRET_NAME,
    CTX_ACCESS_KEY_SERIAL,
    CTX_RETAINED_ACCESS_KEY_SERIAL,
    CTX_KMS_PRINCIPALS,
    CTX_SOURCE_REGIONS,
    CTX_SECRET_READERS,
    *ROLE_CONTEXT_KEYS,  # principal, role_trust, ... (stacks/role_settings.py)
    CTX_ALLOW_WIDENING,
    *SPEND_CONTEXT_KEYS,  # cost_tags, monthly_budget_usd, budget_notify, budget_action
)

_USER_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
_SECRET_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}")
_STACK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")
_ACCOUNT = re.compile(r"[0-9]{12}")  # [0-9], not \d: no Unicode digits


def cdk_json_context(path: str = CDK_JSON) -> dict[str, Any]:
    """The ``"context"`` object of cdk.json (the defaults when not run by the CDK CLI)."""
    with open(path, encoding="utf-8") as handle:
        context = json.load(handle).get("context", {})
    assert isinstance(context, dict)
    return context


class ContextSource(Protocol):
    """What `from_context` needs of a construct node: ``node.try_get_context``."""

    def try_get_context(self, key: str) -> Any: ...


def _text(key: str, value: object, pattern: re.Pattern[str], fix: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value.strip()):
        raise _fail(key, value, fix)
    return value.strip()


def parse_serial(key: str, value: object, *, optional: bool = False) -> int | None:
    """An access-key serial: a positive int (or its digits, as ``-c`` passes them).

    >>> parse_serial("access_key_serial", "2"), parse_serial("retained_access_key_serial", None, optional=True)
    (2, None)
    >>> parse_serial("access_key_serial", 0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    runtime.errors.ConfigError: context key access_key_serial=0 is invalid: use a positive integer...
    """
    if optional and _blank(value):
        return None
    if isinstance(value, bool):
        raise _fail(key, value, "use a positive integer such as 1")
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or value < 1:
        raise _fail(key, value, "use a positive integer such as 1")
    return value


def _models(value: object, region: str, catalog: Catalog, sources: tuple[str, ...] = ()) -> Admission:
    """The allowed models, as the runtime's ``PORTKEY_BEDROCK_ALLOWED_MODELS`` reads them (both are
    `runtime.catalog.admission.admit`): a comma list of names or aliases, or ``all`` (every model offered
    from `region` and every source region that has not reached end of life); missing means
    ``all``; empty or ``none`` is an error (it would allow nothing)."""
    try:
        return admit(value, (region, *sources), catalog=catalog, where=f"context key {CTX_ALLOWED_MODELS}")
    except ConfigError:
        raise
    except PortkeyBedrockError as err:
        raise ConfigError(str(err)) from None


def _source_regions(value: object, region: str, catalog: Catalog) -> tuple[str, ...]:
    """The ``source_regions`` context: a comma list (or JSON list) of region names; missing means
    the deploy region alone (``()``, see :attr:`StackConfig.policy_regions`). Whether each allowed
    model is offered there is checked by `runtime.catalog.admission.admit`, one line naming model and region.

    >>> _source_regions("us-east-1, us-west-2,us-east-1", "us-east-1", load_catalog())
    ('us-east-1', 'us-west-2')
    >>> _source_regions(None, "eu-west-1", load_catalog())
    ()
    """
    key = CTX_SOURCE_REGIONS
    try:
        items = split_list(value)
    except TypeError:
        raise _fail(key, value, "use a comma list of AWS regions such as us-east-1,us-west-2") from None
    if not items:
        return ()  # StackConfig.policy_regions: the deploy region
    for item in items:
        try:
            catalog.check_region(item)  # the catalog owns "is this a region": "unknown region us-east-7"
        except PortkeyBedrockError as err:
            raise ConfigError(f"context key {key}: {err}") from None
    return tuple(dict.fromkeys(items))


@dataclass(frozen=True)
class StackConfig:
    """Everything the stack is built from.

    >>> cfg = StackConfig.from_mapping({"allowed_models": "sonnet-4.5"}, environ={"CDK_DEFAULT_REGION": "eu-west-1"})
    >>> cfg.region, cfg.allowed_models, cfg.policy_mode, cfg.access_key_serial
    ('eu-west-1', ('claude-sonnet-4.5',), 'least-privilege', 1)
    """

    stack_name: str = DEFAULT_STACK_NAME
    user_name: str = "portkey-bedrock-access"
    region: str = DEFAULT_REGION
    account: str | None = None
    allowed_models: tuple[str, ...] = ()
    policy_mode: str = POLICY_MODE_LEAST_PRIVILEGE
    # unset: stacks.names.default_secret_name(user_name), so two stacks' secrets differ
    secret_name: str = "portkey/bedrock-access"  # noqa: S105 (the secret's name)
    access_key_serial: int = 1  # a new stack's; a deployed stack's serial comes from the stack itself
    retained_access_key_serial: int | None = None
    kms_principals: tuple[str, ...] = ()
    secret_readers: tuple[str, ...] = ()  # empty: no resource policy on the secret (stacks/principals.py)
    # where the key may call Bedrock from (quotas count per source region); empty: `region` only
    source_regions: tuple[str, ...] = ()
    api_keys: str = API_KEYS_OFF  # "short-term": bedrock:CallWithBearerToken for SHORT_TERM keys
    role: RoleSettings = field(default_factory=RoleSettings)  # principal=user|role|both and the invoke role's trust
    spend: SpendSettings = field(default_factory=SpendSettings)  # stacks/spend_settings.py
    # what `runtime.catalog.admission.admit` answered for allowed_models from `region` and every source
    # region (None: built by hand); the stack's policy and outputs use its offers as they are
    admission: Admission | None = field(default=None, compare=False, repr=False)

    @property
    def policy_regions(self) -> tuple[str, ...]:
        """The source regions the policy grants, the deploy region's first when it is listed.

        >>> StackConfig(region="us-east-1").policy_regions
        ('us-east-1',)
        """
        return self.source_regions or (self.region,)

    @classmethod
    def from_context(
        cls,
        node: ContextSource,
        *,
        environ: Mapping[str, str] | None = None,
        catalog: Catalog | None = None,
    ) -> StackConfig:
        """Read every key of :data:`CONTEXT_KEYS` from a construct node (``app.node``)."""
        context = {key: node.try_get_context(key) for key in CONTEXT_KEYS}
        return cls.from_mapping(context, environ=environ, catalog=catalog)

    @classmethod
    def from_mapping(
        cls,
        context: Mapping[str, Any],
        *,
        environ: Mapping[str, str] | None = None,
        catalog: Catalog | None = None,
    ) -> StackConfig:
        """Validate plain context values; a missing or null key takes the dataclass default
        (the same as cdk.json's), the region and account the CLI environment."""
        env = os.environ if environ is None else environ
        catalog = catalog or load_catalog()
        ctx = {key: value for key, value in context.items() if not _blank(value)}
        if context.get(CTX_ALLOWED_MODELS) is not None:
            ctx[CTX_ALLOWED_MODELS] = context[CTX_ALLOWED_MODELS]  # "" / "none" are errors there
        defaults = cls()

        region_value = ctx.get(CTX_REGION) or env.get(ENV_CDK_DEFAULT_REGION) or catalog.default_region
        if not isinstance(region_value, str) or not is_region_name(region_value.strip()):
            raise _fail(CTX_REGION, region_value, "use an AWS region name such as us-east-1")
        region = region_value.strip()
        try:
            catalog.check_region(region)
        except PortkeyBedrockError as err:
            raise ConfigError(f"context key {CTX_REGION}: {err}") from None

        account_value = ctx.get(CTX_ACCOUNT) or env.get(ENV_CDK_DEFAULT_ACCOUNT) or None
        if isinstance(account_value, int) and not isinstance(account_value, bool):
            account_value = f"{account_value:012d}"
        if account_value is not None and (
            not isinstance(account_value, str) or not _ACCOUNT.fullmatch(account_value.strip())
        ):
            raise _fail(CTX_ACCOUNT, account_value, "use a 12-digit AWS account id, or leave it unset")
        account = account_value.strip() if isinstance(account_value, str) else None

        api_keys = ctx.get(CTX_API_KEYS, defaults.api_keys)
        if api_keys not in API_KEYS_MODES:
            raise _fail(CTX_API_KEYS, api_keys, f"use one of: {', '.join(API_KEYS_MODES)}")

        mode = ctx.get(CTX_POLICY_MODE, defaults.policy_mode)
        if mode not in POLICY_MODES:
            raise _fail(CTX_POLICY_MODE, mode, f"use one of: {', '.join(POLICY_MODES)}")

        serial = parse_serial(CTX_ACCESS_KEY_SERIAL, ctx.get(CTX_ACCESS_KEY_SERIAL, defaults.access_key_serial))
        assert serial is not None
        retained = parse_serial(CTX_RETAINED_ACCESS_KEY_SERIAL, ctx.get(CTX_RETAINED_ACCESS_KEY_SERIAL), optional=True)
        if retained == serial:
            raise _fail(
                CTX_RETAINED_ACCESS_KEY_SERIAL,
                retained,
                f"the retained key must differ from {CTX_ACCESS_KEY_SERIAL}={serial}; unset it",
            )

        principals = parse_principals(CTX_KMS_PRINCIPALS, ctx.get(CTX_KMS_PRINCIPALS))

        sources = _source_regions(ctx.get(CTX_SOURCE_REGIONS), region, catalog)
        admission = _models(ctx.get(CTX_ALLOWED_MODELS), region, catalog, sources)
        user_name = _text(
            CTX_USER_NAME,
            ctx.get(CTX_USER_NAME, defaults.user_name),
            _USER_NAME,
            "use 1-64 characters of letters, digits and +=,.@_-",
        )
        return cls(
            stack_name=_text(
                CTX_STACK_NAME,
                ctx.get(CTX_STACK_NAME, defaults.stack_name),
                _STACK_NAME,
                "use letters, digits and hyphens, starting with a letter",
            ),
            user_name=user_name,
            region=region,
            account=account,
            allowed_models=admission.names,
            policy_mode=mode,
            secret_name=_text(
                CTX_SECRET_NAME,
                ctx.get(CTX_SECRET_NAME) or default_secret_name(user_name),
                _SECRET_NAME,
                "use letters, digits and /_+=.@-",
            ),
            access_key_serial=serial,
            retained_access_key_serial=retained,
            kms_principals=principals,
            secret_readers=parse_principals(CTX_SECRET_READERS, ctx.get(CTX_SECRET_READERS)),
            source_regions=sources,
            api_keys=api_keys,
            role=parse_role_settings(context),
            spend=parse_spend(ctx),
            admission=admission,
        )

    def admitted(self, catalog: Catalog | None = None) -> Admission:
        """The admission of the allowed models from every policy region (and the deploy region)."""
        regions = (self.region, *self.source_regions)
        known = self.admission
        if known is not None and known.names == self.allowed_models and set(regions) <= set(known.regions):
            return known  # what from_mapping admitted (a dataclasses.replace of the fields is re-admitted)
        return admit(self.allowed_models, regions, catalog=catalog)

    def model_ids(self, catalog: Catalog | None = None) -> list[str]:
        """The inference-profile ids the allowed models are called with from this region."""
        admission = self.admitted(catalog)
        return [admission.offer(name, self.region).invoke_id for name in admission.names]
