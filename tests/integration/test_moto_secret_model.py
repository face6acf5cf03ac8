"""The AWS::SecretsManager::Secret CloudFormation model: create, update, delete; and proof that
without it moto skips the secret."""

import json
import subprocess
import sys
import textwrap

import boto3
import pytest
from moto import mock_aws

from local.moto_patches.secrets import generated_secret_string, register_secret_model
from tests.integration.helpers import REGION, secret_json

pytestmark = pytest.mark.integration


def template(value="v1", kms=True, description="d1", name=None, getatt=True):
    props = {"Description": description, "SecretString": {"Fn::Sub": ['{"k":"${V}"}', {"V": value}]}}
    if kms:
        props["KmsKeyId"] = {"Fn::GetAtt": ["Key", "Arn"]}
    if name:
        props["Name"] = name
    return json.dumps({
        "Resources": {
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {}}},
            "Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": props},
        },
        "Outputs": {"Arn": {"Value": {"Ref": "Secret"}},
                    **({"Id": {"Value": {"Fn::GetAtt": ["Secret", "Id"]}}} if getatt else {})},
    })  # fmt: skip


@pytest.fixture
def cfn(moto_env):
    register_secret_model()
    with mock_aws():
        yield boto3.client("cloudformation", region_name=REGION), boto3.client("secretsmanager", region_name=REGION)


def outputs(cf, stack="s"):
    return {o["OutputKey"]: o["OutputValue"] for o in cf.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]}


@pytest.mark.parametrize(
    ("generate", "expected"),
    [
        ({}, "pw"),
        ({"SecretStringTemplate": '{"u": "a"}', "GenerateStringKey": "p"}, '{"u": "a", "p": "pw"}'),
    ],
)
def test_generated_secret_string(generate, expected):
    assert generated_secret_string(generate, lambda _: "pw") == expected


def test_create_ref_and_getatt_return_the_arn(cfn):
    cf, sm = cfn
    cf.create_stack(StackName="s", TemplateBody=template())
    out = outputs(cf)
    assert out["Arn"].startswith(f"arn:aws:secretsmanager:{REGION}:123456789012:secret:s-Secret-")
    assert out["Id"] == out["Arn"]
    assert secret_json(sm, out["Arn"]) == {"k": "v1"}
    described = sm.describe_secret(SecretId=out["Arn"])
    assert described["Description"] == "d1" and described["KmsKeyId"].startswith("arn:aws:kms:")


def test_new_secret_string_makes_a_new_current_version(cfn):
    cf, sm = cfn
    cf.create_stack(StackName="s", TemplateBody=template())
    arn = outputs(cf)["Arn"]
    cf.update_stack(StackName="s", TemplateBody=template(value="v2"))
    assert outputs(cf)["Arn"] == arn
    assert secret_json(sm, arn) == {"k": "v2"}
    versions = sm.list_secret_version_ids(SecretId=arn)["Versions"]
    assert len(versions) == 2
    assert sorted(v.get("VersionStages", []) for v in versions) == [["AWSCURRENT"], ["AWSPREVIOUS"]]


def test_kms_and_description_change_in_place_without_a_new_version(cfn):
    cf, sm = cfn
    cf.create_stack(StackName="s", TemplateBody=template())
    arn = outputs(cf)["Arn"]
    cf.update_stack(StackName="s", TemplateBody=template(kms=False, description="d2"))
    assert sm.describe_secret(SecretId=arn)["Description"] == "d2"
    assert len(sm.list_secret_version_ids(SecretId=arn)["Versions"]) == 1
    assert secret_json(sm, arn) == {"k": "v1"}


def test_new_name_replaces_the_secret(cfn):
    cf, sm = cfn
    cf.create_stack(StackName="s", TemplateBody=template(name="one"))
    cf.update_stack(StackName="s", TemplateBody=template(name="two"))
    assert [s["Name"] for s in sm.list_secrets()["SecretList"]] == ["two"]


def test_delete_stack_removes_the_secret_and_the_name_is_free_again(cfn):
    cf, sm = cfn
    cf.create_stack(StackName="s", TemplateBody=template(name="fixed"))
    cf.delete_stack(StackName="s")
    assert sm.list_secrets()["SecretList"] == []
    cf.create_stack(StackName="s2", TemplateBody=template(name="fixed"))
    assert secret_json(sm, "fixed") == {"k": "v1"}


def test_repr_never_shows_the_value(cfn):
    cf, _ = cfn
    model = register_secret_model()
    cf.create_stack(StackName="s", TemplateBody=template(value="SECRETVALUE"))
    shown = [repr(m) for m in model.instances_tracked]
    assert shown and not any("SECRETVALUE" in text for text in shown)


PROBE = textwrap.dedent(
    """
    import json, sys, boto3
    from moto import mock_aws
    if sys.argv[1] == "register":
        from local.moto_patches.secrets import register_secret_model
        register_secret_model()
    with mock_aws():
        cf = boto3.client("cloudformation", region_name="us-east-1")
        cf.create_stack(StackName="s", TemplateBody=sys.argv[2])
        stack = cf.describe_stacks(StackName="s")["Stacks"][0]
        secrets = boto3.client("secretsmanager", region_name="us-east-1").list_secrets()["SecretList"]
        print(json.dumps({"status": stack["StackStatus"], "outputs": len(stack.get("Outputs") or []),
                          "secrets": len(secrets)}))
    """
)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("plain", {"status": "CREATE_COMPLETE", "outputs": 0, "secrets": 0}),
        ("register", {"status": "CREATE_COMPLETE", "outputs": 1, "secrets": 1}),
    ],
)
def test_the_registration_is_what_makes_the_secret_exist(mode, expected, moto_env):
    """A fresh process (registration cannot be undone in this one): moto alone silently skips
    the secret and drops the outputs that reference it."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode, template(getatt=False)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == expected
