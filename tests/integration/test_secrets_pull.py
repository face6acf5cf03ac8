"""`secrets pull`: stack output -> Secrets Manager -> SOPS file, against in-process moto."""

import json

import boto3
import pytest
from moto import mock_aws

from runtime import constants
from runtime.cli.secrets import main
from runtime.sops import files
from runtime.sops.age import generate_identity

pytestmark = pytest.mark.integration
REGION = "us-east-1"
STACK = "PullTestStack"
FIRST = {
    "AWS_ACCESS_KEY_ID": "AKIAFIRSTKEY00000001",
    "AWS_SECRET_ACCESS_KEY": "first/Secret+Value",
    "AWS_REGION": REGION,
}
SECOND = {**FIRST, "AWS_ACCESS_KEY_ID": "AKIASECONDKEY0000002", "AWS_SECRET_ACCESS_KEY": "second/Secret+Value"}


def _template(secret_arn: str | None) -> str:
    outputs = {constants.OUTPUT_SECRET_ARN: {"Value": secret_arn}} if secret_arn else {"Other": {"Value": "x"}}
    return json.dumps({
        "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": outputs,
    })  # fmt: skip


@pytest.fixture
def world(monkeypatch, tmp_path):
    """moto with a secret and a stack whose output carries its ARN; an age identity; a repo dir."""
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_REGION", REGION)):  # fmt: skip
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(constants.ENV_XDG_CONFIG_HOME, str(tmp_path / "cfg"))
    identity, recipient = generate_identity()
    monkeypatch.setenv(constants.ENV_SOPS_AGE_KEY, identity)
    (tmp_path / ".sops.yaml").write_text(f"creation_rules:\n  - path_regex: secrets/.*\\.json$\n    age: {recipient}\n")
    monkeypatch.chdir(tmp_path)
    with mock_aws():
        sm = boto3.client("secretsmanager", region_name=REGION)
        arn = sm.create_secret(Name="portkey-env", SecretString=json.dumps(FIRST))["ARN"]
        cfn = boto3.client("cloudformation", region_name=REGION)
        cfn.create_stack(StackName=STACK, TemplateBody=_template(arn))
        yield {"sm": sm, "arn": arn, "cfn": cfn, "dir": tmp_path, "recipient": recipient}


def pull(capsys, *extra):
    code = main(["pull", "--stack", STACK, *extra])
    out, err = capsys.readouterr()
    for secret in (FIRST["AWS_SECRET_ACCESS_KEY"], SECOND["AWS_SECRET_ACCESS_KEY"],
                   FIRST["AWS_ACCESS_KEY_ID"], SECOND["AWS_ACCESS_KEY_ID"]):  # fmt: skip
        assert secret not in out + err
    return code, out, err


def test_pull_into_new_file(world, capsys):
    code, out, err = pull(capsys)
    assert code == 0, err
    assert out.splitlines()[:3] == ["AWS_ACCESS_KEY_ID: added", "AWS_SECRET_ACCESS_KEY: added", "AWS_REGION: added"]
    path = world["dir"] / constants.DEFAULT_SECRETS_FILE
    assert files.load(path) == FIRST
    text = path.read_text()
    assert FIRST["AWS_SECRET_ACCESS_KEY"] not in text
    assert json.loads(text)["sops"]["age"][0]["recipient"] == world["recipient"]
    code, out, _ = pull(capsys)  # again: nothing changes, file untouched
    assert code == 0 and "already up to date" in out and path.read_text() == text


def test_pull_into_existing_file_keeps_extras(world, capsys):
    path = world["dir"] / "secrets" / "env.json"
    path.parent.mkdir()
    extras = {"PORTKEY_NOTE": "keep", "nested": {"list": [1, 2.5, True]}, "AWS_REGION": REGION}
    files.write(path, {**extras, "AWS_ACCESS_KEY_ID": FIRST["AWS_ACCESS_KEY_ID"]}, age=[world["recipient"]])
    before = json.loads(path.read_text())
    world["sm"].put_secret_value(SecretId=world["arn"], SecretString=json.dumps(SECOND))
    code, out, err = pull(capsys, "--file", str(path))
    assert code == 0, err
    assert "AWS_ACCESS_KEY_ID: changed" in out
    assert "AWS_SECRET_ACCESS_KEY: added" in out
    assert "AWS_REGION: unchanged" in out
    plain = files.load(path)
    assert plain == {**extras, **SECOND}
    after = json.loads(path.read_text())
    assert after["sops"]["age"] == before["sops"]["age"]  # same data key and recipients


