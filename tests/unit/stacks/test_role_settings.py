"""stacks/role_settings.py: principal / role_trust / external id / session duration parsing."""

from __future__ import annotations

import pytest

from runtime.errors import ConfigError
from stacks.config import CONTEXT_KEYS, StackConfig, cdk_json_context
from stacks.role_settings import ROLE_CONTEXT_KEYS, TRUST_ARN, TRUST_GITHUB, TRUST_SERVICE, parse_role_settings

ROLE = "arn:aws:iam::111122223333:role/app"


def test_default_is_the_seeds_user_without_a_role():
    settings = StackConfig.from_mapping({}, environ={}).role
    assert (settings.principal, settings.has_user, settings.has_role, settings.trust) == ("user", True, False, ())


def test_every_role_key_is_a_context_key_with_a_cdk_json_default():
    assert set(ROLE_CONTEXT_KEYS) <= set(CONTEXT_KEYS)
    assert set(ROLE_CONTEXT_KEYS) <= set(cdk_json_context())
    assert cdk_json_context()["principal"] == "user"


def test_trust_kinds_are_told_apart_and_deduplicated():
    settings = parse_role_settings(
        {
            "principal": "both",
            "role_trust": f"{ROLE}, lambda.amazonaws.com,{ROLE},repo:acme/app:ref:refs/heads/main",
            "github_oidc_provider": "create",
        }
    )
    assert [(e.kind, e.value) for e in settings.trust] == [
        (TRUST_ARN, ROLE),
        (TRUST_SERVICE, "lambda.amazonaws.com"),
        (TRUST_GITHUB, "repo:acme/app:ref:refs/heads/main"),
    ]
    assert settings.has_user and settings.has_role


def test_a_referenced_oidc_provider_arn_is_accepted():
    arn = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
    settings = parse_role_settings(
        {"principal": "role", "role_trust": "repo:acme/app:environment:prod", "github_oidc_provider": arn}
    )
    assert settings.github_oidc_provider == arn


@pytest.mark.parametrize(
    ("context", "words"),
    [
        ({"principal": "role"}, "needs at least one trusted principal"),
        ({"principal": "role", "role_trust": ""}, "needs at least one trusted principal"),
        ({"principal": "role", "role_trust": " , "}, "needs at least one trusted principal"),
        ({"principal": "role", "role_trust": "*"}, "wildcard"),
        ({"principal": "role", "role_trust": "arn:aws:iam::111122223333:*"}, "wildcard"),
        ({"principal": "role", "role_trust": "repo:acme/*:ref:refs/heads/main"}, "wildcard"),
        ({"principal": "role", "role_trust": "arn:aws:iam::1234:role/x"}, "use IAM role/user ARNs"),
        ({"principal": "role", "role_trust": "s3.amazonaws.com"}, "use IAM role/user ARNs"),
        ({"principal": "role", "role_trust": "repo:acme/app:ref:refs/heads/main"}, "needs the provider"),
        ({"principal": "role", "role_trust": ROLE, "github_oidc_provider": "arn:aws:iam::1:x"}, "github_oidc_provider"),
        ({"principal": "role", "role_trust": ROLE, "maximum_session_duration": "43201"}, "3600 to 43200"),
        ({"principal": "role", "role_trust": ROLE, "maximum_session_duration": "900"}, "3600 to 43200"),
        ({"principal": "role", "role_trust": ROLE, "maximum_session_duration": "1h"}, "3600 to 43200"),
        ({"principal": "robot"}, "use one of: user, role, both"),
        ({"principal": "role", "role_trust": ROLE, "role_name": "a b"}, "role_name"),
    ],
)
def test_bad_input_is_one_line_naming_the_key(context, words):
    with pytest.raises(ConfigError) as err:
        StackConfig.from_mapping(context, environ={})
    message = str(err.value)
    assert words in message and "\n" not in message and message.startswith("context key ")


def test_the_external_id_never_shows_in_its_error():
    with pytest.raises(ConfigError) as err:
        parse_role_settings({"principal": "role", "role_trust": ROLE, "role_external_id": "x y secretish"})
    assert "secretish" not in str(err.value)
