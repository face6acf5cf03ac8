"""`python -m runtime catalog check` against the real local-AWS server, which serves the committed
control-plane fixture: what the catalog ships matches it, then one line per drift injected by
editing the served file. (The fixture's models the shipped catalog lacks are `catalog sync`'s
subject: tests/integration/test_catalog_sync.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.aws import REPO_ROOT, LocalAws
from local.moto_patches.bedrock_control import DATA_FILE_NAME
from runtime.atomicfile import atomic_write_text
from runtime.catalog.model import load_catalog
from tests.integration.helpers import MOTO_ACCOUNT, REGION

pytestmark = pytest.mark.integration


def checked_models(region: str = REGION) -> int:
    """The models the check covers from `region`: not end of life, with an offer from there (an
    entry whose profiles only `catalog sync` knows has none)."""
    return len(load_catalog().names(include_eol=False, offered_from=region))


@pytest.fixture
def served(local_aws: LocalAws) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The server's control-plane file and its content; restored after the test."""
    path = local_aws.state_dir / DATA_FILE_NAME
    original = path.read_text(encoding="utf-8")
    yield path, json.loads(original)
    atomic_write_text(path, original, mode=0o644)


def shipped_drifts(stdout: str) -> list[str]:
    """Drift lines about what the shipped catalog has (not the fixture's newer models)."""
    return [line for line in stdout.splitlines() if line.startswith("drift: ") and "is ACTIVE on Bedrock" not in line]


def run_check(local_aws: LocalAws, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(local_aws.env())
    cmd = [sys.executable, "-m", "runtime", "catalog", "check", *args]
    return subprocess.run(cmd, env=env, cwd=REPO_ROOT, text=True, capture_output=True, check=False, timeout=120)


def test_served_answers_have_the_aws_shape(local_aws: LocalAws) -> None:
    import boto3

    env = local_aws.env()
    bedrock = boto3.client(
        "bedrock",
        region_name=REGION,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    summaries = bedrock.list_foundation_models()["modelSummaries"]
    by_id = {s["modelId"]: s for s in summaries}
    assert by_id["anthropic.claude-sonnet-4-5-20250929-v1:0"]["modelLifecycle"]["status"] == "LEGACY"
    assert by_id["anthropic.claude-opus-4-7"]["modelLifecycle"]["status"] == "ACTIVE"
    assert "anthropic.claude-sonnet-4-20250514-v1:0" not in by_id  # end of life: not listed
    details = bedrock.get_foundation_model(modelIdentifier="anthropic.claude-opus-4-7")["modelDetails"]
    assert details["modelArn"] == "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-opus-4-7"
    profile = bedrock.get_inference_profile(inferenceProfileIdentifier="us.anthropic.claude-sonnet-4-6")
    assert profile["inferenceProfileArn"] == (
        f"arn:aws:bedrock:us-east-1:{MOTO_ACCOUNT}:inference-profile/us.anthropic.claude-sonnet-4-6"
    )
    assert profile["type"] == "SYSTEM_DEFINED" and profile["status"] == "ACTIVE"
    assert sorted(m["modelArn"].split(":")[3] for m in profile["models"]) == ["us-east-1", "us-east-2", "us-west-2"]
    page = bedrock.list_inference_profiles(typeEquals="SYSTEM_DEFINED", maxResults=2)
    assert len(page["inferenceProfileSummaries"]) == 2 and page["nextToken"]
    with pytest.raises(bedrock.exceptions.ResourceNotFoundException) as missing:
        bedrock.get_inference_profile(inferenceProfileIdentifier="us.anthropic.claude-sonnet-4-20250514-v1:0")
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_clean_against_local_aws(local_aws: LocalAws) -> None:
    done = run_check(local_aws)
    assert done.returncode in (0, 1), done.stderr  # 1: the fixture lists a model the catalog lacks yet
    assert shipped_drifts(done.stdout) == []
    assert done.stdout.splitlines()[-1].startswith("catalog check us-east-1: ")
    assert f"({checked_models()} models, " in done.stdout.splitlines()[-1]
    access = [line for line in done.stdout.splitlines() if line.startswith("access: ")]
    assert len(access) >= checked_models() and all(line.endswith("is callable now") for line in access)


def test_injected_drift_is_reported_then_clean_again(local_aws: LocalAws, served: tuple[Path, dict[str, Any]]) -> None:
    path, data = served
    answers = data["regions"][REGION]
    for summary in answers["ListFoundationModels"]["modelSummaries"]:
        if summary["modelId"] == "anthropic.claude-opus-4-6-v1":
            summary["modelLifecycle"]["status"] = "LEGACY"
    for profile in answers["ListInferenceProfiles"]["inferenceProfileSummaries"]:
        if profile["inferenceProfileId"] == "us.anthropic.claude-sonnet-4-6":
            profile["models"].append(
                {"modelArn": "arn:aws:bedrock:ca-central-1::foundation-model/anthropic.claude-sonnet-4-6"}
            )
    atomic_write_text(path, json.dumps(data), mode=0o644)

    done = run_check(local_aws)
    assert done.returncode == 1, done.stderr
    lines = shipped_drifts(done.stdout)
    assert any(
        line.startswith(
            "drift: claude-sonnet-4.6: us.anthropic.claude-sonnet-4-6 from us-east-1 routes to ca-central-1 on Bedrock"
        )
        for line in lines
    )
    assert any(line.startswith("drift: claude-opus-4.6 (anthropic.claude-opus-4-6-v1) is LEGACY") for line in lines)
    assert len(lines) == 2

    report = json.loads(run_check(local_aws, "--json").stdout)
    kinds = sorted(d["kind"] for d in report["drifts"] if d["kind"] != "new-model")
    assert kinds == ["destination-missing", "model-legacy"]


def test_profile_missing_confirmed_by_get_inference_profile(
    local_aws: LocalAws, served: tuple[Path, dict[str, Any]]
) -> None:
    path, data = served
    profiles = data["regions"]["eu-west-2"]["ListInferenceProfiles"]["inferenceProfileSummaries"]
    profiles[:] = [p for p in profiles if p["inferenceProfileId"] != "eu.anthropic.claude-opus-4-7"]
    atomic_write_text(path, json.dumps(data), mode=0o644)
    done = run_check(local_aws, "--region", "eu-west-2")
    assert done.returncode == 1
    (drift,) = shipped_drifts(done.stdout)
    assert "inference profile eu.anthropic.claude-opus-4-7 is not offered by Bedrock in eu-west-2" in drift


def test_profile_credentials_are_used(local_aws: LocalAws, tmp_path: Path) -> None:
    """--profile P: credentials from a named profile, none in the environment."""
    config = tmp_path / "config"
    config.write_text(
        "[profile operator]\nregion = eu-west-2\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=local_aws.endpoint, AWS_CONFIG_FILE=str(config),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"), AWS_EC2_METADATA_DISABLED="true")  # fmt: skip
    cmd = [sys.executable, "-m", "runtime", "catalog", "check", "--region", "eu-west-2"]
    without = subprocess.run(cmd, env=env, cwd=REPO_ROOT, text=True, capture_output=True, check=False, timeout=120)
    assert without.returncode == 2 and "no AWS credentials found" in without.stderr
    done = subprocess.run([*cmd, "--profile", "operator"], env=env, cwd=REPO_ROOT, text=True, capture_output=True,
                          check=False, timeout=120)  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    assert shipped_drifts(done.stdout) == [] and done.stdout.splitlines()[-1].startswith("catalog check eu-west-2: ")
