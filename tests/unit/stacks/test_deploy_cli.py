"""`python -m stacks.deploy` / `python -m stacks.rotate` command lines, with the CDK CLI process
replaced by a recorder: --profile reaches the CLI's argv and the app's environment, the outputs
are printed once, rotation's grace period has a safe default."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from stacks import cdk_cli, deployed_keys
from stacks import deploy as deploy_mod
from stacks import rotate as rotate_mod

STACK = "PortkeyBedrockAccess"
OUTPUTS = {"SecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:portkey/bedrock-access-AbCdEf",
           "AccessKeySerial": "2"}  # fmt: skip
REAL_POPEN = subprocess.Popen
CLI_LINES = [
    "✅  PortkeyBedrockAccess\n",
    "Outputs:\n",
    *[f"{STACK}.{key} = {value}\n" for key, value in OUTPUTS.items()],
    "Stack ARN:\n",
    "arn:aws:cloudformation:eu-west-1:123456789012:stack/PortkeyBedrockAccess/x\n",
]


@pytest.fixture
def profile(tmp_path, monkeypatch):
    """An AWS profile `prod` (region eu-west-1) and ambient keys that --profile must replace."""
    config = tmp_path / "config"
    config.write_text("[profile prod]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAAMBIENTEXAMPLE00")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "ambient-secret")
    return "prod"


class FakeCli:
    """Records the CDK CLI's argv and environment; writes the outputs file as the CLI does."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], dict[str, str]]] = []

    def _record(self, cmd, env):
        self.calls.append((list(cmd), dict(env)))
        if "--outputs-file" in cmd:
            Path(cmd[cmd.index("--outputs-file") + 1]).write_text(json.dumps({STACK: OUTPUTS}))

    def run(self, cmd, *, env, stdout=None, **kwargs):
        self._record(cmd, env)
        if isinstance(stdout, int) and stdout >= 0:  # streamed to a file descriptor, as the real CLI would
            os.write(stdout, "".join(CLI_LINES).encode())
            return subprocess.CompletedProcess(cmd, 0)
        return subprocess.CompletedProcess(cmd, 0, stdout="".join(CLI_LINES))

    def popen(self, cmd, *, env, **kwargs):
        self._record(cmd, env)
        return REAL_POPEN(["cat"], stdin=_lines_file(), stdout=subprocess.PIPE, text=True)


def _lines_file():
    import tempfile

    handle = tempfile.TemporaryFile("w+")  # noqa: SIM115 (the fake process's stdin; closed with it)
    handle.write("".join(CLI_LINES))
    handle.seek(0)
    return handle


@pytest.fixture
def fake_cli(monkeypatch):
    cli = FakeCli()
    monkeypatch.setattr(cdk_cli.subprocess, "run", cli.run)
    monkeypatch.setattr(cdk_cli.subprocess, "Popen", cli.popen)
    monkeypatch.setattr(cdk_cli, "cdk_command", lambda: ["cdk"])
    monkeypatch.setattr(deploy_mod, "ensure_bootstrapped", lambda target, quiet=False: False)
    deployed = deployed_keys.Deployed({}, 2, (), "123456789012")
    monkeypatch.setattr(deploy_mod, "read_deployed", lambda target, stack: deployed)
    return cli


def test_deploy_profile_reaches_the_cli_argv_and_the_apps_environment(profile, fake_cli, capsys):
    assert deploy_mod.main(["--profile", profile, "--quiet"]) == 0
    ((cmd, env),) = fake_cli.calls
    assert cmd[cmd.index("--profile") + 1] == "prod"
    assert env["AWS_PROFILE"] == "prod"  # the app's own lookup (app.py) uses it
    assert "AWS_ACCESS_KEY_ID" not in env and "AWS_SECRET_ACCESS_KEY" not in env  # the profile wins
    assert cmd[cmd.index("access_key_serial=2") - 1] == "-c"
    assert "into AWS eu-west-1" in capsys.readouterr().out  # the profile's region


def test_rotate_profile_reaches_the_target(profile, monkeypatch):
    seen = {}
    monkeypatch.setattr(rotate_mod, "rotate", lambda target, stack, **kwargs: seen.update(target=target, **kwargs))
    assert rotate_mod.main(["--profile", profile, "--no-sops"]) == 0
    target = seen["target"]
    assert (target.profile, target.region, target.env["AWS_PROFILE"]) == ("prod", "eu-west-1", "prod")
    cmd, env = cdk_cli.cli_invocation(["deploy"], target)
    assert "--profile" in cmd and env["AWS_PROFILE"] == "prod"


