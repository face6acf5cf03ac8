"""The deployed stack as the source of truth for the access-key serials: the lookup's decision
table (fake lookups), read_deployed against botocore's Stubber, and app.py's one-line failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from botocore.stub import Stubber

from stacks.deployed_keys import (
    Deployed,
    DeployedKeysUnreadable,
    access_key_serials,
    app_serial_context,
    cli_context,
    deploy_context,
    read_deployed,
    serial_context,
)

REPO = Path(__file__).resolve().parents[3]
STACK = "PortkeyBedrockAccess"
ACCOUNT = "123456789012"
STACK_ID = f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/{STACK}/abc"


def fails(err: Exception):
    def lookup():
        raise err

    return lookup


def never():
    raise AssertionError("looked up although a serial was given")


def decide(lookup, *, given=None, account=ACCOUNT, cli_has_credentials=True, caller=ACCOUNT, notes=None):
    return serial_context(
        STACK,
        "us-east-1",
        given or {},
        lookup,
        account=account,
        caller_account=lambda: caller,
        cli_has_credentials=cli_has_credentials,
        note=(notes.append if notes is not None else None),
    )


@pytest.mark.parametrize(
    ("lookup", "given", "expected"),
    [
        # after `make rotate` (key 2) a plain deploy keeps key 2
        (lambda: Deployed({}, 2, (), ACCOUNT), {}, {"access_key_serial": "2"}),
        # a half-finished rotation keeps its retained key too
        (lambda: Deployed({}, 3, (2,), ACCOUNT), {}, {"access_key_serial": "3", "retained_access_key_serial": "2"}),
        # a stack that does not exist yet starts at serial 1 (the config default)
        (lambda: None, {}, {}),
        # an explicit -c access_key_serial (stacks.rotate) is never overridden, and not looked up
        (never, {"access_key_serial": "4"}, {}),
        (never, {"access_key_serial": 4}, {}),
    ],
)
def test_the_deployed_serials_win_unless_one_is_given(lookup, given, expected):
    assert decide(lookup, given=given) == expected


@pytest.mark.parametrize(
    ("err", "why"),
    [
        (NoCredentialsError(), "no AWS credentials in the app process"),
        (
            ClientError({"Error": {"Code": "AccessDenied", "Message": "User: x is not authorized"}}, "DescribeStacks"),
            "AccessDenied",
        ),
        (ClientError({"Error": {"Code": "ExpiredToken", "Message": "expired"}}, "GetTemplate"), "ExpiredToken"),
        (
            EndpointConnectionError(endpoint_url="https://cloudformation.us-east-1.amazonaws.com"),
            "EndpointConnectionError",
        ),
    ],
)
def test_an_unreadable_stack_fails_synth_in_one_line_when_a_deploy_can_follow(err, why):
    with pytest.raises(DeployedKeysUnreadable) as caught:
        decide(fails(err), cli_has_credentials=True)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"cannot read the deployed access-key serial of {STACK} in us-east-1 ({why})")
    assert "export AWS_PROFILE=" in message and "-c access_key_serial=N" in message


def test_an_offline_synth_uses_serial_1_with_one_note():
    notes: list[str] = []
    assert decide(fails(NoCredentialsError()), account=None, cli_has_credentials=False, notes=notes) == {}
    assert len(notes) == 1 and "access_key_serial=1" in notes[0] and "\n" not in notes[0]


def test_credentials_of_another_account_are_refused():
    with pytest.raises(DeployedKeysUnreadable, match="account 999999999999, the CDK CLI deploys into 123456789012"):
        decide(lambda: Deployed({}, 2, (), "999999999999"))
    # the stack is not found with the app's credentials: which account did we look in?
    with pytest.raises(DeployedKeysUnreadable, match="account 999999999999"):
        decide(lambda: None, caller="999999999999")
    assert decide(lambda: None, caller=ACCOUNT) == {}


def stubbed_cloudformation():
    client = boto3.client(
        "cloudformation", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    return client, Stubber(client)


def test_read_deployed_takes_the_output_and_the_template():
    cfn, stub = stubbed_cloudformation()
    outputs = [{"OutputKey": "AccessKeySerial", "OutputValue": "3"}, {"OutputKey": "UserName", "OutputValue": "u"}]
    stub.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": STACK,
                    "StackId": STACK_ID,
                    "CreationTime": "2026-11-23T00:00:00Z",
                    "StackStatus": "UPDATE_COMPLETE",
                    "Outputs": outputs,
                }
            ]
        },
        {"StackName": STACK},
    )
    template = {
        "Resources": {f"AccessKey{n}": {"Type": "AWS::IAM::AccessKey", "Properties": {"Serial": n}} for n in (2, 3)}
    }
    stub.add_response("get_template", {"TemplateBody": json.dumps(template)}, {"StackName": STACK})
    with stub:
        found = read_deployed(cfn, STACK)
    assert found == Deployed({"AccessKeySerial": "3", "UserName": "u"}, 3, (2,), ACCOUNT)


def test_read_deployed_of_a_missing_stack_is_none():
    cfn, stub = stubbed_cloudformation()
    stub.add_client_error(
        "describe_stacks",
        "ValidationError",
        f"Stack with id {STACK} does not exist",
        expected_params={"StackName": STACK},
    )
    with stub:
        assert read_deployed(cfn, STACK) is None


def test_read_deployed_lets_access_denied_through():
    cfn, stub = stubbed_cloudformation()
    stub.add_client_error("describe_stacks", "AccessDenied", "not authorized", http_status_code=403)
    with stub, pytest.raises(ClientError):
        read_deployed(cfn, STACK)


def test_cli_context_reads_the_variable_and_the_overflow_file(tmp_path):
    overflow = tmp_path / "context.json"
    overflow.write_text('{"access_key_serial": "5"}')
    environ = {"CDK_CONTEXT_JSON": '{"policy_mode": "full"}', "CONTEXT_OVERFLOW_LOCATION_ENV": str(overflow)}
    assert cli_context(environ) == {"policy_mode": "full", "access_key_serial": "5"}
    with pytest.raises(Exception, match="not a JSON object"):
        cli_context({"CDK_CONTEXT_JSON": "[1]"})


def unreachable_env(**extra: str) -> dict[str, str]:
    """Credentials, but an endpoint nobody listens on: the real boto3 lookup fails fast."""
    return {
        "AWS_ENDPOINT_URL": "http://localhost:9",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        **extra,
    }


def test_the_boto3_lookup_honours_aws_endpoint_url_and_fails_in_one_line():
    with pytest.raises(DeployedKeysUnreadable, match=r"\(EndpointConnectionError\)"):
        app_serial_context(STACK, "us-east-1", ACCOUNT, {}, unreachable_env(CDK_DEFAULT_ACCOUNT=ACCOUNT))


def test_the_boto3_lookup_without_cli_credentials_is_a_note(capsys):
    assert app_serial_context(STACK, "us-east-1", None, {}, unreachable_env()) == {}
    assert capsys.readouterr().err.count("note:") == 1


def test_the_boto3_lookup_uses_aws_profile(tmp_path, monkeypatch):
    config = tmp_path / "config"
    config.write_text("[profile other]\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    environ = {"AWS_PROFILE": "missing", "CDK_DEFAULT_ACCOUNT": ACCOUNT}
    with pytest.raises(DeployedKeysUnreadable, match="AWS profile 'missing' not found"):
        app_serial_context(STACK, "us-east-1", ACCOUNT, {}, environ)


def test_app_py_fails_in_one_line_when_the_cli_has_credentials_but_the_app_cannot_read_the_stack(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))},
        **unreachable_env(CDK_DEFAULT_ACCOUNT=ACCOUNT, CDK_DEFAULT_REGION="us-east-1"),
        "CDK_CONTEXT_JSON": "{}",
        "CDK_OUTDIR": str(tmp_path / "out"),
    }
    done = subprocess.run([sys.executable, "app.py"], cwd=REPO, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert f"cannot read the deployed access-key serial of {STACK}" in errors[0]
    assert "testing" not in done.stderr  # never a credential


class FakeCfn:
    def __init__(self, error: Exception | None = None, deployed: Deployed | None = None) -> None:
        self.error, self.deployed = error, deployed

    def describe_stacks(self, StackName):
        if self.error is not None:
            raise self.error
        return {"Stacks": [{"StackId": STACK_ID, "StackStatus": "UPDATE_COMPLETE",
                            "Outputs": [{"OutputKey": "AccessKeySerial", "OutputValue": "2"}]}]}  # fmt: skip

    def get_template(self, StackName):
        return {"TemplateBody": {"Resources": {}}}


DENIED = ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorized"}}, "DescribeStacks")


def test_a_denied_lookup_retries_once_through_the_cdk_lookup_role():
    from stacks.deployed_keys import read_with_lookup_role

    assumed = []

    def assume(role_arn):
        assumed.append(role_arn)
        return lambda service: FakeCfn()

    found = read_with_lookup_role(lambda service: FakeCfn(DENIED), STACK, ACCOUNT, assume, "us-east-1")
    assert found is not None and found.active_serial == 2
    assert assumed == [f"arn:aws:iam::{ACCOUNT}:role/cdk-hnb659fds-lookup-role-{ACCOUNT}-us-east-1"]


def test_when_the_lookup_role_fails_too_the_first_denial_is_reported():
    from stacks.deployed_keys import read_with_lookup_role

    def assume(role_arn):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "cannot assume"}}, "AssumeRole")

    with pytest.raises(ClientError) as caught:
        read_with_lookup_role(lambda service: FakeCfn(DENIED), STACK, ACCOUNT, assume, "us-east-1")
    assert caught.value is DENIED
    # other errors, or no known account: no second try
    with pytest.raises(EndpointConnectionError):
        read_with_lookup_role(lambda s: FakeCfn(EndpointConnectionError(endpoint_url="x")), STACK, ACCOUNT, never, "r")
    with pytest.raises(ClientError):
        read_with_lookup_role(lambda service: FakeCfn(DENIED), STACK, None, never, "us-east-1")


def test_a_template_that_is_not_json_is_one_line():
    cfn, stub = stubbed_cloudformation()
    stub.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": STACK,
                    "StackId": STACK_ID,
                    "CreationTime": "2026-11-23T00:00:00Z",
                    "StackStatus": "UPDATE_COMPLETE",
                }
            ]
        },
    )
    stub.add_response("get_template", {"TemplateBody": "Resources:\n  A: {Type: X}\n"})
    with stub, pytest.raises(DeployedKeysUnreadable, match="not JSON"):
        read_deployed(cfn, STACK)


@pytest.mark.parametrize(
    ("given", "deployed", "expected"),
    [
        ({}, Deployed({}, 3), {"access_key_serial": "3"}),
        ({}, Deployed({}, None), {}),
    ],
)
def test_deploy_context_never_rotates_by_accident(given, deployed, expected):
    assert deploy_context(given, deployed) == expected


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        ({"A": {"Type": "AWS::IAM::AccessKey", "Properties": {"Serial": 2}}}, [2]),
        ({"A": {"Type": "AWS::IAM::AccessKey", "Properties": {"Serial": "3"}}, "U": {"Type": "AWS::IAM::User"}}, [3]),
        ({"A": {"Type": "AWS::IAM::AccessKey", "Properties": {}}}, []),
    ],
)
def test_access_key_serials(resources, expected):
    assert access_key_serials({"Resources": resources}) == expected
