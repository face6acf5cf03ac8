"""Interop with a file written by Go sops 3.13.1 (fixtures in ../shared/fixtures/sops-go)."""

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from runtime.sops import gojson
from runtime.sops.cipher import decrypt_value
from runtime.sops.document import compute_mac, decrypt_document, encrypt_document
from runtime.sops.errors import MacMismatchError, ValueIntegrityError
from runtime.sops.files import seal

REPO = Path(__file__).resolve().parents[3]
VECTORS = REPO / ".." / "shared" / "fixtures" / "sops-go"
VECTOR = VECTORS / "format.enc.json"
KEY = VECTORS / "sops_functional_tests_key.asc"

pytestmark = [
    # In CI the interop proof must run: there a missing gpg fails the test instead of skipping it.
    pytest.mark.skipif(
        shutil.which("gpg") is None and not os.environ.get("CI"),
        reason="gpg is not installed; cannot open the Go vector",
    ),
    pytest.mark.skipif(not VECTOR.is_file(), reason=f"Go sops vector missing at {VECTOR}"),
]


@pytest.fixture(scope="module")
def data_key() -> bytes:
    """The vector's data key, unwrapped from its PGP stanza by gpg with the public test key."""
    home = tempfile.mkdtemp(prefix="gpg")  # short path: gpg-agent's socket lives in it
    env = {"GNUPGHOME": home, "PATH": "/usr/bin:/bin"}
    try:
        subprocess.run(["gpg", "--batch", "--import", str(KEY)], env=env, check=True, capture_output=True)
        enc = json.loads(VECTOR.read_text())["sops"]["pgp"][0]["enc"]
        out = subprocess.run(
            ["gpg", "--batch", "--pinentry-mode", "loopback", "--decrypt"],
            input=enc.encode(), env=env, check=True, capture_output=True,
        )  # fmt: skip
        return bytes(out.stdout)
    finally:
        subprocess.run(["gpgconf", "--kill", "all"], env=env, check=False, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def vector() -> dict[str, Any]:
    return gojson.loads(VECTOR.read_bytes())


def test_decrypts_and_verifies_go_vector(data_key):
    assert len(data_key) == 32
    assert decrypt_document(vector(), data_key) == {"foo": "bar"}


def test_our_mac_equals_go_mac(data_key):
    doc = vector()
    go_mac = decrypt_value(doc["sops"]["mac"], data_key, doc["sops"]["lastmodified"], "mac")
    assert go_mac == compute_mac({"foo": "bar"})
    assert re.fullmatch(r"[0-9A-F]{128}", go_mac)


def test_tampered_value_fails(data_key):
    doc = vector()
    data = doc["foo"].split("data:")[1].split(",")[0]
    doc["foo"] = doc["foo"].replace(f"data:{data}", "data:" + ("A" + data[1:] if data[0] != "A" else "B" + data[1:]))
    with pytest.raises(ValueIntegrityError, match="foo"):
        decrypt_document(doc, data_key)


def test_value_moved_to_other_key_fails(data_key):
    doc = vector()
    doc["bar"] = doc.pop("foo")
    with pytest.raises(ValueIntegrityError, match="bar"):
        decrypt_document(doc, data_key)


def test_tampered_lastmodified_breaks_mac(data_key):
    doc = vector()
    doc["sops"]["lastmodified"] = "2026-05-22T20:16:19Z"
    with pytest.raises(MacMismatchError):
        decrypt_document(doc, data_key)
    assert decrypt_document(doc, data_key, verify_mac=False) == {"foo": "bar"}


def test_missing_mac_fails(data_key):
    doc = vector()
    del doc["sops"]["mac"]
    with pytest.raises(MacMismatchError, match="no MAC"):
        decrypt_document(doc, data_key)


def test_vector_reemits_byte_identical():
    raw = VECTOR.read_text()
    assert gojson.dumps(gojson.loads(raw)) == raw


def test_our_output_is_structured_like_go(data_key):
    """Same metadata keys (recipients aside), value types, orders and value layout as Go's file."""
    go = vector()
    ours = seal({"foo": "bar"}, data_key, {"pgp": go["sops"]["pgp"]})
    assert list(ours) == list(go) == ["foo", "sops"]
    assert list(ours["sops"]) == list(go["sops"]) == sorted(go["sops"])
    assert {k: type(v) for k, v in ours["sops"].items()} == {k: type(v) for k, v in go["sops"].items()}
    assert ours["sops"]["version"] == go["sops"]["version"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", ours["sops"]["lastmodified"])
    pattern = re.compile(r"ENC\[AES256_GCM,data:([^,]+),iv:([^,]{44}),tag:([^,]{24}),type:str\]")
    for a, b in ((ours["foo"], go["foo"]), (ours["sops"]["mac"], go["sops"]["mac"])):
        ma, mb = pattern.fullmatch(a), pattern.fullmatch(b)
        assert ma and mb and len(ma.group(1)) == len(mb.group(1))
    # indentation, separators and trailing newline as Go writes them
    text = gojson.dumps(ours)
    assert text.startswith('{\n\t"foo": "ENC[') and text.endswith("\n\t}\n}\n")
    assert decrypt_document(gojson.loads(text), data_key) == {"foo": "bar"}


def test_reencrypt_with_vector_key(data_key):
    doc = encrypt_document({"foo": "bar", "n": 1}, data_key)
    assert decrypt_document(doc, data_key) == {"foo": "bar", "n": 1}