def test_an_unknown_profile_is_one_line_exit_2(profile, capsys):
    assert deploy_mod.main(["--profile", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "AWS profile 'nope'" in err
    assert rotate_mod.main(["--profile", "nope"]) == 2


def test_profile_and_local_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as caught:
        deploy_mod.main(["--profile", "prod", "--local"])
    assert caught.value.code == 2


@pytest.mark.parametrize("quiet", [True, False])
def test_deploy_prints_the_outputs_once(profile, fake_cli, capfd, quiet):
    assert deploy_mod.main(["--profile", profile, *(["--quiet"] if quiet else [])]) == 0
    shown = capfd.readouterr()
    everything = shown.out + shown.err
    assert everything.count(OUTPUTS["SecretArn"]) == 1
    assert f"SecretArn = {OUTPUTS['SecretArn']}" in shown.out
    if not quiet:
        assert "Stack ARN:" in shown.err  # the rest of the CLI's progress still streams


def test_rotate_grace_period_defaults_to_minutes(monkeypatch, capsys):
    import inspect

    assert inspect.signature(rotate_mod.rotate).parameters["grace_seconds"].default == 300.0
    seen = {}
    monkeypatch.setattr(rotate_mod, "rotate", lambda target, stack, **kwargs: seen.update(kwargs))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    assert rotate_mod.main(["--no-sops"]) == 0
    assert seen["grace_seconds"] == rotate_mod.DEFAULT_GRACE_SECONDS == 300.0
    assert rotate_mod.main(["--no-sops", "--grace-seconds", "5"]) == 0
    assert seen["grace_seconds"] == 5.0
    with pytest.raises(SystemExit):
        rotate_mod.main(["--help"])
    assert "default 300" in capsys.readouterr().out


def test_make_rotate_keeps_a_short_grace_for_the_local_demo():
    """`make rotate` as make itself would run it (make -n): a grace well under the real default."""
    repo = Path(__file__).resolve().parents[3]
    planned = subprocess.run(["make", "-n", "--no-print-directory", "rotate"], cwd=repo, capture_output=True, text=True)
    [command] = [line for line in planned.stdout.splitlines() if "-m local.rotate" in line]
    grace = float(command.split("--grace-seconds", 1)[1].split()[0])
    assert 0 < grace <= rotate_mod.DEFAULT_GRACE_SECONDS / 10


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab", ("eu-west-1", "1234abcd-12ab")),
        ("1234abcd-12ab", ("us-east-1", "1234abcd-12ab")),
        ("arn:aws:kms:eu-west-1:111122223333:alias/x", ("us-east-1", "arn:aws:kms:eu-west-1:111122223333:alias/x")),
    ],
)
def test_destroy_schedules_the_key_in_its_own_region(key, expected):
    from stacks.destroy import key_region_and_id

    assert key_region_and_id(key, "us-east-1") == expected


def test_local_without_the_local_tooling_names_the_command(capsys):
    assert deploy_mod.main(["--local"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "run python -m local.deploy" in err


def test_local_uses_the_target_the_local_side_gives():
    given = cdk_cli.Target.for_endpoint("http://localhost:1", "eu-west-1")
    assert deploy_mod.resolve_target(True, None, lambda: given) is given
    assert deploy_mod.resolve_target(False, None, lambda: given) is not given


def test_run_locally_adds_local_and_the_local_target():
    from local import aws

    seen: dict[str, object] = {}

    def fake_main(argv, *, local_target):
        seen.update(argv=argv, local_target=local_target)
        return 7

    assert aws.run_locally(fake_main, ["-c", "a=b"]) == 7
    assert seen == {"argv": ["--local", "-c", "a=b"], "local_target": aws.local_target}


def test_rotate_register_only_remembers_the_file_per_kind_of_target(monkeypatch, tmp_path, capsys):
    registry = tmp_path / "sops-files.json"
    monkeypatch.setattr(rotate_mod, "SOPS_REGISTRY", registry)
    monkeypatch.setattr(rotate_mod, "rotate", lambda *a, **k: pytest.fail("--register must not rotate"))
    local = cdk_cli.Target.for_endpoint("http://localhost:1")
    app_file = tmp_path / "app" / "env.json"
    assert rotate_mod.main(["--local", "--register", str(app_file)], local_target=lambda: local) == 0
    assert f"registered {app_file}" in capsys.readouterr().out
    assert json.loads(registry.read_text()) == {"local": [str(app_file)]}
    assert rotate_mod.registered_sops_files(local) == [app_file]
    assert rotate_mod.registered_sops_files(cdk_cli.Target(env={})) == []  # a real-AWS rotation never pulls it
    app_file.parent.mkdir()
    app_file.write_text("{}")
    pulled, missing = rotate_mod.known_sops_files(local, [app_file], {}, root=tmp_path)
    assert (pulled, missing) == ([app_file], [])  # once, though given and registered
