"""Edge cases of the pure helpers of local AWS, deploy and rotate, beyond their doctests (which run too)."""

import pytest

from local.aws import AwsState, parse_state, shell_exports
from local.moto_changesets import previous_inputs
from local.moto_fixes import policy_text
from runtime.errors import PortkeyBedrockError
from stacks.cdk_cli import context_args, error_tail
from stacks.deploy import Deployed, access_key_serials, deploy_context
from stacks.synth import parse_context


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


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [(["a=1"], {"a": "1"}), (["k=a=b"], {"k": "a=b"}), ([], {})],
)
def test_parse_context(pairs, expected):
    assert parse_context(pairs) == expected


@pytest.mark.parametrize("bad", ["novalue", "=x"])
def test_parse_context_rejects(bad):
    with pytest.raises(PortkeyBedrockError, match="key=value"):
        parse_context([bad])


@pytest.mark.parametrize(
    ("context", "expected"),
    [({}, [])],
)
def test_context_args(context, expected):
    assert context_args(context) == expected


def test_error_tail_drops_node_banners():
    output = "!! node 20 !!\nb'!! x'\n(node:1) Warning\nreal line\n\n❌ failed\nError: boom\n"
    assert error_tail(output, lines=3) == "real line\n❌ failed\nError: boom"


@pytest.mark.parametrize(
    ("template", "inputs", "expected"),
    [
        ({"Parameters": {"V": {"Default": "/p"}}}, {}, {"V": "/p"}),
        ({"Parameters": {"V": {"Default": "/p"}}}, {"V": "/q"}, {"V": "/q"}),
        ({}, None, {}),
    ],
)
def test_previous_inputs(template, inputs, expected):
    assert previous_inputs(template, inputs) == expected


@pytest.mark.parametrize(("policy", "expected"), [({"a": 1}, '{"a": 1}'), ('{"a": 1}', '{"a": 1}'), (None, None)])
def test_policy_text(policy, expected):
    assert policy_text(policy) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"pid": 1, "port": 2}', AwsState(pid=1, port=2)),
        ('{"pid": 1, "port": 2, "bedrock_port": 3, "region": "eu-west-1"}', AwsState(1, 2, "eu-west-1", 3)),
        ('{"pid": "x", "port": 2}', None),
        ("[]", None),
        ("", None),
    ],
)
def test_parse_state(text, expected):
    assert parse_state(text) == expected


def test_shell_exports_quote_values():
    assert shell_exports({"A": "x y", "B": "it's"}) == "export A='x y'\nexport B='it'\"'\"'s'"
