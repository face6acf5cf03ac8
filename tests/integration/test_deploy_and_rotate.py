"""The real CDK CLI deploying the app into the local moto server, and the two-phase rotation.

CLI runs are slow (~4-15 s each), so there are two here: the first deploy and one real `cdk
bootstrap` (bad context is refused before the CLI runs); the no-change re-deploy (outputs printed
once, progress streamed) is tests/integration/test_profile_deploy.py's `--profile` deploy. Rotation
uses the in-process synth deployer (same template, same CloudFormation server) so its phases can be
checked quickly; the CLI's rotation (`python -m local.rotate`) is proved by the README flow
(tests/e2e/test_readme_app.py).
"""

import contextlib
import io
import json

import pytest

from runtime import constants as c
from stacks import deploy as deploy_mod
from stacks import rotate as rotate_mod
from stacks.names import kms_alias
from tests.integration.helpers import REGION, active_key_ids, secret_json
from tests.support.deployers import applied, synth_deployer

pytestmark = pytest.mark.integration
STACK = c.DEFAULT_STACK_NAME
PRINTED: dict[str, str] = {}


@pytest.fixture(scope="module")
def deployed(bootstrapped):
    """`python -m stacks.deploy` (real CDK CLI) into the session server."""
    target = bootstrapped
    printed = io.StringIO()
    with applied(target), contextlib.redirect_stdout(printed):
        code = deploy_mod.main(["--quiet"])
    assert code == 0
    PRINTED["first deploy"] = printed.getvalue()
    return target


def clients(target):
    return target.client("iam"), target.client("secretsmanager")


def snapshot(target):
    """(serial, active key ids, secret's key id) of the deployed stack."""
    found = deploy_mod.read_deployed(target, STACK)
    iam, sm = clients(target)
    value = secret_json(sm, found.outputs[c.OUTPUT_SECRET_ARN])
    return found.active_serial, active_key_ids(iam, found.outputs[c.OUTPUT_USER_NAME]), value[c.ENV_AWS_ACCESS_KEY_ID]


def test_cli_deploy_created_user_policy_key_and_secret(deployed):
    target = deployed
    out = deploy_mod.read_deployed(target, STACK).outputs
    iam, sm = clients(target)
    user = out[c.OUTPUT_USER_NAME]
    attached = iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]
    assert sorted(p["PolicyArn"] for p in attached) == sorted(out[c.OUTPUT_POLICY_ARN].split(","))
    value = secret_json(sm, out[c.OUTPUT_SECRET_ARN])
    assert [value[c.ENV_AWS_ACCESS_KEY_ID]] == active_key_ids(iam, user)
    assert value[c.ENV_AWS_REGION] == REGION
    assert (
        target.client("kms").describe_key(KeyId=kms_alias(out[c.OUTPUT_USER_NAME]))["KeyMetadata"]["Arn"]
        == out[c.OUTPUT_KMS_KEY_ARN]
    )
    assert out[c.OUTPUT_ACCESS_KEY_SERIAL] == "1"
    printed = PRINTED["first deploy"]
    assert f"{c.OUTPUT_SECRET_ARN} = {out[c.OUTPUT_SECRET_ARN]}" in printed
    assert value[c.ENV_AWS_SECRET_ACCESS_KEY] not in printed


def test_bootstrap_runs_the_cli_only_when_needed(deployed):
    """The session's server is seeded (tests/conftest.py) in us-east-1; ca-central-1 on it is not
    bootstrapped (no other test deploys there), so `ensure_bootstrapped` runs the real `cdk
    bootstrap` there, once."""
    from stacks.cdk_cli import Target, ensure_bootstrapped, is_bootstrapped

    assert ensure_bootstrapped(deployed, quiet=True) is False
    other = Target.for_endpoint(deployed.endpoint, "ca-central-1")
    assert is_bootstrapped(other) is False
    assert ensure_bootstrapped(other, quiet=True) is True
    assert is_bootstrapped(other) and ensure_bootstrapped(other, quiet=True) is False
    stacks = other.client("cloudformation").describe_stacks(StackName="CDKToolkit")["Stacks"]
    assert stacks[0]["StackStatus"] == "CREATE_COMPLETE"


