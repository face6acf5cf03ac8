"""runtime.redact: each secret shape is masked (failing case) and look-alikes are kept (passing case);
the CLIs never print a pasted secret."""

import pytest

from runtime.cli import main as runtime_main
from runtime.cli.secrets import main as secrets_main
from runtime.constants import REDACTED
from runtime.redact import is_age_identity, redact

AGE_IDENTITY = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # AWS's documented example secret key
KEY_ID = "AKIAIOSFODNN7EXAMPLE"
BEDROCK_KEY = "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29tLz9BY3Rpb249Q2FsbFdpdGhCZWFyZXJUb2tlbg=="
LONG_TERM_KEY = "ABSKQmVkcm9ja0FQSUtleS1leGFtcGxlLWF0LTEyMzQ1Njc4OTAxMg=="
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD6example"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"{AGE_IDENTITY!r} is not a recipient", AGE_IDENTITY),
        (f"identity {AGE_IDENTITY.lower()} pasted", AGE_IDENTITY.lower()),
        (f"key {KEY_ID} {AWS_SECRET} was rejected", AWS_SECRET),
        (f"{AWS_SECRET},{KEY_ID}", AWS_SECRET),
        (f"aws_secret_access_key = {AWS_SECRET}", AWS_SECRET),
        (f'"AWS_SECRET_ACCESS_KEY": "{AWS_SECRET}"', AWS_SECRET),
        (f"Authorization: Bearer {BEDROCK_KEY} expired", BEDROCK_KEY),
        (f"api key {LONG_TERM_KEY}", LONG_TERM_KEY),
        (f"token={SESSION_TOKEN}", SESSION_TOKEN),
    ],
)
def test_secret_shapes_are_masked(text, secret):
    shown = redact(text)
    assert secret not in shown and REDACTED in shown


@pytest.mark.parametrize(
    "text",
    [
        "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p is not in the file",  # public recipient
        "commit 0123456789abcdef0123456789abcdef01234567 on main",  # 40 chars, no key id or label
        "/home/user/projects/portkey/secrets/env.json does not exist",
        "secret arn:aws:secretsmanager:us-east-1:123456789012:secret:portkey/bedrock-access-AbCdEf lacks AWS_REGION",
        "model bedrock-api-keys-guide is unknown",  # not the key prefix
        "region us-east-1 has no profile for claude-sonnet-4.5",
    ],
)
def test_look_alikes_are_kept(text):
    assert redact(text) == text


def test_key_id_is_shortened_not_hidden():
    assert redact(f"key {KEY_ID} is inactive") == "key AKIA…MPLE is inactive"


def test_is_age_identity():
    assert is_age_identity(AGE_IDENTITY) and not is_age_identity("age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2e")


def _output(capsys):
    out, err = capsys.readouterr()
    return out + err


def test_init_with_a_pasted_identity_says_so_and_never_echoes_it(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert secrets_main(["init", "--age", AGE_IDENTITY]) == 2
    printed = _output(capsys)
    assert AGE_IDENTITY not in printed and "GFPYYSJZ" not in printed
    assert printed.count("\n") == 1 and "private age identity" in printed and "age1… public key" in printed
    assert not (tmp_path / ".sops.yaml").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["secrets", "init", "--kms-arn", AGE_IDENTITY],  # wrong option
        ["secrets", "decrypt", f"{KEY_ID}-{AWS_SECRET}.json"],  # in a file name
        ["secrets", "decrypt", "x.json", f"aws_secret_access_key={AWS_SECRET}"],  # unrecognized argument
        ["secrets", "exec-env", "x.json", "--", BEDROCK_KEY],  # in a command line
        ["headers", "claude-large", "--sops", AGE_IDENTITY],  # runtime/cli/commands.py's printer
        ["resolve", AGE_IDENTITY],
    ],
)
def test_no_cli_error_line_carries_a_secret(capsys, tmp_path, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    code = runtime_main(argv)
    printed = _output(capsys)
    assert code != 0
    for secret in (AGE_IDENTITY, AWS_SECRET, BEDROCK_KEY):
        assert secret not in printed


def test_every_masking_helper_lives_in_redact_and_the_others_are_the_same_objects():
    from runtime import cli, redact
    from runtime.cli import config as config_cli
    from runtime.credentials import keys as credentials

    assert credentials.mask_key_id is redact.mask_key_id
    assert cli.redact_headers is redact.redact_headers
    assert config_cli.redact_config is redact.redact_config
    line = redact.redact("key AKIAIOSFODNN7EXAMPLE")
    assert line == f"key {redact.mask_key_id('AKIAIOSFODNN7EXAMPLE')}" == "key AKIA…MPLE"
    config = {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "api_key": "bedrock-api-key-x", "aws_region": "us-east-1"}
    assert redact.redact_config(config) == {
        "aws_access_key_id": "AKIA…MPLE",
        "api_key": "<redacted>",
        "aws_region": "us-east-1",
    }
