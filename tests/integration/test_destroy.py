"""`python -m stacks.destroy` against local AWS: the stack goes, its KMS key is retained unless
--schedule-key-deletion, which leaves it PendingDeletion with the asked window, in one line.

Its own local AWS server (moto keeps dangling references to a deleted stack's IAM user, which
breaks its state dump), so the session's server and stack are untouched."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.aws import LocalAws
from stacks import deploy as deploy_mod
from stacks import destroy as destroy_mod
from stacks.cdk_cli import Target
from tests.integration.helpers import seed_bootstrap_version
from tests.support.deployers import synth_deployer

pytestmark = pytest.mark.integration
REGION = "us-west-2"
CONTEXT = {
    "stack_name": "PortkeyDestroyCheck",
    "user_name": "portkey-destroy-check",
    "secret_name": "portkey/destroy-check",
}
STACK = CONTEXT["stack_name"]


@pytest.fixture(scope="module")
def private_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAws]:
    with LocalAws(state_dir=tmp_path_factory.mktemp("destroy-aws")) as aws:
        yield aws


@pytest.fixture
def west(private_aws: LocalAws, monkeypatch: pytest.MonkeyPatch) -> Target:
    target = Target.for_endpoint(private_aws.state.endpoint, REGION)
    seed_bootstrap_version(target.client("ssm"))
    for name, value in target.env.items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)
    return target


def deploy(target: Target) -> str:
    outputs = deploy_mod.deploy(target, STACK, CONTEXT, deployer=synth_deployer(), bootstrap=False)
    return outputs["KmsKeyArn"]


def key_state(target: Target, arn: str) -> str:
    return str(target.client("kms").describe_key(KeyId=arn)["KeyMetadata"]["KeyState"])


def test_destroy_keeps_the_key_and_says_how_to_delete_it_later(west, capsys):
    key_arn = deploy(west)
    assert destroy_mod.main(["--stack", STACK]) == 2  # without --force nothing is deleted
    assert "pass --force" in capsys.readouterr().err
    assert deploy_mod.read_deployed(west, STACK) is not None

    assert destroy_mod.main(["--stack", STACK, "--force"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"deleted stack {STACK}", destroy_mod.retained_key_line(key_arn, STACK)]
    assert deploy_mod.read_deployed(west, STACK) is None
    assert key_state(west, key_arn) == "Enabled"  # retained: SOPS files still decrypt

    # later: the printed command schedules the left-over key
    assert (
        destroy_mod.main(["--stack", STACK, "--schedule-key-deletion", "--key-arn", key_arn, "--pending-days", "7"])
        == 0
    )
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(f"KMS key {key_arn} scheduled for deletion on ") and "7-day window" in line
    assert key_state(west, key_arn) == "PendingDeletion"


def test_destroy_with_schedule_key_deletion_in_one_go(west, capsys):
    key_arn = deploy(west)
    assert destroy_mod.main(["--stack", STACK, "--force", "--schedule-key-deletion"]) == 0
    deleted, scheduled = capsys.readouterr().out.splitlines()
    assert deleted == f"deleted stack {STACK}"
    assert scheduled.startswith(f"KMS key {key_arn} scheduled for deletion") and "30-day window" in scheduled
    assert key_state(west, key_arn) == "PendingDeletion"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--stack", "NoSuchStack", "--force"], "is not deployed"),
        (["--stack", STACK, "--schedule-key-deletion", "--key-arn", "x", "--pending-days", "3"], "7-30"),
    ],
)
def test_bad_input_is_one_line_exit_2(west, capsys, argv, message):
    assert destroy_mod.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
