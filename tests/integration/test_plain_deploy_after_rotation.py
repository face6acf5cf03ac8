"""Issue 11, blocker 1: after `python -m stacks.rotate`, a plain `npx cdk deploy` (typed exactly
as the README shows, with only local AWS's endpoint, region and credentials in the environment)
keeps the rotated key: the SOPS file pulled during the rotation still works, `doctor --live`
passes through the real gateway and the Bedrock double. The failing case proves the test would
catch the old behaviour: the same deploy with the serial forced back (`-c access_key_serial=1`,
what cdk.json's old default did) swaps the key and every client breaks.

Each test reads the serial it starts from, so the order of tests (here and in
test_deploy_and_rotate.py, which shares the session's local AWS) does not matter.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.aws import LocalAws, local_target
from runtime import constants as c
from stacks import deploy as deploy_mod
from stacks import rotate as rotate_mod
from stacks.cdk_cli import REPO_ROOT, Target
from tests.integration.helpers import active_key_ids, secret_json
from tests.support.deployers import applied, seed_bootstrap, synth_deployer

pytestmark = pytest.mark.integration
STACK = c.DEFAULT_STACK_NAME


def plain_env(target: Target, **extra: str) -> dict[str, str]:
    """What a user's shell has after `eval "$(python -m local.aws env)"`: PATH, HOME and the
    local AWS variables; no CDK_*, no context, nothing of this test process."""
    env = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
    env.update({name: value for name, value in target.env.items() if name.startswith("AWS_")})
    return {**env, **extra}


def npx_cdk_deploy(target: Target, *extra: str) -> subprocess.CompletedProcess[str]:
    """`npx cdk deploy --require-approval never`, as the README says, from the repo root."""
    done = subprocess.run(
        ["npx", "cdk", "deploy", "--require-approval", "never", *extra],
        cwd=REPO_ROOT,
        env=plain_env(target),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-2000:]
    return done


def snapshot(target: Target) -> tuple[int, list[str], str]:
    """(serial, active key ids, the secret's key id) of the deployed stack."""
    found = deploy_mod.read_deployed(target, STACK)
    assert found is not None and found.active_serial is not None
    value = secret_json(target.client("secretsmanager"), found.outputs[c.OUTPUT_SECRET_ARN])
    keys = active_key_ids(target.client("iam"), found.outputs[c.OUTPUT_USER_NAME])
    return found.active_serial, keys, value[c.ENV_AWS_ACCESS_KEY_ID]


def identity_of(target: Target, sops_file: Path) -> str:
    """The ARN STS names for the key in the SOPS file (moto: `user/moto` for an unknown key)."""
    import boto3

    from runtime.sops import files

    value = files.load(sops_file)
    sts = boto3.Session(
        aws_access_key_id=value[c.ENV_AWS_ACCESS_KEY_ID],
        aws_secret_access_key=value[c.ENV_AWS_SECRET_ACCESS_KEY],
        region_name=value[c.ENV_AWS_REGION],
    ).client("sts", endpoint_url=target.endpoint)
    return str(sts.get_caller_identity()["Arn"])


@pytest.fixture(scope="module")
def stack(bootstrapped: Target) -> Target:
    """The stack deployed unless another test module already did."""
    if deploy_mod.read_deployed(bootstrapped, STACK) is None:
        deploy_mod.deploy(bootstrapped, STACK, deployer=synth_deployer(), bootstrap=False)
    return bootstrapped


@pytest.fixture
def age_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """A fresh age identity in the environment and a .sops.yaml for it; (config, identity)."""
    from runtime.sops.age import generate_identity

    identity, recipient = generate_identity()
    monkeypatch.setenv(c.ENV_SOPS_AGE_KEY, identity)
    monkeypatch.setenv(c.ENV_XDG_CONFIG_HOME, str(tmp_path / "cfg"))
    config = tmp_path / ".sops.yaml"
    config.write_text(f"creation_rules:\n  - path_regex: .*\\.json$\n    age: {recipient}\n")
    return config, identity


def pull(target: Target, path: Path, config: Path) -> Path:
    from runtime.cli.secrets import main as secrets_main

    with applied(target):
        assert secrets_main(["pull", "--stack", STACK, "--file", str(path), "--config", str(config)]) == 0
    return path


def doctor_live(target: Target, sops_file: Path, identity: str, gateway: object, bedrock_url: str) -> int:
    """`python -m runtime doctor --live` with the SOPS file: STS + one chat per model through the
    real gateway to the Bedrock double (which checks the signature against the key in moto)."""
    cmd = [sys.executable, "-m", "runtime", "doctor", "--sops", str(sops_file), "--live"]
    cmd += ["--gateway-url", gateway.base_url, "--custom-host", bedrock_url]  # type: ignore[attr-defined]
    env = plain_env(target, **{c.ENV_SOPS_AGE_KEY: identity, "PYTHONPATH": str(REPO_ROOT)})
    done = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)
    return done.returncode


