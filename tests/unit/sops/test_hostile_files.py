"""Crafted SOPS files (issue 18, items 11 and 14): each is one line, exit 2, and the project's own
error type from the Python API; never a traceback, a foreign exception or a hang."""

import json
import sys

import pytest

from runtime import constants
from runtime.cli.secrets import main
from runtime.credentials.keys import Credentials
from runtime.errors import PortkeyBedrockError
from runtime.sops import files
from runtime.sops.errors import SopsFormatError

ENV = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "tOpS3cret/xyz", "AWS_REGION": "us-west-2"}


def _non_ascii_armor(doc):
    enc = doc["sops"]["age"][0]["enc"]
    lines = enc.split("\n")
    lines[1] = "é" + lines[1][1:]  # same length, so only the character is wrong
    doc["sops"]["age"][0]["enc"] = "\n".join(lines)


def _deep(doc):
    doc["AWS_REGION"] = json.loads("[" * 5000 + "]" * 5000)


def _huge_int(doc):
    doc["AWS_REGION"] = "__HUGE__"


def _crafted_enc(doc):
    doc["AWS_REGION"] = "ENC[AES256_GCM,data:" + ",iv:,tag:" * 3000 + "]"


HOSTILE = {
    "crafted-enc": (_crafted_enc, "not SOPS ciphertext"),
    "deep": (_deep, "nests deeper than 100 levels"),
    "huge-int": (_huge_int, "5000-digit number"),
    "non-ascii-armor": (_non_ascii_armor, "not an armored age file"),
}


@pytest.fixture
def hostile(request, tmp_path, monkeypatch, age_pair):
    path = tmp_path / "env.json"
    files.write(path, ENV, age=[age_pair[1]])
    monkeypatch.setenv(constants.ENV_SOPS_AGE_KEY, age_pair[0])
    spoil, message = HOSTILE[request.param]
    doc = json.loads(path.read_text())
    spoil(doc)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))  # so json.dumps can write the deep one
    text = json.dumps(doc).replace('"__HUGE__"', "9" * 5000)
    path.write_text(text)
    return path, message


@pytest.mark.parametrize("hostile", sorted(HOSTILE), indirect=True)
@pytest.mark.parametrize("command", ["decrypt", "check"])
def test_cli_answers_one_line_exit_2(capsys, hostile, command):
    path, message = hostile
    code = main([command, str(path)])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    if command == "decrypt" or "ciphertext" not in message:  # check calls it plaintext
        assert message in err
    assert ENV["AWS_SECRET_ACCESS_KEY"] not in out + err


@pytest.mark.parametrize("hostile", sorted(HOSTILE), indirect=True)
def test_python_api_raises_the_projects_own_error(hostile):
    path, message = hostile
    with pytest.raises(SopsFormatError, match=message):
        files.load(path)
    with pytest.raises(PortkeyBedrockError):
        Credentials.from_sops(path)


@pytest.mark.parametrize(
    ("plain", "message"),
    [({"A\0B": "x"}, "'A\\x00B' (empty, or holds '=' or NUL)"),
     ({"A": "x\0y"}, "the value of 'A' holds a NUL byte")],
)  # fmt: skip
def test_exec_env_refuses_nul_in_one_line(capsys, tmp_path, age_env, plain, message):
    path = tmp_path / "env.json"
    files.write(path, plain, age=[age_env])
    code = main(["exec-env", str(path), "--", sys.executable, "-c", "pass"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err
    assert "x\0y" not in err


def test_a_good_file_still_decrypts(tmp_path, age_env):
    path = tmp_path / "env.json"
    files.write(path, {**ENV, "n": 12345678901234567890, "deep": [[[["ok"]]]]}, age=[age_env])
    assert files.load(path) == {**ENV, "n": 1.2345678901234567e19, "deep": [[[["ok"]]]]}


def test_writing_deeply_nested_values_is_one_error_too(tmp_path, age_env):
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(SopsFormatError, match="nest deeper than 100 levels"):
        files.write(tmp_path / "env.json", {"A": deep}, age=[age_env])
    assert not (tmp_path / "env.json").exists()