def test_bad_context_is_refused_before_the_cli_and_changes_nothing(deployed, capsys):
    before = snapshot(deployed)
    with applied(deployed):
        code = deploy_mod.main(["--quiet", "-c", "access_key_serial=0"])
    err = capsys.readouterr().err
    assert code == 2
    assert "access_key_serial=0 is invalid" in err
    assert snapshot(deployed) == before


def test_bad_context_argument_is_exit_2(capsys):
    assert deploy_mod.main(["-c", "no-equals-sign"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.fixture
def sops_file(deployed, tmp_path, monkeypatch):
    """An age-encrypted SOPS env file pulled from the deployed stack (the file rotation re-pulls)."""
    from runtime.cli.secrets import main as secrets_main
    from runtime.sops.age import generate_identity

    identity, recipient = generate_identity()
    monkeypatch.setenv(c.ENV_SOPS_AGE_KEY, identity)
    monkeypatch.setenv(c.ENV_XDG_CONFIG_HOME, str(tmp_path / "cfg"))
    config = tmp_path / ".sops.yaml"
    config.write_text(f"creation_rules:\n  - path_regex: .*\\.json$\n    age: {recipient}\n")
    path = tmp_path / "secrets" / "env.json"
    with applied(deployed):
        assert secrets_main(["pull", "--stack", STACK, "--file", str(path), "--config", str(config)]) == 0
    return path


def test_rotation_keeps_a_working_key_at_every_phase(deployed, sops_file, capsys):
    from runtime.sops import files

    target = deployed
    serial, keys, secret_key = snapshot(target)
    assert keys == [secret_key]
    seen = {}

    def check(event):
        now_serial, now_keys, now_secret_key = snapshot(target)
        assert now_secret_key in now_keys  # the secret never points at a deleted key
        seen[event.phase] = (now_serial, len(now_keys), now_secret_key)

    result = rotate_mod.rotate(
        target,
        STACK,
        grace_seconds=0.2,
        sops_files=[sops_file],
        require_sops=True,
        deployer=synth_deployer(),
        on_event=check,
    )
    assert (result.old_serial, result.new_serial) == (serial, serial + 1)
    new_key = seen[rotate_mod.PHASE_DONE][2]
    assert seen[rotate_mod.PHASE_START] == (serial, 1, secret_key)
    assert seen[rotate_mod.PHASE_NEW_KEY] == (serial + 1, 2, new_key)  # both keys live
    assert seen[rotate_mod.PHASE_PULLED] == (serial + 1, 2, new_key)
    assert seen[rotate_mod.PHASE_DONE] == (serial + 1, 1, new_key)  # old key gone
    assert new_key != secret_key
    assert files.load(sops_file)[c.ENV_AWS_ACCESS_KEY_ID] == new_key
    printed = capsys.readouterr().out
    assert "phase 1" in printed and "phase 2" in printed
    value = secret_json(target.client("secretsmanager"), result.outputs[c.OUTPUT_SECRET_ARN])
    assert value[c.ENV_AWS_SECRET_ACCESS_KEY] not in printed


def test_an_interrupted_rotation_is_finished_by_running_it_again(deployed, capsys):
    target = deployed
    serial, _, _ = snapshot(target)
    phase1 = {"access_key_serial": str(serial + 1), "retained_access_key_serial": str(serial)}
    deploy_mod.deploy(target, STACK, phase1, deployer=synth_deployer(), bootstrap=False)
    assert deploy_mod.read_deployed(target, STACK).retained_serials == (serial,)
    result = rotate_mod.rotate(target, STACK, grace_seconds=0, deployer=synth_deployer())
    assert (result.old_serial, result.new_serial) == (serial, serial + 1)
    now_serial, keys, secret_key = snapshot(target)
    assert (now_serial, keys) == (serial + 1, [secret_key])
    assert "resuming" in capsys.readouterr().out


def test_rotate_cli_refuses_a_stack_that_is_not_deployed(deployed, capsys):
    with applied(deployed):
        code = rotate_mod.main(["--stack", "NoSuchStack", "--no-sops"])
    assert code == 2
    assert "there is no stack NoSuchStack" in capsys.readouterr().err


def test_outputs_file_is_written_atomically(tmp_path):
    deploy_mod.write_outputs(tmp_path / "o.json", STACK, {"A": "1"})
    assert json.loads((tmp_path / "o.json").read_text()) == {STACK: {"A": "1"}}
    assert [p.name for p in tmp_path.iterdir()] == ["o.json"]
