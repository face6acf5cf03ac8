"""File layer with age recipients: write/load/update, key lookup, atomicity, from_sops."""

import json
import os
from pathlib import Path

import pytest

from runtime import constants
from runtime.credentials.keys import Credentials
from runtime.sops import files, gojson
from runtime.sops.age import check_armor, default_keys_file, generate_identity, keys_file_text
from runtime.sops.errors import (
    DataKeyError,
    MacMismatchError,
    NoIdentityError,
    NotSopsFileError,
    SopsConfigError,
    SopsFormatError,
)

ENV = {
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "s3cr3t/value+X",
    "AWS_REGION": "eu-west-1",
}


def test_age_round_trip(tmp_path, age_env):
    path = tmp_path / "env.json"
    files.write(path, {**ENV, "nested": {"l": [1, 2.5, True, ""]}}, age=[age_env])
    assert files.load(path) == {**ENV, "nested": {"l": [1, 2.5, True, ""]}}
    text = path.read_text()
    assert "s3cr3t" not in text and "AKIAIOSFODNN7EXAMPLE" not in text
    stanza = json.loads(text)["sops"]["age"][0]
    assert list(stanza) == ["enc", "recipient"] and stanza["recipient"] == age_env
    enc = stanza["enc"]
    assert enc.startswith("-----BEGIN AGE ENCRYPTED FILE-----\n")
    assert enc.endswith("\n-----END AGE ENCRYPTED FILE-----\n")
    check_armor(enc)
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_two_recipients_either_decrypts(tmp_path, monkeypatch):
    (id1, r1), (id2, r2) = generate_identity(), generate_identity()
    path = tmp_path / "env.json"
    files.write(path, ENV, age=[r1, r2])
    for identity in (id1, id2):
        monkeypatch.setenv(constants.ENV_SOPS_AGE_KEY, identity)
        assert files.load(path) == ENV


def test_identity_sources(tmp_path, monkeypatch, age_pair):
    identity, recipient = age_pair
    path = tmp_path / "env.json"
    files.write(path, ENV, age=[recipient])
    other, _ = generate_identity()
    # SOPS_AGE_KEY with several identities on one line
    monkeypatch.setenv(constants.ENV_SOPS_AGE_KEY, f"{other} {identity}")
    assert files.load(path) == ENV
    monkeypatch.delenv(constants.ENV_SOPS_AGE_KEY)
    # SOPS_AGE_KEY_FILE with comments
    key_file = tmp_path / "keys.txt"
    key_file.write_text(keys_file_text(identity, recipient))
    monkeypatch.setenv(constants.ENV_SOPS_AGE_KEY_FILE, str(key_file))
    assert files.load(path) == ENV
    monkeypatch.delenv(constants.ENV_SOPS_AGE_KEY_FILE)
    # the default keys file under XDG_CONFIG_HOME
    default = default_keys_file()
    assert str(default).startswith(os.environ[constants.ENV_XDG_CONFIG_HOME])
    default.parent.mkdir(parents=True)
    default.write_text(keys_file_text(identity, recipient))
    assert files.load(path) == ENV


def test_default_keys_file_without_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv(constants.ENV_XDG_CONFIG_HOME)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_keys_file() == tmp_path / ".config" / "sops" / "age" / "keys.txt"


def test_no_identity(tmp_path, age_pair):
    path = tmp_path / "env.json"
    files.write(path, ENV, age=[age_pair[1]])
    with pytest.raises(NoIdentityError, match=r"no age identity available.*SOPS_AGE_KEY_FILE"):
        files.load(path)


def test_wrong_identity(tmp_path, monkeypatch, age_pair):
    path = tmp_path / "env.json"
    files.write(path, ENV, age=[age_pair[1]])
    monkeypatch.setenv(constants.ENV_SOPS_AGE_KEY, generate_identity()[0])
    with pytest.raises(DataKeyError, match="matches the file's recipients") as info:
        files.load(path)
    assert "AGE-SECRET-KEY" not in str(info.value)


def test_bad_key_file_reported(tmp_path, monkeypatch, age_pair):
    path = tmp_path / "env.json"
    files.write(path, ENV, age=[age_pair[1]])
    monkeypatch.setenv(constants.ENV_SOPS_AGE_KEY_FILE, str(tmp_path / "missing.txt"))
    with pytest.raises(NoIdentityError, match="cannot read SOPS_AGE_KEY_FILE"):
        files.load(path)


def test_bad_recipient(tmp_path):
    with pytest.raises(SopsConfigError, match="not an age X25519 recipient"):
        files.write(tmp_path / "x.json", ENV, age=["age1nope"])


