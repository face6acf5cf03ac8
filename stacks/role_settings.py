"""The invoke role's settings: who the stack's principal is, and who may assume the role.

``principal`` is ``user`` (the seed's IAM user and access key, the default), ``role`` (an IAM role
and no user, no access key, no secret) or ``both``. ``role_trust`` is a comma list; each item is

* an IAM role/user ARN or an account root (this or another account): ``sts:AssumeRole``, with
  ``sts:ExternalId`` when ``role_external_id`` is set;
* ``ecs-tasks.amazonaws.com``, ``lambda.amazonaws.com`` or ``ec2.amazonaws.com``: ``sts:AssumeRole``
  with ``aws:SourceAccount`` pinned to the stack's account (the confused-deputy guard);
* a GitHub Actions OIDC subject ``repo:ORG/REPO:ref:refs/heads/BRANCH`` (or ``:environment:NAME``,
  ``:pull_request``, ``:ref:refs/tags/TAG``): ``sts:AssumeRoleWithWebIdentity`` from the
  provider that ``github_oidc_provider`` creates (``create``) or names (its ARN), with the
  token's ``aud`` pinned to ``sts.amazonaws.com`` and its ``sub`` to exactly this subject.

A wildcard is refused everywhere: there is no ``*`` principal and no ``*`` in a subject.

Sources for the service pins: AWS's Lambda guide ("you can include the aws:SourceAccount and
aws:SourceArn global condition context keys in your role trust policy",
https://docs.aws.amazon.com/lambda/latest/dg/permissions-managed-policies.html) and ECS's task-role
trust example with ``aws:SourceAccount``. For ``ec2.amazonaws.com`` no AWS page seen here says EC2
sends ``aws:SourceAccount`` when it assumes an instance role (a scanner's tracker reports it as a
false positive there, https://github.com/prowler-cloud/prowler/issues/2810): the pin follows the
issue's requirement; check an instance profile once before relying on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runtime.env import split_list
from stacks.context_values import invalid as _fail
from stacks.context_values import is_blank as _blank

if TYPE_CHECKING:
    from collections.abc import Mapping

CTX_PRINCIPAL = "principal"
CTX_ROLE_NAME = "role_name"
CTX_ROLE_TRUST = "role_trust"
CTX_ROLE_EXTERNAL_ID = "role_external_id"
CTX_MAXIMUM_SESSION_DURATION = "maximum_session_duration"
CTX_GITHUB_OIDC_PROVIDER = "github_oidc_provider"
ROLE_CONTEXT_KEYS = (
    CTX_PRINCIPAL,
    CTX_ROLE_NAME,
    CTX_ROLE_TRUST,
    CTX_ROLE_EXTERNAL_ID,
    CTX_MAXIMUM_SESSION_DURATION,
    CTX_GITHUB_OIDC_PROVIDER,
)

PRINCIPAL_USER = "user"
PRINCIPAL_ROLE = "role"
PRINCIPAL_BOTH = "both"
PRINCIPALS = (PRINCIPAL_USER, PRINCIPAL_ROLE, PRINCIPAL_BOTH)

TRUST_ARN = "arn"
TRUST_SERVICE = "service"
TRUST_GITHUB = "github"
SERVICE_PRINCIPALS = ("ecs-tasks.amazonaws.com", "lambda.amazonaws.com", "ec2.amazonaws.com")
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"
OIDC_CREATE = "create"
# IAM's MaxSessionDuration range (seconds)
MIN_SESSION_SECONDS = 3600
MAX_SESSION_SECONDS = 43200

_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")
_TRUSTED_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:(root|(user|role)/[\w+=,.@/-]+)")
_GITHUB_SUBJECT = re.compile(
    r"repo:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+:"
    r"(ref:refs/(heads|tags)/[A-Za-z0-9_./-]+|environment:[A-Za-z0-9_.-]+|pull_request)"
)
_OIDC_PROVIDER_ARN = re.compile(rf"arn:aws[a-z-]*:iam::\d{{12}}:oidc-provider/{re.escape(GITHUB_OIDC_HOST)}")
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}")


@dataclass(frozen=True)
class TrustEntry:
    """One item of ``role_trust``: its kind (``arn`` / ``service`` / ``github``) and value."""

    kind: str
    value: str


@dataclass(frozen=True)
class RoleSettings:
    """The parsed role settings (the defaults are cdk.json's).

    >>> RoleSettings().has_user, RoleSettings().has_role
    (True, False)
    """

    principal: str = PRINCIPAL_USER
    role_name: str = "portkey-bedrock-invoke"
    trust: tuple[TrustEntry, ...] = ()
    external_id: str | None = None
    maximum_session_duration: int = MIN_SESSION_SECONDS
    github_oidc_provider: str | None = None  # "create" or the provider's ARN

    @property
    def has_user(self) -> bool:
        return self.principal in (PRINCIPAL_USER, PRINCIPAL_BOTH)

    @property
    def has_role(self) -> bool:
        return self.principal in (PRINCIPAL_ROLE, PRINCIPAL_BOTH)


def parse_trust_entry(item: str) -> TrustEntry:
    """Classify one ``role_trust`` item; anything else (a wildcard above all) is a ConfigError.

    >>> parse_trust_entry("arn:aws:iam::111122223333:role/app")
    TrustEntry(kind='arn', value='arn:aws:iam::111122223333:role/app')
    >>> parse_trust_entry("lambda.amazonaws.com").kind, parse_trust_entry("repo:acme/app:ref:refs/heads/main").kind
    ('service', 'github')
    >>> parse_trust_entry("arn:aws:iam::111122223333:role/*")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    runtime.errors.ConfigError: context key role_trust='arn:aws:iam::111122223333:role/*' is invalid: a wildcard...
    """
    if "*" in item or "?" in item:
        raise _fail(CTX_ROLE_TRUST, item, "a wildcard principal or subject is never trusted; name it exactly")
    if _TRUSTED_ARN.fullmatch(item):
        return TrustEntry(TRUST_ARN, item)
    if item in SERVICE_PRINCIPALS:
        return TrustEntry(TRUST_SERVICE, item)
    if _GITHUB_SUBJECT.fullmatch(item):
        return TrustEntry(TRUST_GITHUB, item)
    raise _fail(
        CTX_ROLE_TRUST,
        item,
        "use IAM role/user ARNs (arn:aws:iam::111122223333:role/app), "
        f"{', '.join(SERVICE_PRINCIPALS)}, or a GitHub OIDC subject repo:ORG/REPO:ref:refs/heads/main",
    )


def _duration(value: object) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_SESSION_SECONDS <= value <= MAX_SESSION_SECONDS:
        raise _fail(
            CTX_MAXIMUM_SESSION_DURATION,
            value,
            f"use seconds from {MIN_SESSION_SECONDS} to {MAX_SESSION_SECONDS} (IAM's MaxSessionDuration range)",
        )
    return value


def parse_role_settings(context: Mapping[str, Any]) -> RoleSettings:
    """Validate the role keys of a context mapping (missing/null keys take the defaults).

    >>> s = parse_role_settings({"principal": "role", "role_trust": "arn:aws:iam::111122223333:role/app",
    ...                          "maximum_session_duration": "7200"})
    >>> s.principal, s.trust[0].kind, s.maximum_session_duration, s.has_user
    ('role', 'arn', 7200, False)
    >>> parse_role_settings({"principal": "role"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    runtime.errors.ConfigError: context key role_trust=None is invalid: principal=role needs at least one...
    """
    defaults = RoleSettings()
    ctx = {key: context.get(key) for key in ROLE_CONTEXT_KEYS if not _blank(context.get(key))}
    principal = ctx.get(CTX_PRINCIPAL, defaults.principal)
    if principal not in PRINCIPALS:
        raise _fail(CTX_PRINCIPAL, principal, f"use one of: {', '.join(PRINCIPALS)}")
    name = ctx.get(CTX_ROLE_NAME, defaults.role_name)
    if not isinstance(name, str) or not _ROLE_NAME.fullmatch(name.strip()):
        raise _fail(CTX_ROLE_NAME, name, "use 1-64 characters of letters, digits and +=,.@_-")
    duration = _duration(ctx.get(CTX_MAXIMUM_SESSION_DURATION, defaults.maximum_session_duration))

    raw = context.get(CTX_ROLE_TRUST)
    try:  # a JSON list may hold account ids as numbers
        items = split_list([str(item) for item in raw] if isinstance(raw, list | tuple) else raw) or []
    except TypeError:
        raise _fail(
            CTX_ROLE_TRUST, raw, "use a comma list of ARNs, service principals or GitHub OIDC subjects"
        ) from None
    entries = [parse_trust_entry(item) for item in items]
    trust = tuple(dict.fromkeys(entries))
    if principal != PRINCIPAL_USER and not trust:
        raise _fail(
            CTX_ROLE_TRUST,
            raw,
            f"principal={principal} needs at least one trusted principal, "
            "e.g. -c role_trust=arn:aws:iam::111122223333:role/app",
        )

    provider = ctx.get(CTX_GITHUB_OIDC_PROVIDER)
    if provider is not None and provider != OIDC_CREATE and not _OIDC_PROVIDER_ARN.fullmatch(str(provider)):
        raise _fail(
            CTX_GITHUB_OIDC_PROVIDER,
            provider,
            f"use {OIDC_CREATE!r} or the ARN arn:aws:iam::ACCOUNT:oidc-provider/{GITHUB_OIDC_HOST}",
        )
    if any(entry.kind == TRUST_GITHUB for entry in trust) and provider is None:
        raise _fail(
            CTX_GITHUB_OIDC_PROVIDER,
            None,
            f"a GitHub OIDC subject in role_trust needs the provider: -c {CTX_GITHUB_OIDC_PROVIDER}={OIDC_CREATE} "
            "or its ARN",
        )

    external_id = ctx.get(CTX_ROLE_EXTERNAL_ID)
    if external_id is not None and (not isinstance(external_id, str) or not _EXTERNAL_ID.fullmatch(external_id)):
        raise _fail(CTX_ROLE_EXTERNAL_ID, "…", "use 2-1224 characters of letters, digits and +=,.@:/-")
    return RoleSettings(
        principal=principal,
        role_name=name.strip(),
        trust=trust,
        external_id=external_id,
        maximum_session_duration=duration,
        github_oidc_provider=provider,
    )
