"""stacks/constructs/access_credentials.py: the secret's optional reader policy and the
cross-account kms_principals warning (issue 18, item 17)."""

from __future__ import annotations

import pytest

CI = "arn:aws:iam::111122223333:role/ci"
OPS = "arn:aws:iam::111122223333:user/ops"


def resources_of(template, kind):
    return [r for r in template["Resources"].values() if r["Type"] == kind]


def test_without_secret_readers_the_secret_has_no_resource_policy(default_template):
    assert resources_of(default_template, "AWS::SecretsManager::ResourcePolicy") == []


def test_secret_readers_deny_get_secret_value_to_everyone_else(synthesized):
    template = synthesized.templates["SecretReaders"]
    [policy] = resources_of(template, "AWS::SecretsManager::ResourcePolicy")
    [statement] = policy["Properties"]["ResourcePolicy"]["Statement"]
    assert statement["Effect"] == "Deny" and statement["Principal"] == {"AWS": "*"}
    assert statement["Action"] == "secretsmanager:GetSecretValue" and statement["Resource"] == "*"
    readers = statement["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    assert readers[:2] == [CI, OPS]
    root = readers[2]["Fn::Join"][1]  # arn:${AWS::Partition}:iam::${AWS::AccountId}:root, the break-glass
    assert root == ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"]
    [secret_id] = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::SecretsManager::Secret"]
    assert policy["Properties"]["SecretId"] == {"Ref": secret_id}


def test_secret_readers_are_validated_like_kms_principals():
    from runtime.errors import ConfigError
    from stacks.config import StackConfig

    assert StackConfig.from_mapping({"secret_readers": f"{CI}, {OPS}, {CI}"}, environ={}).secret_readers == (CI, OPS)
    assert StackConfig.from_mapping({}, environ={}).secret_readers == ()
    with pytest.raises(ConfigError, match="context key secret_readers='arn:aws:iam::\\*:root' is invalid"):
        StackConfig.from_mapping({"secret_readers": "arn:aws:iam::*:root"}, environ={})


def _credentials(account, kms_principals):
    from aws_cdk import App, Environment, Stack
    from aws_cdk import aws_iam as iam

    from stacks.constructs.access_credentials import AccessCredentials

    stack = Stack(App(), "S", env=Environment(account=account, region="us-east-1") if account else None)
    user = iam.User(stack, "U")
    AccessCredentials(stack, "C", user=user, user_name="u", region="us-east-1", secret_name="s", access_key_serial=1,
                      kms_principals=kms_principals)  # fmt: skip


def test_kms_principals_of_another_account_print_one_warning(capsys):
    _credentials("111122223333", ["arn:aws:iam::111122223333:role/sops", "arn:aws:iam::999999999999:role/x"])
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("warning: kms_principals names 1 principal(s) of another account")
    assert "arn:aws:iam::999999999999:role/x" in err and "role/sops" not in err


@pytest.mark.parametrize(
    ("account", "principals"),
    [("111122223333", ["arn:aws:iam::111122223333:role/sops"]), (None, ["arn:aws:iam::999999999999:role/x"])],
)
def test_no_warning_for_the_stacks_own_account_or_an_unknown_one(capsys, account, principals):
    _credentials(account, principals)
    assert capsys.readouterr().err == ""
