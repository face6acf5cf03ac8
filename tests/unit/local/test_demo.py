"""local.demo's lifecycle step: the Legacy model resolves with a warning, the retired one is refused."""

import os

from local.demo import lifecycle_demo


def env() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if not name.startswith("PORTKEY_BEDROCK_")}


def test_lifecycle_step_shows_the_warning_and_the_refusal(capsys):
    assert lifecycle_demo(env()) is True
    out = capsys.readouterr().out
    assert "warning: claude-sonnet-4.5 is Legacy on Amazon Bedrock since 2026-10-08" in out
    assert "error: claude-sonnet-4 reached end of life on Amazon Bedrock on 2026-10-14; use claude-sonnet-4.6" in out
    assert "claude-sonnet-4    sonnet-4                   eol" in out


def test_lifecycle_step_fails_when_the_retired_model_still_resolves():
    assert lifecycle_demo(env(), retired="claude-sonnet-4.6") is False
    assert lifecycle_demo(env(), legacy="claude-sonnet-4.6") is False
