"""Scalar formatting as Go sops does it (examples from the docstrings, plus edge cases)."""

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from runtime.sops import gojson
from runtime.sops.document import MAC_ONLY_ENCRYPTED_INIT
from runtime.sops.errors import SopsFormatError
from runtime.sops.values import (
    env_string,
    format_float,
    from_bytes,
    is_encrypted,
    parse_encrypted,
    rfc3339,
    to_bytes,
    type_tag,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1.0, "1"), (0.5, "0.5"), (-0.0, "-0"), (1e21, "1000000000000000000000"), (1.5e-07, "0.00000015"),
     (1234.56789, "1234.56789"), (0.1 + 0.2, "0.30000000000000004"), (1e16, "10000000000000000")],
)  # fmt: skip
def test_format_float_is_go_f_minus_one(value, expected):
    assert format_float(value) == expected


@pytest.mark.parametrize(
    ("value", "raw", "tag"),
    [("bar", b"bar", "str"), (42, b"42", "int"), (-7, b"-7", "int"), (2.5, b"2.5", "float"),
     (3.0, b"3", "float"), (True, b"True", "bool"), (False, b"False", "bool"), ("", b"", "str"),
     (2**63, b"9223372036854776000", "float"), ("é", "é".encode(), "str")],
)  # fmt: skip
def test_to_bytes_and_type(value, raw, tag):
    assert to_bytes(value) == raw
    assert type_tag(value) == tag


@pytest.mark.parametrize(
    ("raw", "tag", "expected"),
    [(b"bar", "str", "bar"), (b"-3", "int", -3), (b"1", "float", 1.0), (b"2.5e3", "float", 2500.0),
     (b"True", "bool", True), (b"false", "bool", False), (b"1", "bool", True)],
)  # fmt: skip
def test_from_bytes(raw, tag, expected):
    value = from_bytes(raw, tag, "k")
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(("raw", "tag"), [(b"x", "int"), (b"1.5", "int"), (b"yes", "bool"), (b"1", "bytes"),
                                          (b"1", "time"), (b"1", "weird")])  # fmt: skip
def test_from_bytes_rejects(raw, tag):
    with pytest.raises(SopsFormatError, match=r"type|not a valid"):
        from_bytes(raw, tag, "k")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1.0, "1"), (0.1, "0.1"), (1e20, "100000000000000000000"), (1e21, "1e+21"), (1e-7, "1e-7"),
     (1.5e-7, "1.5e-7"), (-2.5e300, "-2.5e+300"), (0.000001, "0.000001")],
)  # fmt: skip
def test_go_json_float(value, expected):
    assert gojson.go_json_float(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("x", "x"), (3, "3"), (True, "true"), (5.0, "5.0"), (0.25, "0.25"), (1234567.0, "1.234567E+06"),
     (1e-5, "1E-05"), (123456.0, "123456.0")],
)  # fmt: skip
def test_env_string_is_go_valtostring(value, expected):
    assert env_string(value) == expected


def test_go_json_string_escapes_like_go():
    assert gojson.go_json_string('<a>&"\n\u2028é') == '"\\u003ca\\u003e\\u0026\\"\\n\\u2028é"'


def test_rfc3339():
    assert rfc3339(datetime(2026, 5, 22, 20, 16, 18, 999, tzinfo=UTC)) == "2026-05-22T20:16:18Z"
    assert rfc3339(datetime(2026, 1, 1, 1, tzinfo=timezone(timedelta(hours=-5, minutes=-30)))) == (
        "2026-01-01T01:00:00-05:30"
    )


def test_enc_parsing():
    value = "ENC[AES256_GCM,data:YWI=,iv:AAAA,tag:AQID,type:int]"
    assert is_encrypted(value) and not is_encrypted("ENC[") and not is_encrypted(5)
    parts = parse_encrypted(value, "k")
    assert (parts.data, parts.iv, parts.tag, parts.type) == (b"ab", b"\0\0\0", b"\1\2\3", "int")
    with pytest.raises(SopsFormatError, match="not SOPS ciphertext"):
        parse_encrypted("plain", "k")
    with pytest.raises(SopsFormatError, match="base64"):
        parse_encrypted("ENC[AES256_GCM,data:!!,iv:AAAA,tag:AQID,type:int]", "k")


def test_mac_only_encrypted_init_matches_sops_constant():
    # sops.go MACOnlyEncryptedInitialization starts 0x8a 0x3f 0xd2 0xad ... ends 0x7d 0x69
    assert hashlib.sha256(b"sops").digest() == MAC_ONLY_ENCRYPTED_INIT
    assert MAC_ONLY_ENCRYPTED_INIT[:4] == bytes([0x8A, 0x3F, 0xD2, 0xAD])
    assert MAC_ONLY_ENCRYPTED_INIT[-2:] == bytes([0x7D, 0x69])


def test_loads_rules():
    assert gojson.loads('{"a": 1, "b": 1.0, "c": 1e3}') == {"a": 1, "b": 1.0, "c": 1000.0}
    for bad, match in (("[1]", "top level"), ('{"a": NaN}', "NaN"), ('{"a":1,"a":2}', "duplicate"),
                       ("{oops", "not valid JSON"), (b"\xff\xfe", "not")):  # fmt: skip
        with pytest.raises(SopsFormatError, match=match):
            gojson.loads(bad)


def test_import_is_cheap():
    """`import runtime.sops` (and the secrets CLI module) pulls in no heavy dependency."""
    import subprocess
    import sys

    code = (
        "import sys, runtime.sops, runtime.cli.secrets, runtime.credentials.keys; "
        "print(sorted(m for m in ('cryptography', 'pyrage', 'boto3', 'botocore', 'yaml') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "[]\n"


# Inputs that made the old `(.+)`-per-field pattern backtrack for minutes (issue 18, item 11).
CRAFTED_ENC = [
    "ENC[AES256_GCM,data:" + ",iv:,tag:" * 3000 + "]",  # 27 KB, > 60 s before
    "ENC[AES256_GCM,data:" + "A,iv:A,tag:A,type:" * 1560,  # 28 KB, no closing bracket
]


@pytest.mark.parametrize("value", CRAFTED_ENC, ids=["empty-fields", "no-bracket"])
def test_crafted_enc_values_are_rejected_not_backtracked(value):
    assert len(value) > 27_000
    assert not is_encrypted(value)
    with pytest.raises(SopsFormatError, match="not SOPS ciphertext") as caught:
        parse_encrypted(value, "k")
    assert "\n" not in str(caught.value)


def test_enc_fields_stop_at_the_separator():
    # a comma can never be part of a base64 field or a type name
    assert not is_encrypted("ENC[AES256_GCM,data:YW,I=,iv:AAAA,tag:AQID,type:int]")
    assert parse_encrypted("ENC[AES256_GCM,data:YWI=,iv:AAAA,tag:AQID,type:str]", "k").type == "str"
