"""local/aws.py: `python -m local.aws env` (every variable a shell needs for the local flow, as export
lines) and the state file parser."""

import json
import subprocess

import pytest

from local import aws, gateway
from local.aws import AwsState, parse_state, shell_exports


@pytest.fixture
def running_state(tmp_path, monkeypatch):
    (tmp_path / aws.STATE_FILE_NAME).write_text(json.dumps({"pid": 4242, "port": 5000, "bedrock_port": 6000}))
    monkeypatch.setattr(aws, "_is_our_server", lambda pid: pid == 4242)
    monkeypatch.setattr(gateway, "STATE_FILE", tmp_path / "no-gateway.json")
    return tmp_path


def _evaluated(exports: str) -> dict[str, str]:
    done = subprocess.run(
        ["bash", "-c", 'eval "$EXPORTS"; env -0'],
        env={"EXPORTS": exports, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(item.split("=", 1) for item in done.stdout.split("\0") if "=" in item)


def test_env_prints_everything_the_local_flow_needs(running_state, capsys):
    assert aws.main(["env", "--state-dir", str(running_state)]) == 0
    env = _evaluated(capsys.readouterr().out)
    assert env["AWS_ENDPOINT_URL"] == "http://localhost:5000"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_ACCESS_KEY_ID"] == env["AWS_SECRET_ACCESS_KEY"] == "testing"
    assert env["PORTKEY_BEDROCK_CUSTOM_HOST"] == "http://127.0.0.1:6000"  # the Bedrock double
    assert env["PORTKEY_GATEWAY_URL"] == "http://127.0.0.1:8787/v1"  # where `make gateway` listens
    assert env["SOPS_AGE_KEY_FILE"] == str(running_state / "age" / "keys.txt")
    assert env["PORTKEY_BEDROCK_SOPS_FILE"] == str(running_state / "secrets" / "env.json")


def test_env_names_the_running_gateway(running_state, monkeypatch, capsys):
    monkeypatch.setattr(gateway, "running_base_url", lambda: "http://127.0.0.1:9999/v1")
    assert aws.main(["env", "--state-dir", str(running_state)]) == 0
    assert "export PORTKEY_GATEWAY_URL=http://127.0.0.1:9999/v1" in capsys.readouterr().out.splitlines()


def test_env_without_local_aws_is_one_line(tmp_path, capsys):
    assert aws.main(["env", "--state-dir", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "error: local AWS is not running; start it with `python -m local.aws up`\n"


def test_gateway_up_listens_on_8787_by_default():
    # no --port: the running gateway's port when one runs, else DEFAULT_PORT (an explicit port that
    # differs from the running one is refused: tests/unit/local/test_gateway_launcher.py)
    assert gateway.build_parser().parse_args(["up"]).port is None and gateway.DEFAULT_PORT == 8787


def test_gateway_up_refuses_a_bad_port(capsys):
    assert gateway.main(["up", "--port", "70000"]) == 2
    assert "is not a port number" in capsys.readouterr().err


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
