"""encrypt_document / decrypt_document: round trips, rules, MAC, tampering."""

import copy
import hashlib
import os

import pytest

from runtime.sops import gojson
from runtime.sops.document import compute_mac, decrypt_document, encrypt_document
from runtime.sops.errors import MacMismatchError, NotSopsFileError, SopsFormatError, ValueIntegrityError
from runtime.sops.values import is_encrypted, parse_encrypted

KEY = bytes(range(32))
NESTED = {
    "s": "hello",
    "i": 42,
    "neg": -1,
    "f": 2.5,
    "whole_float": 3.0,
    "t": True,
    "b": False,
    "empty": "",
    "nothing": None,
    "list": ["a", 1, [2, "b"], {"deep": "x"}, [], {}],
    "map": {"inner": {"k": "v", "n": 0}},
    "api_unencrypted": "visible",
    "cfg_unencrypted": {"port": 8080, "hosts": ["h1"]},
    "unicode": "é ✓ <&>",
}


def test_round_trip_nested_typed():
    doc = encrypt_document(NESTED, KEY)
    plain = decrypt_document(doc, KEY)
    assert plain == NESTED
    assert type(plain["whole_float"]) is float and type(plain["i"]) is int and type(plain["t"]) is bool


def test_round_trip_through_json_text():
    text = gojson.dumps(encrypt_document(NESTED, KEY))
    assert decrypt_document(gojson.loads(text), KEY) == NESTED


def test_encrypted_layout():
    doc = encrypt_document(NESTED, KEY)
    assert doc["empty"] == "" and doc["nothing"] is None
    assert doc["api_unencrypted"] == "visible"
    assert doc["cfg_unencrypted"] == {"port": 8080, "hosts": ["h1"]}
    assert doc["list"][4] == [] and doc["list"][5] == {}
    for value, tag in ((doc["s"], "str"), (doc["i"], "int"), (doc["f"], "float"), (doc["t"], "bool"),
                       (doc["list"][2][0], "int"), (doc["map"]["inner"]["k"], "str")):  # fmt: skip
        parts = parse_encrypted(value, "x")
        assert parts.type == tag and len(parts.iv) == 32 and len(parts.tag) == 16
    assert "secret" not in str(doc)
    assert list(doc["sops"]) == ["lastmodified", "mac", "unencrypted_suffix", "version"]
    assert doc["sops"]["unencrypted_suffix"] == "_unencrypted"


def test_aad_is_path_and_list_items_add_nothing():
    """A list item is encrypted with the AAD of its parent key path."""
    from runtime.sops.cipher import decrypt_value

    doc = encrypt_document({"a": {"b": ["x", ["y"]]}}, KEY)
    assert decrypt_value(doc["a"]["b"][0], KEY, "a:b:", "") == "x"
    assert decrypt_value(doc["a"]["b"][1][0], KEY, "a:b:", "") == "y"
    with pytest.raises(ValueIntegrityError):
        decrypt_value(doc["a"]["b"][0], KEY, "a:b:0:", "")


def test_mac_is_sha512_of_leaves_in_order():
    plain = {"a": "x", "b": [1, True, 2.5], "c": {"d": False}, "e": None, "f": ""}
    expected = hashlib.sha512(b"x1True2.5False").hexdigest().upper()
    assert compute_mac(plain) == expected
    doc = encrypt_document(plain, KEY)
    from runtime.sops.cipher import decrypt_value

    assert decrypt_value(doc["sops"]["mac"], KEY, doc["sops"]["lastmodified"], "") == expected


def test_mac_only_encrypted():
    plain = {"a": "x", "b_unencrypted": "y"}
    doc = encrypt_document(plain, KEY, mac_only_encrypted=True)
    assert doc["sops"]["mac_only_encrypted"] is True
    assert decrypt_document(doc, KEY) == plain
    # the clear value is outside the MAC, so changing it is not detected (sops semantics) ...
    changed = copy.deepcopy(doc)
    changed["b_unencrypted"] = "z"
    assert decrypt_document(changed, KEY)["b_unencrypted"] == "z"
    # ... while without mac_only_encrypted it is.
    full = encrypt_document(plain, KEY)
    full["b_unencrypted"] = "z"
    with pytest.raises(MacMismatchError):
        decrypt_document(full, KEY)


