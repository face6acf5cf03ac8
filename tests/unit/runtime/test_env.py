import os

import pytest

from runtime.env import getenv

NAME = "PORTKEY_BEDROCK_TEST_VARIABLE"


@pytest.mark.parametrize("value", ["x", "", "é ünïcode", "a=b,c"])
def test_getenv_sees_values_set_through_os_environ(monkeypatch, value):
    monkeypatch.setenv(NAME, value)
    assert getenv(NAME) == value == os.environ.get(NAME)


def test_getenv_sees_deletion(monkeypatch):
    monkeypatch.setenv(NAME, "x")
    assert getenv(NAME) == "x"
    monkeypatch.delenv(NAME)
    assert getenv(NAME) is None


def test_getenv_of_unset_name_is_none():
    assert getenv("PORTKEY_BEDROCK_SURELY_UNSET_NAME") is None


def test_environ_region_is_the_one_precedence_every_reader_uses(monkeypatch):
    from runtime.catalog.resolve import pick_region
    from runtime.credentials.keys import Credentials
    from runtime.env import environ_region

    env = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "eu-west-1"}
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert environ_region(env) == Credentials.from_env(env).region == "eu-west-1"
    assert pick_region() == "eu-west-1"
    env["AWS_REGION"] = "us-west-2"
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    assert environ_region(env) == Credentials.from_env(env).region == "us-west-2"
    assert pick_region() == "us-west-2" and pick_region("ap-northeast-1") == "ap-northeast-1"
