"""Issue 18, blockers 1-3: the deployed stack owns every setting, a widening is never silent,
rotation never strands a key file.

One stack of its own (another region, user and secret than the session's default stack, so the
tests here and elsewhere do not disturb each other), deployed with the in-process synth
deployer into the session's local AWS: narrow settings, then a rotation, a plain redeploy, a
refused widening, an allowed one and a narrowing. Each test reads the state it starts from.
"""

from __future__ import annotations

import json

import pytest

from runtime import constants as c
from stacks import deploy as deploy_mod
from stacks import rotate as rotate_mod
from stacks.cdk_cli import Target
from stacks.deployed_config import WideningRefused
from tests.integration.helpers import seed_bootstrap_version
from tests.support.deployers import synth_deployer

pytestmark = pytest.mark.integration
STACK = "PortkeyConfigOwner"
REGION = "us-west-2"
NARROW = {
    "allowed_models": "claude-haiku-4.5,claude-sonnet-4.6",
    "source_regions": "us-west-2,us-east-1",
    "api_keys": "short-term",
    "user_name": "portkey-config-owner",
    "secret_name": "portkey/config-owner",
}
NARROW_SETTINGS = {
    "allowed_models": ["claude-haiku-4.5", "claude-sonnet-4.6"],
    "source_regions": ["us-west-2", "us-east-1"],
    "api_keys": "short-term",
    "user_name": "portkey-config-owner",
    "secret_name": "portkey/config-owner",
    "policy_mode": "least-privilege",
}


def settings(target: Target) -> dict[str, object]:
    found = deploy_mod.read_deployed(target, STACK)
    assert found is not None and found.config is not None
    return found.config.settings


def bearer_granted(target: Target) -> bool:
    body = target.client("cloudformation").get_template(StackName=STACK)["TemplateBody"]
    text = body if isinstance(body, str) else json.dumps(body)
    return "bedrock:CallWithBearerToken" in text