@pytest.mark.parametrize(
    ("kwargs", "encrypted", "clear"),
    [({"encrypted_regex": "^pass"}, ["password"], ["user"]),
     ({"unencrypted_regex": "^user"}, ["password"], ["user"]),
     ({"encrypted_suffix": "word"}, ["password"], ["user"])],
)  # fmt: skip
def test_other_rules(kwargs, encrypted, clear):
    plain = {"password": "p", "user": "u"}
    doc = encrypt_document(plain, KEY, **kwargs)
    assert all(is_encrypted(doc[k]) for k in encrypted)
    assert all(doc[k] == plain[k] for k in clear)
    assert "unencrypted_suffix" not in doc["sops"]
    assert decrypt_document(doc, KEY) == plain


def test_two_rules_refused():
    with pytest.raises(SopsFormatError, match="only one"):
        encrypt_document({"a": "b"}, KEY, encrypted_regex="a", unencrypted_regex="b")


def test_reencrypt_same_key_keeps_others():
    doc = encrypt_document({"a": "1", "b": "2"}, KEY)
    plain = decrypt_document(doc, KEY)
    plain["a"] = "changed"
    again = encrypt_document(plain, KEY)
    assert decrypt_document(again, KEY) == {"a": "changed", "b": "2"}
    assert again["b"] != doc["b"]  # fresh IV for every value


@pytest.mark.parametrize("where", ["s", "i", "t"])
def test_tampered_value_detected(where):
    doc = encrypt_document(NESTED, KEY)
    parts = parse_encrypted(doc[where], where)
    flipped = bytes([parts.data[0] ^ 1]) + parts.data[1:]
    doc[where] = doc[where].replace(
        "data:" + __import__("base64").b64encode(parts.data).decode(),
        "data:" + __import__("base64").b64encode(flipped).decode(),
    )
    with pytest.raises(ValueIntegrityError, match=where):
        decrypt_document(doc, KEY)


def test_swapped_values_detected():
    doc = encrypt_document({"a": "1", "b": "2"}, KEY)
    doc["a"], doc["b"] = doc["b"], doc["a"]
    with pytest.raises(ValueIntegrityError):
        decrypt_document(doc, KEY)


def test_removed_or_added_value_breaks_mac():
    doc = encrypt_document({"a": "1", "b": "2"}, KEY)
    removed = copy.deepcopy(doc)
    del removed["b"]
    with pytest.raises(MacMismatchError, match="MAC mismatch"):
        decrypt_document(removed, KEY)
    added = copy.deepcopy(doc)
    added["c_unencrypted"] = "new"
    with pytest.raises(MacMismatchError):
        decrypt_document(added, KEY)


def test_wrong_data_key():
    doc = encrypt_document({"a": "1"}, KEY)
    with pytest.raises(ValueIntegrityError):
        decrypt_document(doc, os.urandom(32))


def test_tampered_mac():
    doc = encrypt_document({"a": "1"}, KEY)
    doc["sops"]["mac"] = encrypt_document({"a": "2"}, KEY)["sops"]["mac"]
    with pytest.raises(MacMismatchError):
        decrypt_document(doc, KEY)


def test_unknown_type_refused():
    doc = encrypt_document({"a": "1"}, KEY)
    doc["a"] = doc["a"].replace("type:str", "type:blob")
    with pytest.raises(SopsFormatError, match="unknown type:blob"):
        decrypt_document(doc, KEY)


def test_plaintext_value_in_encrypted_file():
    doc = encrypt_document({"a": "1", "n": 1}, KEY)
    doc["a"] = "plain"
    with pytest.raises(SopsFormatError, match="not SOPS ciphertext"):
        decrypt_document(doc, KEY)
    doc = encrypt_document({"a": "1", "n": 1}, KEY)
    doc["n"] = 1
    with pytest.raises(SopsFormatError, match="bare int"):
        decrypt_document(doc, KEY)


def test_plaintext_document():
    with pytest.raises(NotSopsFileError, match="not a SOPS file"):
        decrypt_document({"a": "1"}, KEY)
    with pytest.raises(NotSopsFileError):
        decrypt_document({"a": "1", "sops": "x"}, KEY)


def test_bad_inputs_to_encrypt():
    with pytest.raises(SopsFormatError, match="reserved"):
        encrypt_document({"sops": 1}, KEY)
    with pytest.raises(SopsFormatError, match="non-finite"):
        encrypt_document({"a": float("nan")}, KEY)
    with pytest.raises(SopsFormatError, match="unsupported type"):
        encrypt_document({"a": b"bytes"}, KEY)
    with pytest.raises(SopsFormatError, match="32 bytes"):
        encrypt_document({"a": "x"}, b"short")
