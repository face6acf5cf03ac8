"""`catalog check` and `catalog sync` against the real local-AWS server: each drift kind is written
into the served control-plane file (the test's own fixture, from the committed one), shows up in
`check` (exit 1), is absorbed by `sync --write`; then `resolve` returns the new id and an
in-process synth grants the new profile and destination through the one policy builder."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.aws import REPO_ROOT, LocalAws
from local.moto_patches.bedrock_control import DATA_FILE_NAME
from runtime.atomicfile import atomic_write_text
from runtime.catalog.model import OVERLAY_ENV
from tests.integration.helpers import MOTO_ACCOUNT, REGION
from tests.support.control_plane import FABLE_5, HAIKU_55, SONNET_46_US, drifted_fixture

pytestmark = pytest.mark.integration


@pytest.fixture
def served(local_aws: LocalAws) -> Iterator[Path]:
    """The server's control-plane file, holding this test's fixture; restored after the test."""
    path = local_aws.state_dir / DATA_FILE_NAME
    original = path.read_text(encoding="utf-8")
    yield path
    atomic_write_text(path, original, mode=0o644)


def runtime_cli(local_aws: LocalAws, overlay: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(local_aws.env(), **{OVERLAY_ENV: str(overlay)})
    return subprocess.run([sys.executable, "-m", "runtime", *args], env=env, cwd=REPO_ROOT, text=True,
                          capture_output=True, check=False, timeout=120)  # fmt: skip


def test_each_drift_shows_in_check_and_sync_absorbs_it(local_aws: LocalAws, served: Path, tmp_path: Path) -> None:
    atomic_write_text(served, json.dumps(drifted_fixture()), mode=0o644)
    overlay = tmp_path / "catalog.local.json"

    before = runtime_cli(local_aws, overlay, "catalog", "check", "--json")
    assert before.returncode == 1, before.stderr
    kinds = {(d["kind"], d["subject"]) for d in json.loads(before.stdout)["drifts"]}
    assert {("new-model", HAIKU_55), ("model-legacy", "claude-opus-4.6"),
            ("destination-missing", "claude-sonnet-4.6")} <= kinds  # fmt: skip

    synced = runtime_cli(local_aws, overlay, "catalog", "sync", "--write")
    assert synced.returncode == 0, synced.stderr
    assert f"sync: new model claude-haiku-5.5 ({HAIKU_55}), active, read in us-east-1" in synced.stdout
    assert (
        "sync: lifecycle of claude-opus-4.6: now legacy, legacy_date 2026-12-01, eol_date 2027-06-01" in synced.stdout
    )
    assert f"sync: profile {SONNET_46_US} from us-east-1: new destination(s) ca-central-1" in synced.stdout
    data = json.loads(overlay.read_text())
    assert re.fullmatch(r"bedrock:ListInferenceProfiles us-east-1 \d{4}-\d\d-\d\d",
                        data["profiles"][f"us.{HAIKU_55}"]["routes"][REGION]["source"])  # fmt: skip

    resolved = runtime_cli(local_aws, overlay, "resolve", "claude-haiku-5.5")
    assert (resolved.returncode, resolved.stdout) == (0, f"us.{HAIKU_55}\n"), resolved.stderr
    warned = runtime_cli(local_aws, overlay, "resolve", "claude-opus-4.6")
    assert "claude-opus-4.6 is Legacy on Amazon Bedrock since 2026-12-01 and reaches end of life on 2027-06-01" in (
        warned.stderr
    )

    after = runtime_cli(local_aws, overlay, "catalog", "check")
    assert after.returncode == 1, after.stderr  # one step left: the account's Marketplace subscription
    (drift,) = [line for line in after.stdout.splitlines() if "not callable" in line]
    assert drift.startswith(f"access: claude-haiku-5.5 ({HAIKU_55}) is not callable by this account in us-east-1")
    assert "aws-marketplace:Subscribe" in drift
    assert not [line for line in after.stdout.splitlines() if line.startswith("drift: ")]

    subscribed = drifted_fixture()
    subscribed["regions"][REGION]["GetFoundationModelAvailability"][HAIKU_55]["agreementAvailability"] = {
        "status": "AVAILABLE"
    }
    atomic_write_text(served, json.dumps(subscribed), mode=0o644)
    clean = runtime_cli(local_aws, overlay, "catalog", "check")
    assert clean.returncode == 0, clean.stdout
    assert clean.stdout.splitlines()[-1].startswith("catalog check us-east-1: clean (")


def test_sync_bad_input_leaves_the_overlay(local_aws: LocalAws, served: Path, tmp_path: Path) -> None:
    overlay = tmp_path / "catalog.local.json"
    overlay.write_text('{"overlay_version": 1}')
    done = runtime_cli(local_aws, overlay, "catalog", "sync", "--write")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "is malformed" in done.stderr
    assert overlay.read_text() == '{"overlay_version": 1}'
    fresh = tmp_path / "fresh.json"
    gov = runtime_cli(local_aws, fresh, "catalog", "sync", "--region", "us-gov-west-1", "--write")
    assert gov.returncode == 2 and "aws-us-gov partition" in gov.stderr and not fresh.exists()


def test_synth_grants_the_synced_profile_and_destination(
    local_aws: LocalAws, served: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one policy builder, fed the merged catalog, in an in-process synth of the real app."""
    from tests.support.deployers import synth_template

    atomic_write_text(served, json.dumps(drifted_fixture()), mode=0o644)
    overlay = tmp_path / "catalog.local.json"
    assert runtime_cli(local_aws, overlay, "catalog", "sync", "--write").returncode == 0
    monkeypatch.setenv(OVERLAY_ENV, str(overlay))
    template = synth_template({"allowed_models": "claude-haiku-5.5,claude-sonnet-4.6"},
                              {"CDK_DEFAULT_REGION": REGION, "CDK_DEFAULT_ACCOUNT": MOTO_ACCOUNT})  # fmt: skip
    statements = [
        statement
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::ManagedPolicy"
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]
    profile_arn = f"arn:aws:bedrock:{REGION}:{MOTO_ACCOUNT}:inference-profile/us.{HAIKU_55}"

    def resources(statement: dict[str, Any]) -> list[str]:
        value = statement["Resource"]  # CDK writes a single resource as a string
        return [value] if isinstance(value, str) else list(value)

    assert any(profile_arn in resources(s) for s in statements)
    # every destination Region of the profile (the new one included): the foundation model, only through it
    (model_grant,) = [s for s in statements if f"arn:aws:bedrock:*::foundation-model/{HAIKU_55}" in resources(s)]
    assert model_grant["Condition"] == {"StringEquals": {"bedrock:InferenceProfileArn": profile_arn}}
    assert FABLE_5 not in json.dumps(statements)  # synced too, but not allowed: not granted


def test_the_demo_step_finds_something_and_ends_clean(local_aws: LocalAws, served: Path, capsys: Any) -> None:
    """`make demo`'s catalog step against the committed fixture: check (drift), sync, check (clean)."""
    from local.demo import catalog_sync_demo

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(local_aws.env())
    assert catalog_sync_demo(env, local_aws.state_dir) is True
    out = capsys.readouterr().out
    assert "$ python -m runtime catalog sync --write" in out and "fact(s) written to" in out
    assert out.rstrip().endswith("match Bedrock)")