def deploy(target: Target, context: dict[str, str] | None = None, **kwargs: object) -> dict[str, str]:
    return deploy_mod.deploy(target, STACK, context, deployer=synth_deployer(), bootstrap=False, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def west(local_aws) -> Target:
    """The session's local AWS in us-west-2, with the bootstrap parameter the template reads,
    and the narrow stack deployed."""
    from local.aws import local_target

    target = Target.for_endpoint(local_target(local_aws).endpoint or "", REGION)
    seed_bootstrap_version(target.client("ssm"))
    if deploy_mod.read_deployed(target, STACK) is None:
        deploy(target, NARROW)
    return target


def assert_narrow(target: Target) -> None:
    recorded = settings(target)
    assert {key: recorded[key] for key in NARROW_SETTINGS} == NARROW_SETTINGS
    outputs = deploy_mod.read_deployed(target, STACK).outputs
    assert outputs[c.OUTPUT_SOURCE_REGIONS] == "us-west-2,us-east-1"
    assert outputs[c.OUTPUT_MODEL_IDS] == "us.anthropic.claude-haiku-4-5-20251001-v1:0,us.anthropic.claude-sonnet-4-6"
    assert bearer_granted(target)


def test_the_config_output_records_the_settings_and_cdk_json(west):
    assert_narrow(west)
    record = json.loads(deploy_mod.read_deployed(west, STACK).outputs[c.OUTPUT_CONFIG])
    assert record["cdk_json"]["allowed_models"] == "all"  # what cdk.json said: a later edit is intent
    assert "access_key_serial" not in record["settings"]


def test_rotation_keeps_every_setting(west, capsys):
    before = deploy_mod.read_deployed(west, STACK)
    result = rotate_mod.rotate(west, STACK, grace_seconds=0, deployer=synth_deployer(), log=lambda _: None)
    assert result.new_serial == before.active_serial + 1
    assert_narrow(west)
    assert settings(west) == before.config.settings
    assert "widens" not in capsys.readouterr().err


def test_a_plain_redeploy_keeps_the_deployed_settings(west, capsys):
    before = settings(west)
    deploy(west)  # cdk.json says allowed_models=all, api_keys=off: not what was deployed, not edited since
    assert settings(west) == before
    assert_narrow(west)
    assert "settings that change" not in capsys.readouterr().err


def test_a_widening_is_refused_and_nothing_is_deployed(west, capsys):
    cfn = west.client("cloudformation")
    updated = cfn.describe_stacks(StackName=STACK)["Stacks"][0].get("LastUpdatedTime")
    with pytest.raises(WideningRefused, match=r"models: claude-opus-4\.6.*--allow-widening"):
        deploy(west, {"allowed_models": "claude-haiku-4.5,claude-sonnet-4.6,claude-opus-4.6", "api_keys": "off"})
    err = capsys.readouterr().err
    assert "  + models: claude-opus-4.6" in err
    assert "  - actions: api_keys=short-term (bedrock:CallWithBearerToken)" in err  # the narrowing half is shown
    assert cfn.describe_stacks(StackName=STACK)["Stacks"][0].get("LastUpdatedTime") == updated
    assert_narrow(west)


def test_widen_with_the_flag_then_narrow_without_one(west):
    wide = "claude-haiku-4.5,claude-sonnet-4.6,claude-opus-4.6"
    deploy(west, {"allowed_models": wide}, allow_widening=True)
    assert settings(west)["allowed_models"] == wide.split(",")
    deploy(west, {"allowed_models": "claude-haiku-4.5,claude-sonnet-4.6"})  # narrowing: no flag
    assert_narrow(west)


def test_rotate_cli_with_no_stack_says_so(west, capsys):
    code = rotate_mod.main(["--local", "--stack", "NoSuchStack", "--no-sops"], local_target=lambda: west)
    assert code == 2
    err = capsys.readouterr().err
    assert "there is no stack NoSuchStack" in err and "deploy it first" in err
    assert "still points at a working key" not in err


def test_rotation_refuses_phase_2_when_no_sops_file_was_repulled(west, monkeypatch, tmp_path):
    monkeypatch.delenv(c.ENV_SOPS_FILE, raising=False)
    monkeypatch.setattr(rotate_mod, "SOPS_REGISTRY", tmp_path / "none.json")
    before = deploy_mod.read_deployed(west, STACK).active_serial
    lines: list[str] = []
    with pytest.raises(rotate_mod.NoSopsFileRepulled, match=r"key \d+ is kept.*--no-sops"):
        rotate_mod.rotate(west, STACK, grace_seconds=0, deployer=synth_deployer(), log=lines.append, require_sops=True)
    assert any("no SOPS file was re-pulled" in line for line in lines)
    found = deploy_mod.read_deployed(west, STACK)
    assert (found.active_serial, found.retained_serials) == (before + 1, (before,))  # the old key is kept
    rotate_mod.rotate(west, STACK, grace_seconds=0, deployer=synth_deployer(), log=lines.append)  # --no-sops: finish
    assert deploy_mod.read_deployed(west, STACK).retained_serials == ()


def test_rotation_repulls_every_known_sops_file(west, monkeypatch, tmp_path):
    """--sops-file, $PORTKEY_BEDROCK_SOPS_FILE and a registered file, each re-pulled and named."""
    from runtime.cli.secrets import main as secrets_main
    from runtime.sops import files
    from runtime.sops.age import generate_identity

    identity, recipient = generate_identity()
    monkeypatch.setenv(c.ENV_SOPS_AGE_KEY, identity)
    monkeypatch.setenv(c.ENV_XDG_CONFIG_HOME, str(tmp_path / "cfg"))
    config = tmp_path / ".sops.yaml"
    config.write_text(f"creation_rules:\n  - path_regex: .*\\.json$\n    age: {recipient}\n")
    paths = [tmp_path / name / "env.json" for name in ("given", "env", "registered")]
    for path in paths:
        for name, value in west.env.items():
            monkeypatch.setenv(name, value)
        assert secrets_main(["pull", "--stack", STACK, "--file", str(path), "--config", str(config)]) == 0
    monkeypatch.setenv(c.ENV_SOPS_FILE, str(paths[1]))
    registry = tmp_path / "registry.json"
    monkeypatch.setattr(rotate_mod, "SOPS_REGISTRY", registry)
    rotate_mod.register_sops_file(west, paths[2], registry)
    pulled, missing = rotate_mod.known_sops_files(west, [paths[0]], registry=registry)
    assert (pulled, missing) == (paths, [])
    lines: list[str] = []
    rotate_mod.rotate(west, STACK, grace_seconds=0, deployer=synth_deployer(), log=lines.append,
                      sops_files=pulled, require_sops=True)  # fmt: skip
    (line,) = [line for line in lines if "re-pulled" in line]
    assert all(str(path) in line for path in paths)
    secret = json.loads(west.client("secretsmanager").get_secret_value(SecretId=settings_arn(west))["SecretString"])
    assert {files.load(path)[c.ENV_AWS_ACCESS_KEY_ID] for path in paths} == {secret[c.ENV_AWS_ACCESS_KEY_ID]}


def settings_arn(target: Target) -> str:
    return deploy_mod.read_deployed(target, STACK).outputs[c.OUTPUT_SECRET_ARN]


def test_unknown_context_key_is_refused_before_anything_is_read(west):
    from runtime.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown context key allowed_model; did you mean allowed_models"):
        deploy(west, {"allowed_model": "claude-haiku-4.5"})


def run_app_py(target: Target, tmp_path, **context: str):
    """app.py as the CDK CLI runs it for `npx cdk synth/deploy -c ...`: cdk.json's context plus
    the -c values in CDK_CONTEXT_JSON, the CLI's account and region, local AWS's credentials."""
    import os
    import subprocess
    import sys

    from stacks.cdk_cli import QUIET_JSII_ENV, REPO_ROOT
    from stacks.config import cdk_json_context
    from tests.integration.helpers import MOTO_ACCOUNT

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    env.update({**target.env, **QUIET_JSII_ENV, "CDK_DEFAULT_ACCOUNT": MOTO_ACCOUNT, "CDK_DEFAULT_REGION": REGION})
    env["CDK_CONTEXT_JSON"] = json.dumps({**cdk_json_context(), "stack_name": STACK, **context})
    env["CDK_OUTDIR"] = str(tmp_path / "cdk.out")
    return subprocess.run(
        [sys.executable, "app.py"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
    )


def test_plain_cdk_deploy_through_app_py_keeps_the_settings_and_refuses_a_widening(west, tmp_path):
    kept = run_app_py(west, tmp_path)  # `npx cdk deploy -c stack_name=…`: nothing else given
    assert kept.returncode == 0, kept.stderr[-2000:]
    template = json.loads((tmp_path / "cdk.out" / f"{STACK}.template.json").read_text())
    assert json.loads(template["Outputs"]["Config"]["Value"])["settings"] == settings(west)

    wide = "claude-haiku-4.5,claude-sonnet-4.6,claude-opus-4.6"
    refused = run_app_py(west, tmp_path, allowed_models=wide)
    assert refused.returncode == 2
    assert "Traceback" not in refused.stderr
    assert "  + models: claude-opus-4.6" in refused.stderr
    (error,) = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert "pass -c allow_widening=true" in error
    allowed = run_app_py(west, tmp_path, allowed_models=wide, allow_widening="true")
    assert allowed.returncode == 0, allowed.stderr[-2000:]

    typo = run_app_py(west, tmp_path, allowed_model="claude-haiku-4.5")
    assert typo.returncode == 2
    assert typo.stderr.strip().splitlines()[-1] == (
        "error: unknown context key allowed_model; did you mean allowed_models?"
    )


def test_a_stack_from_before_the_config_output_keeps_its_grant(west, capsys):
    """The upgrade: a stack deployed without the Config output. Its grant is read from its other
    outputs and template, so the first deploy after the upgrade does not widen it silently either;
    rotation waits until a deploy has recorded every setting."""
    from tests.integration.helpers import MOTO_ACCOUNT
    from tests.support.deployers import cloudformation_deploy, synth_template

    serial = deploy_mod.read_deployed(west, STACK).active_serial
    environ = {"CDK_DEFAULT_REGION": REGION, "CDK_DEFAULT_ACCOUNT": MOTO_ACCOUNT}
    template = synth_template({**NARROW, "stack_name": STACK, "access_key_serial": str(serial)}, environ)
    del template["Outputs"]["Config"]
    cloudformation_deploy(west, STACK, template)
    found = deploy_mod.read_deployed(west, STACK).config
    assert found is not None and found.derived
    assert {key: found.settings[key] for key in NARROW_SETTINGS} == NARROW_SETTINGS
    with pytest.raises(rotate_mod.RotationError, match="records no settings"):
        rotate_mod.rotate(west, STACK, grace_seconds=0, deployer=synth_deployer(), log=lambda _: None)
    with pytest.raises(WideningRefused, match="models: claude-large"):
        deploy(west, {"allowed_models": "all"})
    deploy(west)  # the first deploy after the upgrade: the derived grant, now recorded
    assert "records no settings yet" in capsys.readouterr().err
    assert_narrow(west)
    assert not deploy_mod.read_deployed(west, STACK).config.derived
