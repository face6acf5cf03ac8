"""`secrets` commands without AWS: init, decrypt, exec-env, check, keygen, error lines."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from runtime import constants
from runtime.cli.secrets import main
from runtime.sops import files

REPO = Path(__file__).resolve().parents[3]
ENV = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "tOpS3cret/xyz", "AWS_REGION": "us-west-2"}
SECRET = ENV["AWS_SECRET_ACCESS_KEY"]


@pytest.fixture
def env_file(tmp_path, age_env):
    path = tmp_path / "env.json"
    files.write(path, ENV, age=[age_env])
    return path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_decrypt_json_and_dotenv(capsys, env_file):
    code, out, _ = run(capsys, "decrypt", str(env_file))
    assert code == 0 and json.loads(out) == ENV and out.startswith('{\n\t"AWS_ACCESS_KEY_ID"')
    code, out, _ = run(capsys, "decrypt", str(env_file), "--output-type", "dotenv")
    assert code == 0 and out.splitlines() == [f"{k}={v}" for k, v in ENV.items()]


def test_exec_env_passes_values_and_exit_code(capsys, env_file, tmp_path):
    script = "import os,sys; open(sys.argv[1],'w').write(os.environ['AWS_REGION']); sys.exit(7)"
    marker = tmp_path / "out.txt"
    code = main(["exec-env", str(env_file), "--", sys.executable, "-c", script, str(marker)])
    assert code == 7 and marker.read_text() == "us-west-2"
    code, _, err = run(capsys, "exec-env", str(env_file), "--", "definitely-not-a-command-xyz")
    assert code == 127 and "command not found" in err


def test_exec_env_refuses_nested(capsys, tmp_path, age_env):
    path = tmp_path / "n.json"
    files.write(path, {"A": {"b": "c"}}, age=[age_env])
    code, _, err = run(capsys, "exec-env", str(path), "--", "true")
    assert code == 2 and "nested value of 'A'" in err


def test_check_flags_plaintext(capsys, tmp_path, monkeypatch, env_file):
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "env.json").write_text(env_file.read_text())
    (secrets / "env.example.json").write_text(json.dumps(ENV))  # skipped
    (secrets / "README.md").write_text("# docs")  # skipped
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "check")
    assert code == 0 and "checked 1 file(s): 1 valid SOPS, 0 not" in out and err == ""
    (secrets / "leak.json").write_text(json.dumps(ENV))
    (secrets / ".env").write_text(f"AWS_SECRET_ACCESS_KEY={SECRET}\n")
    code, out, err = run(capsys, "check")
    assert code == 2 and "2 not" in out
    assert "leak.json" in err and ".env" in err and len(err.strip().splitlines()) == 2
    assert SECRET not in out + err
    code, _, err = run(capsys, "check", str(secrets / "leak.json"))
    assert code == 2 and "not a SOPS file" in err


def test_check_repo_secrets_dir(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    code, out, _ = run(capsys, "check")
    assert code == 0, out


def test_init_writes_rule(capsys, tmp_path, monkeypatch, age_pair):
    monkeypatch.chdir(tmp_path)
    arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    code, out, _ = run(capsys, "init", "--kms-arn", arn)
    assert code == 0 and "added the creation rule" in out
    code, out, _ = run(capsys, "init", "--age", age_pair[1])  # the KMS recipient is kept, and said so
    assert code == 0 and "updated" in out and f"kept the rule's earlier recipient(s) {arn}; pass --replace" in out
    from runtime.sops.config import rule_for

    rule = rule_for(tmp_path / "secrets" / "env.json")
    assert rule.age == (age_pair[1],) and [k.arn for k in rule.kms] == [arn]
    code, out, _ = run(capsys, "init", "--age", age_pair[1], "--replace")
    assert code == 0 and "dropped" in out and rule_for(tmp_path / "secrets" / "env.json").kms == ()


def test_init_refuses_a_kms_arn_in_no_region(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _out, err = run(
        capsys, "init", "--kms-arn", "arn:aws:kms:mars-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    assert code == 2 and err.count("\n") == 1 and "region 'mars-1' is not an AWS region" in err
    assert not (tmp_path / ".sops.yaml").exists()


def test_age_key_file_of_another_format_is_one_short_line(capsys, env_file, tmp_path, monkeypatch):
    not_keys = tmp_path / "env.plain.json"
    not_keys.write_text(json.dumps({f"KEY_{i}": "x" * 40 for i in range(200)}, indent=2))
    monkeypatch.setenv(constants.ENV_SOPS_AGE_KEY_FILE, str(not_keys))
    monkeypatch.delenv(constants.ENV_SOPS_AGE_KEY)
    code, out, err = run(capsys, "decrypt", str(env_file))
    assert code == 2 and out == "" and err.count("\n") == 1 and len(err) < 400
    assert "is not an age keys file" in err and "xxxx" not in err


def test_keygen(capsys, tmp_path, monkeypatch):
    target = tmp_path / "id" / "keys.txt"
    code, out, _ = run(capsys, "keygen", "--output", str(target))
    assert code == 0 and "public key: age1" in out and "AGE-SECRET-KEY" not in out
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    recipient = out.split("public key: ")[1].strip()
    path = tmp_path / "x.json"
    files.write(path, {"a": "b"}, age=[recipient])
    monkeypatch.setenv(constants.ENV_SOPS_AGE_KEY_FILE, str(target))
    assert files.load(path) == {"a": "b"}
    code, _, err = run(capsys, "keygen", "--output", str(target))
    assert code == 2 and "already exists" in err


@pytest.mark.parametrize(
    ("setup", "argv", "message"),
    [("plain", ["decrypt", "F"], "not a SOPS file"),
     ("malformed", ["decrypt", "F"], "not valid JSON"),
     ("tampered", ["decrypt", "F"], "failed authentication"),
     ("mac", ["decrypt", "F"], "MAC"),
     ("nomac", ["decrypt", "F"], "no MAC"),
     ("type", ["decrypt", "F"], "unknown type:blob"),
     ("noid", ["decrypt", "F"], "no age identity available"),
     ("wrongid", ["decrypt", "F"], "matches the file's recipients"),
     ("good", ["bogus"], "invalid choice"),
     ("good", ["init", "--age", "age1bad"], "not an age X25519 recipient")],
)  # fmt: skip
def test_errors_are_one_line_exit_2(capsys, tmp_path, monkeypatch, age_pair, setup, argv, message):
    path = tmp_path / "env.json"
    files.write(path, {**ENV, "note_unencrypted": "n"}, age=[age_pair[1]])
    monkeypatch.setenv(constants.ENV_SOPS_AGE_KEY, age_pair[0])
    doc = json.loads(path.read_text())
    if setup == "plain":
        path.write_text(json.dumps(ENV))
    elif setup == "malformed":
        path.write_text("{")
    elif setup == "tampered":
        doc["AWS_REGION"] = doc["AWS_ACCESS_KEY_ID"]
        path.write_text(json.dumps(doc))
    elif setup == "mac":
        doc["note_unencrypted"] = "changed"
        path.write_text(json.dumps(doc))
    elif setup == "nomac":
        del doc["sops"]["mac"]
        path.write_text(json.dumps(doc))
    elif setup == "type":
        doc["AWS_REGION"] = doc["AWS_REGION"].replace("type:str", "type:blob")
        path.write_text(json.dumps(doc))
    elif setup == "noid":
        monkeypatch.delenv(constants.ENV_SOPS_AGE_KEY)
    elif setup == "wrongid":
        from runtime.sops.age import generate_identity

        monkeypatch.setenv(constants.ENV_SOPS_AGE_KEY, generate_identity()[0])
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *[str(path) if a == "F" else a for a in argv])
    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err
    for value in (*ENV.values(), age_pair[0]):
        assert value not in err


def test_runs_as_python_c(env_file, age_pair):
    env = {"PATH": "/usr/bin:/bin", constants.ENV_SOPS_AGE_KEY: age_pair[0], "HOME": str(env_file.parent)}
    code = "import sys; from runtime.cli.secrets import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run([sys.executable, "-c", code, "decrypt", str(env_file), "--output-type", "dotenv"],
                          cwd=REPO, env=env, capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0 and f"AWS_SECRET_ACCESS_KEY={SECRET}" in done.stdout
    done = subprocess.run([sys.executable, "-c", code, "decrypt", "/nonexistent.json"],
                          cwd=REPO, env=env, capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1


# --- keygen file modes and symlinked SOPS files (issue 18, items 12 and 13) ---------------------


@pytest.mark.parametrize("old_mode", [0o644, 0o666])
def test_keygen_force_writes_the_identity_0600(capsys, tmp_path, old_mode):
    path = tmp_path / "keys.txt"
    path.write_text("old")
    path.chmod(old_mode)
    code, out, _ = run(capsys, "keygen", "--output", str(path), "--force")
    assert code == 0 and "public key: age1" in out
    assert path.stat().st_mode & 0o777 == 0o600 and "AGE-SECRET-KEY-1" in path.read_text()


def test_keygen_force_through_a_symlink_never_takes_the_targets_mode(capsys, tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("old")
    real.chmod(0o666)
    link = tmp_path / "keys.txt"
    link.symlink_to(real)
    code, _, _ = run(capsys, "keygen", "--output", str(link), "--force")
    assert code == 0 and link.is_symlink()
    assert real.stat().st_mode & 0o777 == 0o600 and "AGE-SECRET-KEY-1" in real.read_text()


def test_keygen_creates_missing_parents_0700(capsys, tmp_path):
    path = tmp_path / "new" / "sops" / "age" / "keys.txt"
    code, _, _ = run(capsys, "keygen", "--output", str(path))
    assert code == 0 and path.stat().st_mode & 0o777 == 0o600
    assert {d.stat().st_mode & 0o777 for d in path.parents if tmp_path in d.parents} == {0o700}


def test_keygen_without_force_keeps_the_file(capsys, tmp_path):
    path = tmp_path / "keys.txt"
    path.write_text("old")
    code, _, err = run(capsys, "keygen", "--output", str(path))
    assert code == 2 and "pass --force" in err and path.read_text() == "old"


def test_a_symlinked_sops_file_is_written_through_to_the_real_file(tmp_path, monkeypatch, age_env, age_pair):
    # the creation rule covers only the real location: it must be matched on the resolved path
    (tmp_path / ".sops.yaml").write_text(f"creation_rules:\n  - path_regex: ^vault/.*\\.json$\n    age: {age_env}\n")
    real = tmp_path / "vault" / "env.json"
    real.parent.mkdir()
    link = tmp_path / "env.json"
    link.symlink_to(real)
    monkeypatch.chdir(tmp_path)
    files.write(link, {"A": "1"})
    assert link.is_symlink() and files.load(real) == {"A": "1"}
    assert files.update(link, {"A": "2"}) == {"A": "changed"}
    assert link.is_symlink() and files.load(real) == {"A": "2"}
    assert real.stat().st_mode & 0o777 == 0o600
