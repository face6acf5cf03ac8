"""stacks.checks.hygiene.secret_leaks: for each rule a clean template and one that breaks it."""

import copy

import pytest

from stacks.checks.hygiene import secret_leaks

KEY = {"Type": "AWS::IAM::AccessKey", "Properties": {"UserName": {"Ref": "U"}}}
SECRET_FROM_KEY = {
    "Type": "AWS::SecretsManager::Secret",
    "Properties": {
        "SecretString": {
            "Fn::Join": [
                "",
                ['{"AWS_ACCESS_KEY_ID":"', {"Ref": "K"}, '","S":"', {"Fn::GetAtt": ["K", "SecretAccessKey"]}],
            ]
        }
    },
}
CLEAN = {
    "Resources": {"U": {"Type": "AWS::IAM::User"}, "K": KEY, "S": SECRET_FROM_KEY},
    "Outputs": {"SecretArn": {"Value": {"Ref": "S"}}, "UserArn": {"Value": {"Fn::GetAtt": ["U", "Arn"]}}},
}


def variant(**changes: object) -> dict:
    template = copy.deepcopy(CLEAN)
    for path, value in changes.items():
        section, name = path.split("__")
        template.setdefault(section, {})[name] = value
    return template


def test_the_clean_template_has_no_problem():
    assert secret_leaks(CLEAN) == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"Outputs__KeyId": {"Value": {"Ref": "K"}}}, "output KeyId exposes access key K"),
        (
            {"Outputs__Secret": {"Value": {"Fn::GetAtt": ["K", "SecretAccessKey"]}}},
            "output Secret exposes access key K",
        ),
        (
            {"Outputs__Value": {"Value": {"Fn::Join": ["", [{"Ref": "S"}, "SecretString"]]}}},
            "output Value exposes a secret value",
        ),
        ({"Outputs__Pasted": {"Value": "AKIAIOSFODNN7EXAMPLE"}}, "Outputs holds a literal access key id"),
        (
            {"Parameters__Pasted": {"Type": "String", "Default": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}},
            "Parameters holds a 40-character secret-like literal",
        ),
        (
            {"Resources__S": {"Type": "AWS::SecretsManager::Secret", "Properties": {"SecretString": "x"}}},
            "secret S has a literal SecretString",
        ),
        (
            {
                "Resources__S": {
                    "Type": "AWS::SecretsManager::Secret",
                    "Properties": {"SecretString": {"Fn::Join": ["", ["a", {"Ref": "U"}]]}},
                }
            },
            "secret S is not built from an access key's Ref/GetAtt",
        ),
    ],
)
def test_each_leak_is_named(changes, problem):
    assert problem in secret_leaks(variant(**changes))


def test_a_long_arn_is_not_mistaken_for_a_secret_key():
    arn = "arn:aws:iam::111122223333:policy/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    assert secret_leaks(variant(Outputs__PolicyArn={"Value": arn})) == []


def test_problems_name_logical_ids_never_values():
    pasted = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    problems = secret_leaks(variant(Outputs__Pasted={"Value": pasted}))
    assert problems and all(pasted not in line for line in problems)
