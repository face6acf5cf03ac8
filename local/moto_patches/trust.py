"""``sts:AssumeRole`` as AWS decides it: moto hands out a session for any role to anyone (its
docstring: "the role does not need to exist"), so local AWS would prove nothing about ``role_trust``.

:func:`fix_assume_role_trust` makes moto's STS check, for a role that exists in moto's IAM:

* the role's trust policy (``AssumeRolePolicyDocument``): an ``Allow`` statement for
  ``sts:AssumeRole`` whose ``Principal.AWS`` names the caller (a user ARN, a role ARN for the
  role's sessions, or the caller's account root / account id), with its conditions holding
  (``sts:ExternalId``, ``aws:PrincipalArn``, ``aws:PrincipalAccount``; evaluated by the double's
  IAM evaluator, so an unknown operator denies); otherwise ``AccessDenied`` with AWS's words;
* ``DurationSeconds`` against the role's ``MaxSessionDuration`` (``ValidationError``).

A caller whose key moto's IAM does not know (the throwaway key local tools use) counts as the
account root, so the CDK CLI still assumes the bootstrap roles (they trust the account root).
Roles moto does not know keep moto's behaviour. Service and web-identity principals never match
a key-signed call, with one local-only exception: the account root may act as an AWS service that
a role trusts by naming its session ``SERVICE_SESSION_PREFIX + <service principal>`` (e.g.
``aws-service:budgets.amazonaws.com``), so a test can do what that service does (AWS Budgets
assuming a budget action's execution role) through the role's own permissions. No IAM user or
role session can. Not modelled: the caller's own identity policy (``sts:AssumeRole`` allowed?),
SCPs, session policies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from local.bedrock_double.iam import condition_holds, wildcard_match
from local.bedrock_double.stores import DEFAULT_ACCOUNT, parse_document

SERVICE_SESSION_PREFIX = "aws-service:"  # local AWS only: the account root acting as a service principal
MAX_DURATION_MESSAGE = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
_patched = False


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [] if value is None else [value]


def names_caller(principal: str, caller_arn: str) -> bool:
    """Whether one ``Principal.AWS`` value names the caller (user/role ARN, account root or id).

    >>> names_caller("arn:aws:iam::111122223333:role/app", "arn:aws:iam::111122223333:role/app")
    True
    >>> names_caller("111122223333", "arn:aws:iam::111122223333:user/u"), names_caller("*", "arn:x")
    (True, False)
    """
    account = caller_arn.split(":")[4] if caller_arn.count(":") >= 5 else ""
    if principal in (f"arn:aws:iam::{account}:root", account):
        return bool(account)
    return principal == caller_arn  # "*" is never honoured here: the stack must not need it


def acting_service(caller_arn: str, session_name: str | None) -> str | None:
    """The service principal the account root acts as (local AWS only), else None.

    >>> acting_service("arn:aws:iam::1:root", "aws-service:budgets.amazonaws.com")
    'budgets.amazonaws.com'
    >>> acting_service("arn:aws:iam::1:user/u", "aws-service:budgets.amazonaws.com")  # a user: never
    >>> acting_service("arn:aws:iam::1:root", "s")  # a plain session name: never
    """
    if not caller_arn.endswith(":root") or not session_name or not session_name.startswith(SERVICE_SESSION_PREFIX):
        return None
    return session_name[len(SERVICE_SESSION_PREFIX) :] or None


def trust_allows(
    document: Mapping[str, Any], caller_arn: str, context: Mapping[str, Any], service: str | None = None
) -> bool:
    """Whether a trust policy lets `caller_arn` (or, locally, the root acting as `service`) call
    ``sts:AssumeRole`` (an explicit Deny wins).

    >>> doc = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
    ...        "Principal": {"AWS": "arn:aws:iam::1:role/app"},
    ...        "Condition": {"StringEquals": {"sts:ExternalId": "x1"}}}]}
    >>> trust_allows(doc, "arn:aws:iam::1:role/app", {"sts:ExternalId": "x1"})
    True
    >>> trust_allows(doc, "arn:aws:iam::1:role/app", {}), trust_allows(doc, "arn:aws:iam::1:role/other", {})
    (False, False)
    >>> budgets = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
    ...            "Principal": {"Service": "budgets.amazonaws.com"}}]}
    >>> trust_allows(budgets, "arn:aws:iam::1:root", {}, service="budgets.amazonaws.com")
    True
    >>> trust_allows(budgets, "arn:aws:iam::1:root", {})
    False
    >>> trust_allows(budgets, "arn:aws:iam::1:root", {}, "ec2.amazonaws.com")
    False
    """
    allowed = False
    for statement in _list(document.get("Statement")):
        if not any(wildcard_match(a, "sts:AssumeRole", case_sensitive=False) for a in _list(statement.get("Action"))):
            continue
        principal = statement.get("Principal")
        aws = _list(principal.get("AWS")) if isinstance(principal, Mapping) else []
        services = _list(principal.get("Service")) if isinstance(principal, Mapping) else []
        named = any(isinstance(p, str) and names_caller(p, caller_arn) for p in aws)
        if not named and not (service is not None and service in services):
            continue
        held = True
        for operator, pairs in dict(statement.get("Condition") or {}).items():
            for key, expected in dict(pairs).items():
                if condition_holds(operator, key, expected, context) is not True:
                    held = False
        if not held:
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def caller_arn_of(access_key_id: str, account: str) -> str:
    """The caller's principal ARN: the IAM user owning the key, the role of an STS session key,
    else the account root (a key moto's IAM does not know)."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    for account_id in list(iam_backends.keys()):
        user = iam_backends[account_id]["global"].get_user_from_access_key_id(access_key_id)
        if user is not None:
            return str(user.arn)
    for account_id in list(sts_backends.keys()):
        for backend in list(sts_backends[account_id].values()):
            session = backend.get_assumed_role_from_access_key(access_key_id)
            if session is not None:
                return str(session.role_arn)
    return f"arn:aws:iam::{account}:root"


def _role(role_arn: str) -> Any | None:
    from moto.iam.models import iam_backends

    parts = role_arn.split(":")
    account = parts[4] if len(parts) > 5 else DEFAULT_ACCOUNT
    if account not in iam_backends:
        return None
    try:
        return iam_backends[account]["global"].get_role_by_arn(role_arn)
    except Exception:  # moto raises its own IAMNotFoundException
        return None


def check_assume_role(
    role_arn: str,
    access_key_id: str,
    account: str,
    external_id: str | None,
    duration: int,
    session_name: str | None = None,
) -> None:
    """Raise moto's STS errors when AWS would refuse this AssumeRole (see the module docstring)."""
    from moto.sts.exceptions import STSClientError, STSValidationError

    role = _role(role_arn)
    if role is None:
        return
    caller = caller_arn_of(access_key_id, account)
    context: dict[str, Any] = {"aws:PrincipalArn": caller, "aws:PrincipalAccount": caller.split(":")[4]}
    if external_id:
        context["sts:ExternalId"] = external_id
    service = acting_service(caller, session_name)
    if service is not None:  # a service acts for this account: what it puts in aws:SourceAccount
        context["aws:SourceAccount"] = caller.split(":")[4]
    if not trust_allows(parse_document(role.assume_role_policy_document), caller, context, service):
        raise STSClientError(
            "AccessDenied", f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
        )
    if duration > int(role.max_session_duration or 3600):
        raise STSValidationError(MAX_DURATION_MESSAGE)


def fix_assume_role_trust() -> None:
    """Make moto's STS AssumeRole honour trust policies and MaxSessionDuration; idempotent."""
    global _patched
    if _patched:
        return
    from moto.sts.responses import TokenResponse

    original = TokenResponse.assume_role

    def assume_role(self: Any) -> Any:
        check_assume_role(
            self._get_param("RoleArn"),
            self.get_access_key(),
            self.current_account,
            self._get_param("ExternalId"),
            self._get_int_param("DurationSeconds", 3600),
            self._get_param("RoleSessionName"),
        )
        return original(self)

    setattr(TokenResponse, "assume_role", assume_role)  # noqa: B010 (patching moto)
    _patched = True
