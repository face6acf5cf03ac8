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
