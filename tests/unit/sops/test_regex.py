"""Rule regexes follow Go sops (RE2): which values are encrypted, and one line for a bad pattern.

Each case fails with Python's ``re`` (the codec's engine before): ``\\w`` matched ``ä``,
``[[:upper:]]`` was a plain character class, ``\\z`` and ``\\pL`` raised ``re.error`` tracebacks.
"""

import json
import secrets

import pytest

from runtime.cli.secrets import main
from runtime.sops import files, gojson
from runtime.sops.document import decrypt_document, encrypt_document
from runtime.sops.errors import SopsConfigError, SopsFormatError
from runtime.sops.regex import compile_pattern, search
from runtime.sops.values import is_encrypted

KEY = secrets.token_bytes(32)


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        (r"^\w+$", "password", True),
        (r"^\w+$", "pässwort", False),  # RE2 \w is ASCII; Python re says True
        (r"\d", "٣", False),  # Arabic-Indic digit: ASCII \d in RE2
        (r"[[:upper:]]", "Token", True),
        (r"[[:upper:]]", "token", False),
        (r"_plain\z", "host_plain", True),
        (r"_plain\z", "host_plain_x", False),
        (r"^\pL+$", "pässwort", True),
        (r"^\pL+$", "pass1", False),
    ],
)
def test_re2_semantics(pattern, text, expected):
    assert search(pattern, text, "encrypted_regex") is expected


def _which_encrypted(doc):
    return sorted(k for k, v in doc.items() if k != "sops" and is_encrypted(v))


@pytest.mark.parametrize(
    ("rule", "encrypted"),
    [
        ({"encrypted_regex": r"^\w+$"}, ["Token", "host_plain", "password", "token"]),  # pässwort in clear, as in Go
        ({"encrypted_regex": r"^[[:upper:]]"}, ["Token"]),
        ({"unencrypted_regex": r"_plain\z"}, ["Token", "password", "pässwort", "token"]),
        ({"encrypted_regex": r"^\pL+$"}, ["Token", "password", "pässwort", "token"]),
    ],
)
def test_documents_encrypt_what_go_encrypts_and_round_trip(rule, encrypted):
    plain = {"password": "a", "pässwort": "b", "Token": "c", "token": "d", "host_plain": "e"}
    doc = encrypt_document(plain, KEY, unencrypted_suffix=None, **rule)
    assert _which_encrypted(doc) == sorted(encrypted)
    assert decrypt_document(json.loads(gojson.dumps(doc)), KEY) == plain


def test_bad_pattern_is_one_line_not_a_traceback():
    with pytest.raises(SopsFormatError, match=r"^encrypted_regex '\(\?<=a\)b' is not a valid RE2 \(Go\) regular"):
        encrypt_document({"a": "b"}, KEY, unencrypted_suffix=None, encrypted_regex="(?<=a)b")
    with pytest.raises(SopsConfigError, match=r"^path_regex '\(' is not a valid RE2"):
        compile_pattern("(", "path_regex")


@pytest.fixture
def go_style_file(tmp_path, age_env):
    """A file whose metadata uses RE2-only syntax (as Go sops writes for such a rule)."""
    path = tmp_path / "env.json"
    files.write(path, {"host_plain": "h", "api_key": "k"}, age=[age_env], crypt={"unencrypted_regex": r"_plain\z"})
    return path


def test_decrypt_and_check_accept_re2_syntax_in_metadata(capsys, go_style_file):
    doc = json.loads(go_style_file.read_text())
    assert doc["host_plain"] == "h" and is_encrypted(doc["api_key"])
    assert main(["decrypt", str(go_style_file)]) == 0
    assert json.loads(capsys.readouterr().out) == {"host_plain": "h", "api_key": "k"}
    assert main(["check", str(go_style_file)]) == 0


@pytest.mark.parametrize("command", ["decrypt", "check"])
def test_invalid_metadata_pattern_is_one_line_exit_2(capsys, go_style_file, command):
    doc = json.loads(go_style_file.read_text())
    doc["sops"]["unencrypted_regex"] = r"(\1"
    go_style_file.write_text(gojson.dumps(doc))
    assert main([command, str(go_style_file)]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "sops.unencrypted_regex" in lines[0] and "Traceback" not in err


def test_invalid_sops_yaml_pattern_is_one_line(capsys, tmp_path, monkeypatch, age_pair):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".sops.yaml").write_text(f"creation_rules:\n  - path_regex: '[[:nope:]]'\n    age: {age_pair[1]}\n")
    with pytest.raises(SopsConfigError, match=r"path_regex '\[\[:nope:\]\]' is not a valid RE2"):
        files.write(tmp_path / "secrets" / "env.json", {"a": "b"})
