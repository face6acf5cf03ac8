"""The invoke role in the session's synthesized app (variants RoleOnly and Both of conftest)."""

from __future__ import annotations

from runtime.constants import OUTPUT_ROLE_ARN, OUTPUT_SECRET_ARN, OUTPUT_USER_ARN
from stacks.checks.trust import trust_problems


def _of_type(template, kind):
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def _trust(template):
    (role,) = _of_type(template, "AWS::IAM::Role").values()
    return role["Properties"]


def test_default_stack_has_no_role(default_template):
    assert _of_type(default_template, "AWS::IAM::Role") == {}
    assert OUTPUT_ROLE_ARN not in default_template["Outputs"]


def test_role_only_has_no_user_no_access_key_no_secret(synthesized):
    template = synthesized.templates["RoleOnly"]
    for kind in ("AWS::IAM::User", "AWS::IAM::AccessKey", "AWS::SecretsManager::Secret"):
        assert _of_type(template, kind) == {}
    assert OUTPUT_ROLE_ARN in template["Outputs"]
    assert OUTPUT_USER_ARN not in template["Outputs"] and OUTPUT_SECRET_ARN not in template["Outputs"]


def test_role_gets_exactly_the_users_managed_policies(synthesized, default_template):
    """One builder: the role's policies carry the same statements the default user's do."""
    both = synthesized.templates["Both"]
    (role_id,) = _of_type(both, "AWS::IAM::Role")
    policies = _of_type(both, "AWS::IAM::ManagedPolicy").values()
    assert policies and all(p["Properties"]["Roles"] == [{"Ref": role_id}] for p in policies)
    assert all(len(p["Properties"]["Users"]) == 1 for p in policies)
    user_statements = [
        p["Properties"]["PolicyDocument"] for p in _of_type(default_template, "AWS::IAM::ManagedPolicy").values()
    ]
    assert [p["Properties"]["PolicyDocument"] for p in policies] == user_statements


def test_trust_statements_per_kind(synthesized):
    props = _trust(synthesized.templates["RoleOnly"])
    statements = props["AssumeRolePolicyDocument"]["Statement"]
    assert props["RoleName"] == "portkey-bedrock-invoke" and props["MaxSessionDuration"] == 7200
    by_action = [(s["Action"], s["Principal"], s.get("Condition")) for s in statements]
    assert by_action[0] == (
        "sts:AssumeRole",
        {"AWS": "arn:aws:iam::111122223333:role/app"},
        {"StringEquals": {"sts:ExternalId": "portkey-ext-1"}},
    )
    assert by_action[1][1] == {"Service": "ecs-tasks.amazonaws.com"}
    assert by_action[1][2] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    action, principal, condition = by_action[2]
    assert action == "sts:AssumeRoleWithWebIdentity" and "Ref" in principal["Federated"]
    assert condition == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": "repo:acme/app:ref:refs/heads/main",
        }
    }
    (provider,) = _of_type(synthesized.templates["RoleOnly"], "AWS::IAM::OIDCProvider").values()
    assert provider["Properties"]["Url"] == "https://token.actions.githubusercontent.com"


def test_synthesized_trust_is_clean_and_the_checker_can_fail(synthesized):
    for name in ("RoleOnly", "Both"):
        assert trust_problems(synthesized.templates[name]) == []
    bad = {
        "Resources": {
            "R": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Statement": [
                            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": "*"},
                            {
                                "Effect": "Allow",
                                "Action": "sts:AssumeRole",
                                "Principal": {"Service": "lambda.amazonaws.com"},
                            },
                            {
                                "Effect": "Allow",
                                "Action": "sts:AssumeRoleWithWebIdentity",
                                "Principal": {"Federated": "x"},
                            },
                        ]
                    }
                },
            }
        }
    }
    assert trust_problems(bad) == [
        "role R trusts a wildcard principal",
        "role R trusts ['lambda.amazonaws.com'] without aws:SourceAccount",
        "role R trusts a web identity without a pinned sub",
    ]
