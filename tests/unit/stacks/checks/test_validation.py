"""The CloudFormation schema check: still run on every app we build, one engine per process,
off only when the CDK CLI says so (``CDK_VALIDATION=false``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from runtime.constants import ENV_CDK_VALIDATION

pytestmark = pytest.mark.slow

SCHEMA_PLUGIN = "CloudFormation Validate"
# Two apps in one process (sharing the validator), each with one schema error (an unknown
# property) and the scanners we add to ours.
SCHEMA_ERROR_APPS = textwrap.dedent(
    """
    import sys
    import aws_cdk as cdk
    from stacks.app import add_scanners
    for outdir in sys.argv[1:]:
        app = cdk.App(outdir=outdir)
        add_scanners(app)
        stack = cdk.Stack(app, "Tiny")
        cdk.CfnResource(stack, "Bad", type="AWS::IAM::Group", properties={"GroupNam": "x"})
        app.synth()
    """
)


@pytest.mark.parametrize(
    ("environ", "enabled"),
    [({ENV_CDK_VALIDATION: "false"}, False), ({}, True), ({ENV_CDK_VALIDATION: "0"}, True)],
)
def test_validation_enabled(environ, enabled):
    from stacks.checks.validation import validation_enabled

    assert validation_enabled(environ) is enabled


def schema_findings(outdir) -> list[tuple[str, str]]:
    with open(f"{outdir}/validation-report.json", encoding="utf-8") as handle:
        report = json.load(handle)
    return [
        (violation["ruleName"], violation["severity"])
        for plugin in report["pluginReports"]
        if plugin["pluginName"] == SCHEMA_PLUGIN
        for violation in plugin["violations"]
    ]


def synth_schema_error_apps(tmp_path, env_overrides: dict[str, str]) -> list[list[tuple[str, str]]]:
    outdirs = [tmp_path / "first", tmp_path / "second"]
    env = {**os.environ, **env_overrides}
    subprocess.run(
        [sys.executable, "-c", SCHEMA_ERROR_APPS, *map(str, outdirs)],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return [schema_findings(outdir) for outdir in outdirs]


def test_a_schema_error_is_still_reported_by_every_app_sharing_the_validator(tmp_path):
    # aws-cdk-lib reports its schema findings as warnings (synth goes on), as its default plugin does.
    findings = synth_schema_error_apps(tmp_path, {ENV_CDK_VALIDATION: "true"})
    assert findings == [[("F3002", "warning")], [("F3002", "warning")]]


def test_cdk_validation_false_turns_the_schema_check_off(tmp_path):
    assert synth_schema_error_apps(tmp_path, {ENV_CDK_VALIDATION: "false"}) == [[], []]


def test_our_app_has_no_schema_findings(synthesized):
    assert schema_findings(synthesized.outdir) == []


def test_one_validator_per_process(monkeypatch):
    from stacks.checks.validation import schema_validator

    monkeypatch.delenv(ENV_CDK_VALIDATION, raising=False)
    first = schema_validator()
    assert first is not None
    assert schema_validator() is first
    monkeypatch.setenv(ENV_CDK_VALIDATION, "false")
    assert schema_validator() is None


def test_the_module_is_imported_while_the_validator_starts(monkeypatch, tmp_path):
    from stacks.checks.validation import schema_validator, start_validation_while_importing

    (tmp_path / "imported_on_the_side.py").write_text("import threading\nLOADER = threading.current_thread().name\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "imported_on_the_side", raising=False)
    monkeypatch.delenv(ENV_CDK_VALIDATION, raising=False)
    assert start_validation_while_importing("imported_on_the_side") is schema_validator()
    assert sys.modules["imported_on_the_side"].LOADER == "import imported_on_the_side"


def test_an_import_error_on_the_helper_thread_is_raised_to_the_caller(monkeypatch):
    from stacks.checks.validation import start_validation_while_importing

    monkeypatch.delenv(ENV_CDK_VALIDATION, raising=False)
    with pytest.raises(ModuleNotFoundError, match=r"stacks\.no_such_module"):
        start_validation_while_importing("stacks.no_such_module")
