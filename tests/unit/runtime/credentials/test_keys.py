import pickle

import pytest

from runtime import Credentials, CredentialsError

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLETOKEN"


def test_repr_and_str_never_show_secret_or_token():
    creds = Credentials(KEY_ID, SECRET, TOKEN, "us-east-1")
    for text in (repr(creds), str(creds), f"{creds}", repr([creds]), repr({"c": creds})):
        assert SECRET not in text
        assert TOKEN not in text
        assert KEY_ID not in text
        assert "AKIA…MPLE" in text


def test_pickle_round_trip_keeps_values_but_is_not_shown():
    creds = Credentials(KEY_ID, SECRET, None, "eu-west-1")
    assert pickle.loads(pickle.dumps(creds)) == creds


def test_immutable():
    creds = Credentials(KEY_ID, SECRET)
    with pytest.raises(AttributeError):
        creds.secret_access_key = "x"  # type: ignore[misc]


def test_from_env_reads_standard_names():
    env = {
        "AWS_ACCESS_KEY_ID": KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_SESSION_TOKEN": TOKEN,
        "AWS_REGION": "eu-west-1",
    }
    creds = Credentials.from_env(env)
    assert (creds.access_key_id, creds.secret_access_key, creds.session_token, creds.region) == (
        KEY_ID,
        SECRET,
        TOKEN,
        "eu-west-1",
    )


def test_from_env_falls_back_to_default_region_and_os_environ(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    assert Credentials.from_env().region == "us-west-2"


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"AWS_ACCESS_KEY_ID": KEY_ID}, "AWS_SECRET_ACCESS_KEY missing"),
        ({"AWS_SECRET_ACCESS_KEY": SECRET}, "AWS_ACCESS_KEY_ID missing"),
        ({}, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY missing"),
    ],
)
def test_missing_values_name_the_variable_and_never_the_secret(env, missing):
    with pytest.raises(CredentialsError) as info:
        Credentials.from_env(env)
    assert missing in str(info.value)
    assert SECRET not in str(info.value)


def test_as_env_round_trip():
    creds = Credentials(KEY_ID, SECRET, None, "us-east-1")
    assert Credentials.from_env(creds.as_env()) == creds
