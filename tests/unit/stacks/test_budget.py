"""`python -m stacks.budget`: one line and exit 2 when there is nothing to act on."""

from __future__ import annotations

import pytest
from moto import mock_aws

from stacks import budget


@pytest.fixture
def empty_aws(monkeypatch: pytest.MonkeyPatch):
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_REGION", "us-east-1")):  # fmt: skip
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield


@pytest.mark.parametrize("command", ["status", "reset"])
def test_a_stack_that_is_not_deployed_is_one_line_exit_2(empty_aws, capsys, command: str) -> None:
    assert budget.main([command, "--stack", "Nowhere"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: stack Nowhere is not deployed here; pass --stack NAME (and the account's credentials)"


def test_local_needs_the_local_tooling(capsys) -> None:
    assert budget.main(["reset", "--local"]) == 2
    assert "python -m local.deploy" in capsys.readouterr().err
