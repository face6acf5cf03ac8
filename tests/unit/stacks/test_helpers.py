"""Small helpers of stacks: cases beyond their doctests (which run in `make test`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from runtime.errors import PortkeyBedrockError
from stacks.checks.hygiene import secret_leaks
from stacks.synth import parse_context

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_parse_context_rejects_a_pair_without_equals():
    with pytest.raises(PortkeyBedrockError, match="-c 'policy_mode' is not key=value"):
        parse_context(["policy_mode"])


def test_hygiene_clean_template_has_no_problems():
    template = {
        "Resources": {
            "K": {"Type": "AWS::IAM::AccessKey", "Properties": {"UserName": {"Ref": "U"}}},
            "S": {
                "Type": "AWS::SecretsManager::Secret",
                "Properties": {"SecretString": {"Fn::Join": ["", ['{"id":"', {"Ref": "K"}, '"}']]}},
            },
        },
        "Outputs": {"SecretArn": {"Value": {"Ref": "S"}}},
    }
    assert secret_leaks(template) == []


def test_bench_rejects_bad_run_count(capsys):
    spec = importlib.util.spec_from_file_location("bench_synth", REPO_ROOT / "scripts" / "bench_synth.py")
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["0"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_app_py_reports_a_bad_context_value_in_one_line():
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[3]
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps({"policy_mode": "bogus"}), "CDK_OUTDIR": "/tmp/app-py-bad"}
    done = subprocess.run([sys.executable, "app.py"], cwd=repo, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "policy_mode" in lines[0]
    assert "Traceback" not in done.stderr
