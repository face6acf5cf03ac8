"""Fallback chains over (model, source region) pairs: order, per-region ids, status codes, timeout."""

from __future__ import annotations

import json

import pytest

from runtime.cli import main
from runtime.credentials.keys import Credentials
from runtime.errors import ConfigError
from runtime.gateway.fallback import FALLBACK_STATUS_CODES
from runtime.gateway.headers import portkey_config

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
CREDS = Credentials(KEY_ID, SECRET, region="us-east-1")
REGIONS = ["us-east-1", "us-west-2"]


@pytest.fixture(autouse=True)
def today_is_the_catalog_date(monkeypatch):
    monkeypatch.setattr("runtime.catalog.model.today_utc", lambda: "2026-11-23")


def chain(**kwargs):
    return portkey_config(["claude-sonnet-4.6", "claude-haiku-4.5"], CREDS, regions=REGIONS, **kwargs)


def test_targets_are_all_regions_of_the_first_model_then_the_next():
    targets = chain()["targets"]
    assert [(t["aws_region"], t["override_params"]["model"]) for t in targets] == [
        ("us-east-1", "us.anthropic.claude-sonnet-4-6"),
        ("us-west-2", "us.anthropic.claude-sonnet-4-6"),
        ("us-east-1", "us.anthropic.claude-haiku-4-5-20251001-v1:0"),
        ("us-west-2", "us.anthropic.claude-haiku-4-5-20251001-v1:0"),
    ]


def test_every_target_carries_its_own_credentials():
    for target in chain()["targets"]:
        assert target["aws_access_key_id"] == KEY_ID
        assert target["aws_secret_access_key"] == SECRET
        assert target["provider"] == "bedrock"


def test_ids_follow_the_region_eu_gets_the_eu_profile():
    config = portkey_config("claude-haiku-4.5", CREDS, regions=["us-east-1", "eu-west-1"])
    assert [t["override_params"]["model"] for t in config["targets"]] == [
        "us.anthropic.claude-haiku-4-5-20251001-v1:0",
        "eu.anthropic.claude-haiku-4-5-20251001-v1:0",
    ]


def test_only_throttling_timeouts_and_server_errors_fall_back_never_400():
    codes = chain()["strategy"]["on_status_codes"]
    assert 400 not in codes
    assert 403 not in codes
    assert set(codes) == {429, 408, 500, 502, 503, 504}
    assert codes == list(FALLBACK_STATUS_CODES)


def test_request_timeout_is_set_and_408_is_retried():
    config = chain(request_timeout=15000)
    assert config["request_timeout"] == 15000
    assert 408 in config["retry"]["on_status_codes"]
    assert 408 in config["targets"][-1]["retry"]["on_status_codes"]


def test_no_timeout_no_408_retry_and_no_timeout_key():
    config = portkey_config("claude-haiku-4.5", CREDS)
    assert "request_timeout" not in config
    assert 408 not in config["retry"]["on_status_codes"]


def test_single_target_with_timeout_retries_408():
    config = portkey_config("claude-haiku-4.5", CREDS, request_timeout=5000)
    assert config["request_timeout"] == 5000
    assert config["retry"]["on_status_codes"] == [429, 500, 502, 503, 504, 408]


def test_a_chain_moves_on_at_429_and_only_its_last_target_retries_it():
    config = chain()
    assert 429 not in config["retry"]["on_status_codes"]
    assert all("retry" not in t for t in config["targets"][:-1])
    assert 429 in config["targets"][-1]["retry"]["on_status_codes"]


def test_explicit_retry_codes_are_kept_and_attempts_capped():
    config = chain(retry={"attempts": 1, "on_status_codes": [429]})
    assert config["retry"] == {"attempts": 1, "on_status_codes": [429]}
    with pytest.raises(ConfigError, match="from 0 to 5"):
        chain(retry={"attempts": 6})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"regions": []}, "regions is empty"),
        ({"regions": REGIONS, "region": "us-east-1"}, "not both"),
        ({"regions": REGIONS, "fallback": False}, "fallback=True"),
        ({"regions": REGIONS, "request_timeout": 0}, "whole milliseconds"),
        ({"regions": ["us-east-1", "sa-east-1"]}, "sa-east-1"),
    ],
)
def test_bad_chain_arguments_fail_in_one_line(kwargs, message):
    with pytest.raises(Exception, match=message) as err:
        portkey_config("claude-haiku-4.5", CREDS, **kwargs)
    assert "\n" not in str(err.value)


def test_cli_config_prints_the_chain_with_secrets_redacted(monkeypatch, capsys):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    argv = ["config", "claude-sonnet-4.6", "claude-haiku-4.5", "--regions", "us-east-1,us-west-2"]
    assert main([*argv, "--request-timeout", "20000"]) == 0
    out = capsys.readouterr().out
    assert SECRET not in out
    assert KEY_ID not in out
    config = json.loads(out)
    assert [t["aws_region"] for t in config["targets"]] == REGIONS * 2
    assert config["request_timeout"] == 20000
    assert main([*argv, "--show-secrets"]) == 0
    assert json.loads(capsys.readouterr().out)["targets"][0]["aws_secret_access_key"] == SECRET


def test_cli_config_bad_region_is_one_line_exit_2(monkeypatch, capsys):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    assert main(["config", "claude-haiku-4.5", "--regions", "us-east-1,sa-east-1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "sa-east-1" in err
    assert SECRET not in err
