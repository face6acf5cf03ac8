"""Test-only deploy helpers: an in-process synth and a CloudFormation-API deployer (no CDK CLI start-up
per deploy), and a way to point os.environ at a target. Production code deploys with the CLI."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

from runtime.constants import ENV_CDK_DEFAULT_ACCOUNT, ENV_CDK_DEFAULT_REGION
from stacks.cdk_cli import REPO_ROOT, Target, account_of
from stacks.deploy import Deployer, read_deployed

# What the CDK CLI adds to the context, so an in-process synth gives the CLI's template.
CLI_SYNTH_CONTEXT = {"aws:cdk:enable-path-metadata": True, "aws:cdk:enable-asset-metadata": True}


_SYNTHESIZED: dict[str, str] = {}


def synth_template(context: Mapping[str, object], environ: Mapping[str, str]) -> dict[str, Any]:
    """Synthesize the app in this process (cdk-nag gate included) and return the stack template.

    Memoised per (context, environ) for the session (``build_app`` reads nothing else; a synth costs
    ~3 s): each call gets its own copy."""
    import tempfile

    from stacks.app import build_app

    key = json.dumps([context, environ], sort_keys=True, default=str)
    if key not in _SYNTHESIZED:
        with tempfile.TemporaryDirectory(prefix="synth-") as outdir:
            app = build_app({**CLI_SYNTH_CONTEXT, **context}, outdir=outdir, environ=environ)
            (stack,) = app.synth().stacks
            _SYNTHESIZED[key] = json.dumps(stack.template)
    template: dict[str, Any] = json.loads(_SYNTHESIZED[key])
    return template


def cloudformation_deploy(target: Target, stack: str, template: Mapping[str, Any]) -> dict[str, str]:
    """Create or update `stack` from a template body with the CloudFormation API; returns outputs."""
    from botocore.exceptions import ClientError

    cfn = target.client("cloudformation")
    args = {
        "StackName": stack,
        "TemplateBody": json.dumps(template),
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    }
    wait = {"StackName": stack, "WaiterConfig": {"Delay": 2, "MaxAttempts": 300}}
    if read_deployed(target, stack) is None:
        cfn.create_stack(**args)
        cfn.get_waiter("stack_create_complete").wait(**wait)
    else:
        try:
            cfn.update_stack(**args)
            cfn.get_waiter("stack_update_complete").wait(**wait)
        except ClientError as err:
            if "No updates are to be performed" not in str(err):
                raise
    deployed = read_deployed(target, stack)
    return dict(deployed.outputs) if deployed else {}


BOOTSTRAP_TEMPLATE = REPO_ROOT / "node_modules" / "aws-cdk" / "lib" / "api" / "bootstrap" / "bootstrap-template.yaml"
BOOTSTRAP_STACK = "CDKToolkit"


def seed_bootstrap(target: Target) -> None:
    """What ``cdk bootstrap`` leaves behind (staging bucket, roles, key, the version parameter),
    from the CLI's own bootstrap template, created with the CloudFormation API: no CLI start-up.
    A no-op when the environment is already bootstrapped."""
    from stacks.cdk_cli import is_bootstrapped

    if is_bootstrapped(target):
        return
    cfn = target.client("cloudformation")
    cfn.create_stack(
        StackName=BOOTSTRAP_STACK,
        TemplateBody=BOOTSTRAP_TEMPLATE.read_text(encoding="utf-8"),
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )
    cfn.get_waiter("stack_create_complete").wait(StackName=BOOTSTRAP_STACK, WaiterConfig={"Delay": 1})


def synth_deployer() -> Deployer:
    """Synthesize in-process and deploy the template with the CloudFormation API: the same stack
    as the CLI deploys (no assets involved), without the CLI's ~10 s start-up per deploy. Needs a
    bootstrapped environment (the template reads the bootstrap version parameter)."""

    def deploy(target: Target, stack: str, context: Mapping[str, object]) -> dict[str, str]:
        environ = {ENV_CDK_DEFAULT_REGION: target.region, ENV_CDK_DEFAULT_ACCOUNT: account_of(target)}
        return cloudformation_deploy(target, stack, synth_template(context, environ))

    return deploy


@contextlib.contextmanager
def applied(target: Target) -> Iterator[None]:
    """Temporarily give the process environment `target`'s AWS_* variables (for code that
    reads os.environ); everything else in the environment is left alone."""
    saved = dict(os.environ)
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        del os.environ[key]
    os.environ.update({k: v for k, v in target.env.items() if k.startswith("AWS_")})
    try:
        yield
    finally:  # put back only the AWS_* names: never empty the environment under other threads
        for key in [k for k in os.environ if k.startswith("AWS_") and k not in saved]:
            del os.environ[key]
        os.environ.update({k: v for k, v in saved.items() if k.startswith("AWS_")})