def test_update_keeps_other_keys_and_data_key(tmp_path, age_env):
    path = tmp_path / "env.json"
    files.write(path, {**ENV, "EXTRA": "keep me", "OTHER": {"n": 1}}, age=[age_env])
    before = json.loads(path.read_text())
    changes = files.update(path, {"AWS_SECRET_ACCESS_KEY": "rotated", "AWS_REGION": "eu-west-1", "NEW": "n"})
    assert changes == {"AWS_SECRET_ACCESS_KEY": "changed", "AWS_REGION": "unchanged", "NEW": "added"}
    after = json.loads(path.read_text())
    assert after["sops"]["age"] == before["sops"]["age"]  # same data key, same stanza
    assert after["EXTRA"] != before["EXTRA"]  # re-encrypted with a fresh IV
    assert after["sops"]["mac"] != before["sops"]["mac"]
    assert files.load(path) == {**ENV, "EXTRA": "keep me", "OTHER": {"n": 1}, "AWS_SECRET_ACCESS_KEY": "rotated",
                                "NEW": "n"}  # fmt: skip


def test_update_without_change_leaves_file_alone(tmp_path, age_env):
    path = tmp_path / "env.json"
    files.write(path, ENV, age=[age_env])
    before = path.read_bytes()
    assert set(files.update(path, ENV).values()) == {"unchanged"}
    assert path.read_bytes() == before


@pytest.mark.parametrize("failure", ["replace", "dumps", "encrypt"])
def test_failed_update_leaves_old_file_byte_identical(tmp_path, age_env, monkeypatch, failure):
    path = tmp_path / "env.json"
    files.write(path, ENV, age=[age_env])
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    target = {"replace": (os, "replace"), "dumps": (gojson, "dumps"), "encrypt": (files, "encrypt_document")}
    monkeypatch.setattr(*target[failure], boom)
    with pytest.raises(OSError, match="disk full"):
        files.update(path, {"AWS_SECRET_ACCESS_KEY": "new"})
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["env.json"]  # no temp file left


def test_write_uses_sops_yaml_rule(tmp_path, monkeypatch, age_env):
    (tmp_path / ".sops.yaml").write_text(f"creation_rules:\n  - path_regex: secrets/.*\\.json$\n    age: {age_env}\n")
    (tmp_path / "secrets").mkdir()
    monkeypatch.chdir(tmp_path / "secrets")  # found by walking up
    files.write("env.json", ENV)
    assert files.load("env.json") == ENV
    with pytest.raises(
        SopsConfigError, match=r"^no SOPS creation rule for other\.json in .*; run python -m runtime secrets init"
    ):
        files.write(tmp_path / "other.json", ENV)
    assert not (tmp_path / "other.json").exists()


def test_plaintext_and_malformed_files(tmp_path, age_env):
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(ENV))
    with pytest.raises(NotSopsFileError, match="not a SOPS file"):
        files.load(plain)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SopsFormatError, match="not valid JSON"):
        files.load(bad)
    with pytest.raises(files.SopsError, match="does not exist"):
        files.load(tmp_path / "missing.json")


def test_tampered_file_mac(tmp_path, age_env):
    path = tmp_path / "env.json"
    files.write(path, {**ENV, "note_unencrypted": "a"}, age=[age_env])
    doc = json.loads(path.read_text())
    doc["note_unencrypted"] = "b"
    path.write_text(gojson.dumps(doc))
    with pytest.raises(MacMismatchError):
        files.load(path)


def test_check_file(tmp_path, age_env):
    good = tmp_path / "good.json"
    files.write(good, ENV, age=[age_env])
    files.check_file(good)
    doc = json.loads(good.read_text())
    doc["AWS_REGION"] = "eu-west-1"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(NotSopsFileError, match=r"AWS_REGION.*plaintext"):
        files.check_file(bad)
    no_recipient = dict(json.loads(good.read_text()))
    del no_recipient["sops"]["age"]
    bad.write_text(json.dumps(no_recipient))
    with pytest.raises(NotSopsFileError, match="no recipient"):
        files.check_file(bad)


def test_credentials_from_sops_cache_and_rotation(tmp_path, age_env, monkeypatch):
    path = tmp_path / "env.json"
    files.write(path, ENV, age=[age_env])
    calls = []
    real_load = files.load
    monkeypatch.setattr(files, "load", lambda p, **kw: calls.append(p) or real_load(p, **kw))
    creds = Credentials.from_sops(path)
    assert creds == Credentials("AKIAIOSFODNN7EXAMPLE", "s3cr3t/value+X", region="eu-west-1")
    assert "s3cr3t" not in repr(creds)
    assert Credentials.from_sops(str(path)) is creds and len(calls) == 1  # cached
    files.update(path, {"AWS_SECRET_ACCESS_KEY": "rotated-secret"})
    rotated = Credentials.from_sops(path)
    assert rotated.secret_access_key == "rotated-secret" and len(calls) == 2


def test_credentials_from_sops_refuses_plaintext(tmp_path):
    path = tmp_path / "env.json"
    path.write_text(json.dumps(ENV))
    with pytest.raises(NotSopsFileError, match="not a SOPS file"):
        Credentials.from_sops(path)


def test_opened_repr_hides_key(tmp_path, age_env):
    path = tmp_path / "env.json"
    files.write(path, ENV, age=[age_env])
    opened = files.open_file(Path(path))
    assert "redacted" in repr(opened) and "s3cr3t" not in repr(opened)
