"""``python -m stacks.deploy``: deploy the stack with the real CDK CLI and print its outputs.

    python -m stacks.deploy --local            # into the running local AWS (python -m local.aws up)
    python -m stacks.deploy -c allowed_models=sonnet-4.5
    python -m stacks.deploy                    # real AWS (ambient credentials), or AWS_ENDPOINT_URL
    python -m stacks.deploy --profile prod     # a named profile: boto3, cdk --profile, the app's AWS_PROFILE

Bootstraps first when the environment is not bootstrapped. A re-deploy never rotates by
accident: unless ``-c access_key_serial=N`` is given, the deployed ``AccessKeySerial`` (and a key
kept alive by an unfinished rotation) is passed back to the app (stacks/deployed_keys.py, the
same lookup app.py does for a plain ``npx cdk deploy``). The outputs are printed once, on stdout.
Exit 1 when the CLI fails (its error is shown), 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from runtime.constants import (
    DEFAULT_STACK_NAME,
    ENV_CDK_DEFAULT_ACCOUNT,
    ENV_CDK_DEFAULT_REGION,
)
from runtime.errors import PortkeyBedrockError
from stacks import deployed_keys
from stacks.cdk_cli import CdkError, Target, account_of, cdk_deploy, ensure_bootstrapped
from stacks.deployed_keys import CTX_ACCESS_KEY_SERIAL as CTX_ACCESS_KEY_SERIAL
from stacks.deployed_keys import CTX_RETAINED_ACCESS_KEY_SERIAL as CTX_RETAINED_ACCESS_KEY_SERIAL
from stacks.deployed_keys import Deployed as Deployed
from stacks.deployed_keys import access_key_serials as access_key_serials
from stacks.deployed_keys import deploy_context
from stacks.synth import parse_context

CTX_STACK_NAME = "stack_name"

Deployer = Callable[[Target, str, Mapping[str, object]], dict[str, str]]


def read_deployed(target: Target, stack: str) -> Deployed | None:
    """The deployed stack's outputs and key serials, or None when it is not deployed."""
    return deployed_keys.read_deployed(target.client("cloudformation"), stack)


def cli_deployer(*, quiet: bool = False) -> Deployer:
    """Deploy with the real CDK CLI (``cdk deploy``)."""

    def deploy(target: Target, stack: str, context: Mapping[str, object]) -> dict[str, str]:
        return cdk_deploy(target, stack, context, quiet=quiet)

    return deploy


# What the CDK CLI adds to the context, so an in-process synth gives the CLI's template.
CLI_SYNTH_CONTEXT = {"aws:cdk:enable-path-metadata": True, "aws:cdk:enable-asset-metadata": True}


def synth_template(context: Mapping[str, object], environ: Mapping[str, str]) -> dict[str, Any]:
    """Synthesize the app in this process (cdk-nag gate included) and return the stack template."""
    import tempfile

    from stacks.app import build_app

    with tempfile.TemporaryDirectory(prefix="synth-") as outdir:
        app = build_app({**CLI_SYNTH_CONTEXT, **context}, outdir=outdir, environ=environ)
        (stack,) = app.synth().stacks
        template: dict[str, Any] = stack.template
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


def synth_deployer() -> Deployer:
    """Synthesize in-process and deploy the template with the CloudFormation API: the same stack
    as the CLI deploys (no assets involved), without the CLI's ~10 s start-up per deploy. Needs a
    bootstrapped environment (the template reads the bootstrap version parameter)."""

    def deploy(target: Target, stack: str, context: Mapping[str, object]) -> dict[str, str]:
        environ = {ENV_CDK_DEFAULT_REGION: target.region, ENV_CDK_DEFAULT_ACCOUNT: account_of(target)}
        return cloudformation_deploy(target, stack, synth_template(context, environ))

    return deploy


def deploy(
    target: Target,
    stack: str = DEFAULT_STACK_NAME,
    context: Mapping[str, str] | None = None,
    *,
    deployer: Deployer | None = None,
    bootstrap: bool = True,
    quiet: bool = False,
) -> dict[str, str]:
    """Bootstrap when needed, then deploy keeping the deployed key serials; returns the outputs."""
    if bootstrap:
        ensure_bootstrapped(target, quiet=quiet)
    full = deploy_context(context or {}, read_deployed(target, stack))
    if stack != DEFAULT_STACK_NAME:
        full.setdefault(CTX_STACK_NAME, stack)
    return (deployer or cli_deployer(quiet=quiet))(target, stack, full)


def resolve_target(local: bool, profile: str | None = None) -> Target:
    """--local: the running local AWS; otherwise the ambient environment, or --profile's."""
    if not local:
        return Target.from_environ(profile=profile)
    from local.aws import LocalAws

    return Target.local(LocalAws().state)


def write_outputs(path: Path, stack: str, outputs: Mapping[str, str]) -> None:
    """Write ``{stack: outputs}`` atomically (the previous file stays intact on failure)."""
    from runtime.atomicfile import atomic_write_text

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps({stack: dict(outputs)}, indent=2) + "\n", mode=0o644)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stacks.deploy", description=__doc__.splitlines()[0].replace("``", "")
    )
    parser.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--stack", default=DEFAULT_STACK_NAME)
    location = parser.add_mutually_exclusive_group()
    location.add_argument("--local", action="store_true", help="deploy into the running local AWS")
    location.add_argument("--profile", metavar="NAME", help="AWS profile for boto3 and the CDK CLI (real AWS)")
    parser.add_argument("--outputs-file", type=Path, help="also write the outputs here (JSON)")
    parser.add_argument("--quiet", action="store_true", help="hide the CLI's progress (errors still shown)")
    args = parser.parse_args(argv)
    try:
        context = parse_context(args.context)
        target = resolve_target(args.local, args.profile)
    except PortkeyBedrockError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from botocore.exceptions import BotoCoreError, ClientError

    where = target.endpoint or f"AWS {target.region}"
    began = time.monotonic()
    try:
        outputs = deploy(target, args.stack, context, quiet=args.quiet)
    except (CdkError, BotoCoreError, ClientError) as err:
        print(f"error: deploy of {args.stack} into {where} failed: {err}", file=sys.stderr)
        return 1
    print(f"deployed {args.stack} into {where} in {time.monotonic() - began:.1f}s")
    for key in sorted(outputs):
        print(f"{key} = {outputs[key]}")
    if args.outputs_file:
        write_outputs(args.outputs_file, args.stack, outputs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
