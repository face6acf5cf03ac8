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


def test_bad_role_context_fails_synth_with_one_line(tmp_path, capsys):
    from stacks.synth import main

    code = main(["-c", "principal=role", "-c", "role_trust=*", "-o", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("error: context key role_trust='*' is invalid: a wildcard principal")


def test_a_wildcard_added_to_the_trust_fails_synthesis():
    """The construct's validation (every synth, cdk deploy included) refuses what role_settings would."""
    from aws_cdk import App, Stack
    from aws_cdk import aws_iam as iam

    from stacks.constructs.invoke_role import InvokeRole

    app = App()
    stack = Stack(app, "T")
    settings = parse_role_settings({"principal": "role", "role_trust": ROLE})
    role = InvokeRole(stack, "R", settings=settings, account="111122223333").role
    app.synth()  # clean
    app = App()
    stack = Stack(app, "T")
    role = InvokeRole(stack, "R", settings=settings, account="111122223333").role
    role.assume_role_policy.add_statements(
        iam.PolicyStatement(actions=["sts:AssumeRole"], principals=[iam.AnyPrincipal()])
    )
    with pytest.raises(RuntimeError, match="trusts a wildcard principal"):
        app.synth()