def test_plain_cdk_deploy_after_stacks_rotate_keeps_the_rotated_key(stack, age_env, tmp_path, gateway, local_aws):
    target = stack
    config, identity = age_env
    sops_file = pull(target, tmp_path / "secrets" / "env.json", config)
    serial, _, _ = snapshot(target)

    # the rotation `python -m stacks.rotate` runs, with the synth deployer: the CLI's rotation is
    # proved by the README flow (tests/e2e/test_readme_app.py), the plain deploy after it is proved here
    with applied(target):
        rotate_mod.rotate(
            target, STACK, grace_seconds=0, sops_files=[sops_file], require_sops=True, deployer=synth_deployer()
        )
    rotated = snapshot(target)
    assert rotated[0] == serial + 1 and rotated[1] == [rotated[2]]  # old key gone, secret on the new one

    npx_cdk_deploy(target)

    assert snapshot(target) == rotated  # same serial, same single key, the secret still on it
    user_arn = deploy_mod.read_deployed(target, STACK).outputs[c.OUTPUT_USER_ARN]  # type: ignore[union-attr]
    assert identity_of(target, sops_file) == user_arn  # the file pulled during rotation still works
    assert doctor_live(target, sops_file, identity, gateway, local_aws.state.bedrock_url) == 0


@pytest.fixture(scope="module")
def private_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Target, LocalAws]]:
    """A private local AWS with the stack at serial 2: the forced swap below leaves moto's IAM in a
    state (a key the secret names but IAM no longer has) that later updates cannot repair."""
    with LocalAws(state_dir=tmp_path_factory.mktemp("swap-aws")) as aws:
        target = local_target(aws)
        seed_bootstrap(target)
        deploy_mod.deploy(target, STACK, deployer=synth_deployer(), bootstrap=False)
        rotate_mod.rotate(target, STACK, grace_seconds=0, deployer=synth_deployer(), log=lambda _: None)
        yield target, aws


def test_the_same_deploy_with_the_serial_forced_back_swaps_the_key(private_stack, age_env, tmp_path, gateway):
    """What `npx cdk deploy` did before (cdk.json's access_key_serial=1 beat the deployed 2)."""
    target, aws = private_stack
    config, identity = age_env
    serial, _, key_before = snapshot(target)
    assert serial == 2
    sops_file = pull(target, tmp_path / "env.json", config)
    user_arn = deploy_mod.read_deployed(target, STACK).outputs[c.OUTPUT_USER_ARN]  # type: ignore[union-attr]
    assert identity_of(target, sops_file) == user_arn
    assert doctor_live(target, sops_file, identity, gateway, aws.state.bedrock_url) == 0  # works before

    npx_cdk_deploy(target, "-c", "access_key_serial=1")

    after_serial, keys, key_after = snapshot(target)
    assert after_serial == 1 and key_after != key_before and key_before not in keys  # the live key deleted
    assert identity_of(target, sops_file) != user_arn  # every client holding the file is broken
    assert doctor_live(target, sops_file, identity, gateway, aws.state.bedrock_url) != 0
