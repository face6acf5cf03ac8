"""Credentials that only the CDK CLI has: `npx cdk synth --profile P` runs the app without them
(the CLI passes neither its credentials nor --profile on), so the app cannot read the deployed
serial and must stop in one line instead of synthesizing serial 1; `python -m stacks.deploy
--profile P` passes the profile to both and keeps the deployed key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runtime import constants as c
from stacks import deploy as deploy_mod
from stacks.cdk_cli import REPO_ROOT, Target
from stacks.deployed_keys import access_key_serials
from tests.integration.helpers import active_key_ids
from tests.support.deployers import synth_deployer

pytestmark = pytest.mark.integration
STACK = c.DEFAULT_STACK_NAME
PROFILE = "localaws"


@pytest.fixture(scope="module")
def stack(bootstrapped: Target) -> Target:
    if deploy_mod.read_deployed(bootstrapped, STACK) is None:
        deploy_mod.deploy(bootstrapped, STACK, deployer=synth_deployer(), bootstrap=False)
    return bootstrapped


@pytest.fixture
def profile_only_env(stack: Target, tmp_path: Path) -> dict[str, str]:
    """A shell whose only credentials are the named profile (no AWS_* keys, no AWS_PROFILE)."""
    (tmp_path / "config").write_text(f"[profile {PROFILE}]\nregion = {stack.region}\n")
    (tmp_path / "credentials").write_text(
        f"[{PROFILE}]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    env = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
    return {
        **env,
        "AWS_ENDPOINT_URL": str(stack.endpoint),
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",  # no instance-metadata probe on a CI machine
    }


def snapshot(target: Target) -> tuple[int | None, list[str]]:
    found = deploy_mod.read_deployed(target, STACK)
    assert found is not None
    return found.active_serial, active_key_ids(target.client("iam"), found.outputs[c.OUTPUT_USER_NAME])


def test_cdk_with_profile_but_no_profile_in_the_app_fails_in_one_line(profile_only_env):
    done = subprocess.run(
        ["npx", "cdk", "synth", "--profile", PROFILE, "--quiet"],
        cwd=REPO_ROOT,
        env=profile_only_env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr[-2000:]
    assert f"cannot read the deployed access-key serial of {STACK}" in errors[0]
    assert "export AWS_PROFILE=" in errors[0]
    assert "Traceback" not in done.stderr


def test_stacks_deploy_with_profile_reaches_the_app_and_keeps_the_key(stack, profile_only_env):
    """`python -m stacks.deploy --profile P` on a rotated stack (serial > 1, rotated here unless an
    earlier test did): the profile reaches the app, so the deployed key is kept, not serial 1; the
    outputs are shown once each and the CLI's progress still streams (the one no-change CLI redeploy)."""
    from stacks import rotate as rotate_mod

    if snapshot(stack)[0] == 1:
        rotate_mod.rotate(stack, STACK, grace_seconds=0, deployer=synth_deployer(), log=lambda _: None)
    before = snapshot(stack)
    assert before[0] is not None and before[0] > 1
    env = {**profile_only_env, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "stacks.deploy", "--profile", PROFILE],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert snapshot(stack) == before
    assert f"{c.OUTPUT_ACCESS_KEY_SERIAL} = {before[0]}" in done.stdout
    secret_arn = deploy_mod.read_deployed(stack, STACK).outputs[c.OUTPUT_SECRET_ARN]  # type: ignore[union-attr]
    assert (done.stdout + done.stderr).count(secret_arn) == 1  # the CLI's own Outputs block is not repeated
    assert "deploying..." in done.stderr  # the CLI's progress still streams


def test_the_readme_fix_exporting_aws_profile_lets_the_app_read_the_stack(stack, profile_only_env, tmp_path):
    """`AWS_PROFILE=P npx cdk synth --profile P`: the app looks the serial up with the profile
    (a serial > 1, rotated here when needed, so a default 1 cannot pass by chance)."""
    from stacks import rotate as rotate_mod

    if snapshot(stack)[0] == 1:
        rotate_mod.rotate(stack, STACK, grace_seconds=0, deployer=synth_deployer(), log=lambda _: None)
    serial, _ = snapshot(stack)
    assert serial is not None and serial > 1
    done = subprocess.run(
        ["npx", "cdk", "synth", "--profile", PROFILE, "--quiet", "--output", str(tmp_path / "out")],
        cwd=REPO_ROOT,
        env={**profile_only_env, "AWS_PROFILE": PROFILE},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    template = json.loads((tmp_path / "out" / f"{STACK}.template.json").read_text())
    assert access_key_serials(template) == [serial]
    assert "error:" not in done.stderr
