"""local.demo's lifecycle step: a Legacy model resolves with a warning, a retired one is refused."""

import os

import pytest

from local.demo import lifecycle_demo, lifecycle_examples


def env() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if not name.startswith("PORTKEY_BEDROCK_")}


def test_todays_examples_come_from_the_catalog():
    legacy, retired = lifecycle_examples()
    assert retired is not None  # claude-sonnet-4 stays past end of life for good
    from runtime.catalog.model import load_catalog

    catalog = load_catalog()
    assert catalog.model(retired).is_eol()
    if legacy is not None:
        assert catalog.model(legacy).status_on() == "legacy"


def test_lifecycle_step_shows_the_warning_and_the_refusal(capsys):
    legacy, retired = lifecycle_examples()
    assert lifecycle_demo(env()) is True
    out = capsys.readouterr().out
    assert f"error: {retired} reached end of life on Amazon Bedrock" in out
    if legacy is not None:
        assert f"warning: {legacy} is Legacy on Amazon Bedrock" in out


@pytest.mark.parametrize("swap", ["retired", "legacy"])
def test_lifecycle_step_fails_when_a_model_does_not_behave_as_its_status(swap):
    legacy, retired = lifecycle_examples()
    active = "claude-sonnet-4.6"
    if swap == "retired":
        assert lifecycle_demo(env(), legacy=legacy, retired=active) is False
    else:
        assert lifecycle_demo(env(), legacy=active, retired=retired) is False
