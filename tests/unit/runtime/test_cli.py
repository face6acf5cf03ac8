import json
import subprocess
import sys

import pytest

from runtime.cli import format_table, main, redact_headers

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.fixture
def aws_env(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)


def test_models_table_lists_every_catalog_model(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "claude-large" in out
    assert "global.anthropic.claude-opus-4-5-20251101-v1:0" in out
    assert "us.anthropic.claude-sonnet-4-5-20250929-v1:0" in out


def test_models_json(capsys):
    assert main(["models", "--json", "--region", "eu-west-1"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["claude-sonnet-4"]["bedrock_id"] == "eu.anthropic.claude-sonnet-4-20250514-v1:0"


def test_resolve(capsys):
    assert main(["resolve", "Claude_Sonnet_4.5", "--region", "eu-west-1"]) == 0
    assert capsys.readouterr().out.strip() == "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["resolve", "gpt-4o"], "unknown model 'gpt-4o'"),
        (["resolve", "claude-large", "--region", "nowhere"], "not an AWS region name"),
        (["resolve", "claude-sonnet-4.5", "--region", "ap-southeast-1"], "no inference profile"),
        (["headers", "claude-large"], "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY missing"),
        (["resolve"], "the following arguments are required: name"),
        (["nonsense"], "invalid choice: 'nonsense'"),
        (["doctor", "--bogus"], "unrecognized arguments: --bogus"),
        (["secrets", "decrypt"], "the following arguments are required: file"),
    ],
)
def test_errors_are_one_line_on_stderr_with_exit_2(capsys, argv, error):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert error in captured.err
    assert captured.err.count("\n") == 1


def test_headers_redacted_by_default(capsys, aws_env):
    assert main(["headers", "claude-large"]) == 0
    out = capsys.readouterr().out
    headers = json.loads(out)
    assert SECRET not in out
    assert KEY_ID not in out
    assert headers["x-portkey-aws-secret-access-key"] == "<redacted>"
    assert headers["x-portkey-provider"] == "bedrock"


def test_headers_show_secrets_on_request(capsys, aws_env):
    assert main(["headers", "claude-large", "--show-secrets"]) == 0
    headers = json.loads(capsys.readouterr().out)
    assert headers["x-portkey-aws-secret-access-key"] == SECRET


def test_python_dash_m_entry_point(aws_env):
    done = subprocess.run(
        [sys.executable, "-m", "runtime", "resolve", "claude-large"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.strip() == "global.anthropic.claude-opus-4-5-20251101-v1:0"


@pytest.mark.parametrize(
    ("headers", "shown"),
    [
        (
            {"x-portkey-aws-secret-access-key": "s3cr3t", "x-portkey-provider": "bedrock"},
            {"x-portkey-aws-secret-access-key": "<redacted>", "x-portkey-provider": "bedrock"},
        ),
        (
            {"x-portkey-aws-access-key-id": "AKIAIOSFODNN7EXAMPLE"},
            {"x-portkey-aws-access-key-id": "AKIA…MPLE"},
        ),
        ({"x-portkey-aws-session-token": "tok"}, {"x-portkey-aws-session-token": "<redacted>"}),
    ],
)
def test_redact_headers_examples(headers, shown):
    assert redact_headers(headers) == shown


def test_format_table_example():
    assert format_table([{"a": "x", "b": "yy"}, {"a": "zzz", "b": ""}]) == "a    b\nx    yy\nzzz"
