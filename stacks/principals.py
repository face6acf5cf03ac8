"""Context settings that name IAM principals: ``kms_principals`` (who may use the KMS key as a SOPS
recipient) and ``secret_readers`` (who alone may read the secret). One parser, one ARN rule."""

from __future__ import annotations

import re

from runtime.env import split_list
from stacks.context_values import invalid

# ASCII only, [0-9] digits: IAM names are ASCII and a Unicode digit is never an account id.
PRINCIPAL_ARN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:(root|(user|role)/[\w+=,.@/-]+)", re.ASCII)
PRINCIPAL_FIX = "use IAM ARNs such as arn:aws:iam::111122223333:role/name or ...:root"


def parse_principals(key: str, value: object) -> tuple[str, ...]:
    """A comma string or JSON list of IAM user/role/root ARNs, deduplicated in order; None or
    empty is ``()``.

    >>> parse_principals("secret_readers", "arn:aws:iam::111122223333:role/ci, arn:aws:iam::111122223333:role/ci")
    ('arn:aws:iam::111122223333:role/ci',)
    >>> parse_principals("secret_readers", "arn:aws:iam::*:root")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    runtime.errors.ConfigError: context key secret_readers='arn:aws:iam::*:root' is invalid: use IAM ARNs...
    """
    try:
        arns = split_list(value) or []
    except TypeError:
        raise invalid(key, value, "use a list of IAM ARNs") from None
    for arn in arns:
        if not PRINCIPAL_ARN.fullmatch(arn):
            raise invalid(key, arn, PRINCIPAL_FIX)
    return tuple(dict.fromkeys(arns))


def account_of(arn: str) -> str:
    """The account id of an IAM ARN.

    >>> account_of("arn:aws:iam::111122223333:role/ci")
    '111122223333'
    """
    return arn.split(":")[4]


def foreign_principals_warning(key: str, arns: tuple[str, ...], account: str | None) -> str | None:
    """One line naming the principals of `arns` in another account than the stack's (None when
    there are none, or the stack's account is not known at synth).

    >>> print(foreign_principals_warning("kms_principals", ("arn:aws:iam::999999999999:role/x",), "111122223333"))
    ... # doctest: +NORMALIZE_WHITESPACE
    warning: kms_principals names 1 principal(s) of another account than the stack's 111122223333:
    arn:aws:iam::999999999999:role/x; they can use the KMS key from their account (intended?)
    >>> foreign_principals_warning("kms_principals", ("arn:aws:iam::111122223333:root",), "111122223333") is None
    True
    """
    if not account or not account.isdigit():
        return None
    foreign = [arn for arn in arns if account_of(arn) != account]
    if not foreign:
        return None
    return (
        f"warning: {key} names {len(foreign)} principal(s) of another account than the stack's {account}: "
        f"{', '.join(foreign)}; they can use the KMS key from their account (intended?)"
    )
