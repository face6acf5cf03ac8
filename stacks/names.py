"""Names and descriptions derived from a stack's settings, so two stacks (different ``stack_name``
and ``user_name``) live side by side in one account and Region: nothing account-wide is fixed.

The defaults of one stack stay what they always were (``alias/portkey-bedrock-access``,
``portkey/bedrock-access``).
"""

from __future__ import annotations

import re

# KMS alias names: alias/ + letters, digits, / _ - (https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html)
_NOT_IN_ALIAS = re.compile(r"[^A-Za-z0-9/_-]")
SECRET_PREFIX = "portkey/"  # noqa: S105 (a name prefix, not a secret)


def kms_alias(user_name: str) -> str:
    """The KMS alias of a stack's key: one per IAM user name (which is unique in the account);
    characters an alias may not hold become ``-``.

    >>> kms_alias("portkey-bedrock-access"), kms_alias("team.a@example")
    ('alias/portkey-bedrock-access', 'alias/team-a-example')
    """
    return "alias/" + _NOT_IN_ALIAS.sub("-", user_name)


def default_secret_name(user_name: str) -> str:
    """The secret's name when ``secret_name`` is not set: ``portkey/`` + the user name (without a
    leading ``portkey-``).

    >>> default_secret_name("portkey-bedrock-access"), default_secret_name("team-a")
    ('portkey/bedrock-access', 'portkey/team-a')
    """
    return SECRET_PREFIX + user_name.removeprefix("portkey-")


def stack_description(stack_name: str, user_name: str) -> str:
    """The CloudFormation stack's description.

    >>> stack_description("PortkeyBedrockAccess", "portkey-bedrock-access")  # doctest: +ELLIPSIS
    'IAM user portkey-bedrock-access, least-privilege Bedrock invoke policy and encrypted access key ...'
    """
    return (
        f"IAM user {user_name}, least-privilege Bedrock invoke policy and encrypted access key "
        f"for the Portkey gateway (portkey-bedrock-access stack {stack_name})"
    )


def key_description(user_name: str, secret_name: str) -> str:
    """The KMS key's description.

    >>> key_description("team-a", "portkey/team-a")
    'Encrypts the secret portkey/team-a of IAM user team-a; usable as a SOPS recipient'
    """
    return f"Encrypts the secret {secret_name} of IAM user {user_name}; usable as a SOPS recipient"


def secret_description(user_name: str) -> str:
    """The secret's description.

    >>> secret_description("team-a")
    'Access key of IAM user team-a (flat env JSON)'
    """
    return f"Access key of IAM user {user_name} (flat env JSON)"


def policy_description(user_name: str) -> str:
    """The invoke policies' description.

    >>> policy_description("team-a")
    "IAM user team-a may invoke the catalog's Bedrock models through their inference profiles only"
    """
    return f"IAM user {user_name} may invoke the catalog's Bedrock models through their inference profiles only"