def test_pull_failure_leaves_file_byte_identical(world, capsys, monkeypatch):
    path = world["dir"] / "secrets" / "env.json"
    path.parent.mkdir()
    files.write(path, {"OTHER": "x"}, age=[world["recipient"]])
    before = path.read_bytes()
    import os

    def boom(*args, **kwargs):
        raise OSError("simulated crash during replace")

    monkeypatch.setattr(os, "replace", boom)
    assert main(["pull", "--stack", STACK, "--file", str(path)]) == 2
    _, err = capsys.readouterr()
    assert err == "error: simulated crash during replace; nothing was changed\n"
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["env.json"]


def test_stack_not_found(world, capsys):
    code = main(["pull", "--stack", "NoSuchStack"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "stack 'NoSuchStack' not found in us-east-1" in err


def test_output_not_found(world, capsys):
    world["cfn"].create_stack(StackName="NoOutput", TemplateBody=_template(None))
    code = main(["pull", "--stack", "NoOutput"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and f"has no output {constants.OUTPUT_SECRET_ARN}" in err


def test_no_matching_rule(world, capsys):
    code = main(["pull", "--stack", STACK, "--file", "elsewhere/env.json"])
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and "no SOPS creation rule for elsewhere/env.json" in err
    assert not (world["dir"] / "elsewhere").exists()  # not even the directory is left behind


def test_pull_without_sops_yaml_names_init_and_writes_nothing(world, capsys):
    (world["dir"] / ".sops.yaml").unlink()
    code = main(["pull", "--stack", STACK])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err == (
        "error: no SOPS creation rule for secrets/env.json; "
        "run python -m runtime secrets init --age <your age1… key> first\n"
    )
    assert sorted(p.name for p in world["dir"].iterdir()) == []  # no secrets/ dir, no file


def test_pull_names_the_endpoint_that_failed(world, capsys, monkeypatch):
    from runtime.credentials import secrets_pull

    def unreachable(*args, **kwargs):
        from botocore.exceptions import EndpointConnectionError

        raise EndpointConnectionError(endpoint_url="http://localhost:1/")

    monkeypatch.setattr(secrets_pull, "stack_secret_arn", unreachable)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:1")
    code = main(["pull", "--stack", STACK])
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1
    assert "AWS_ENDPOINT_URL=http://localhost:1" in err and "check AWS_REGION and network" not in err
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    code = main(["pull", "--stack", STACK])
    _, err = capsys.readouterr()
    assert code == 2 and "https://cloudformation.us-east-1.amazonaws.com" in err


def test_pull_profile(world, capsys, monkeypatch):
    aws_config = world["dir"] / "aws-config"
    aws_config.write_text("[profile portkey]\nregion = us-east-1\n")
    (world["dir"] / "aws-credentials").write_text(
        "[portkey]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws_config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(world["dir"] / "aws-credentials"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):  # only the profile can authenticate
        monkeypatch.delenv(name)
    code, _out, err = pull(capsys, "--profile", "portkey")
    assert code == 0, err
    assert files.load(world["dir"] / constants.DEFAULT_SECRETS_FILE) == FIRST
    code, _, err = pull(capsys, "--profile", "nope", "--file", "secrets/other.json")
    assert code == 2 and err == "error: AWS profile 'nope' not found; check ~/.aws/config or drop --profile\n"


def test_secret_missing_keys(world, capsys):
    world["sm"].put_secret_value(SecretId=world["arn"], SecretString=json.dumps({"AWS_REGION": REGION}))
    code = main(["pull", "--stack", STACK])
    _, err = capsys.readouterr()
    assert code == 2 and "lacks AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY" in err


def test_pulled_file_feeds_credentials(world, capsys):
    from runtime.credentials.keys import Credentials

    assert pull(capsys)[0] == 0
    creds = Credentials.from_sops(world["dir"] / constants.DEFAULT_SECRETS_FILE)
    assert creds.access_key_id == FIRST["AWS_ACCESS_KEY_ID"] and creds.region == REGION
