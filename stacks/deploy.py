"""``python -m stacks.deploy``: deploy the stack with the real CDK CLI and print its outputs.

    python -m stacks.deploy --local            # into the running local AWS (python -m local.aws up)
    python -m stacks.deploy -c allowed_models=sonnet-4.5
    python -m stacks.deploy                    # real AWS (ambient credentials), or AWS_ENDPOINT_URL

Bootstraps first when the environment is not bootstrapped. A re-deploy never rotates by
accident: unless ``-c access_key_serial=N`` is given, the deployed ``AccessKeySerial`` (and a key
kept alive by an unfinished rotation) is passed back to the app. Exit 1 when the CLI fails (its
error is shown), 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime.constants import (
    DEFAULT_STACK_NAME,
    ENV_CDK_DEFAULT_ACCOUNT,
    ENV_CDK_DEFAULT_REGION,
    OUTPUT_ACCESS_KEY_SERIAL,
)
from runtime.errors import PortkeyBedrockError
from stacks.cdk_cli import CdkError, Target, account_of, cdk_deploy, ensure_bootstrapped
from stacks.synth import parse_context

CTX_ACCESS_KEY_SERIAL = "access_key_serial"
CTX_RETAINED_ACCESS_KEY_SERIAL = "retained_access_key_serial"
CTX_STACK_NAME = "stack_name"

Deployer = Callable[[Target, str, Mapping[str, object]], dict[str, str]]


@dataclass(frozen=True)
class Deployed:
    """What is deployed now: the outputs, the active key's serial and any retained key serials."""

    outputs: dict[str, str]
    active_serial: int | None
    retained_serials: tuple[int, ...] = ()


def access_key_serials(template: Mapping[str, Any]) -> list[int]:
    """Serials of the template's ``AWS::IAM::AccessKey`` resources, sorted.

    >>> access_key_serials({"Resources": {"A": {"Type": "AWS::IAM::AccessKey", "Properties": {"Serial": 2}},
    ...     "B": {"Type": "AWS::IAM::AccessKey", "Properties": {"Serial": 1}}, "U": {"Type": "AWS::IAM::User"}}})
    [1, 2]
    """
    serials = []
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::IAM::AccessKey":
            serial = resource.get("Properties", {}).get("Serial")
            if isinstance(serial, int) or (isinstance(serial, str) and serial.isdigit()):
                serials.append(int(serial))
    return sorted(serials)


def deploy_context(given: Mapping[str, str], deployed: Deployed | None) -> dict[str, str]:
    """The context for a deploy: `given`, plus the deployed serials unless a serial is given.

    >>> deploy_context({}, Deployed({}, 3, (2,)))
    {'access_key_serial': '3', 'retained_access_key_serial': '2'}
    >>> deploy_context({"access_key_serial": "4"}, Deployed({}, 3, (2,)))
    {'access_key_serial': '4'}
    >>> deploy_context({"policy_mode": "full"}, None)
    {'policy_mode': 'full'}
    """
    context = dict(given)
    if deployed is None or deployed.active_serial is None or CTX_ACCESS_KEY_SERIAL in context:
        return context
    context[CTX_ACCESS_KEY_SERIAL] = str(deployed.active_serial)
    if deployed.retained_serials and CTX_RETAINED_ACCESS_KEY_SERIAL not in context:
        context[CTX_RETAINED_ACCESS_KEY_SERIAL] = str(max(deployed.retained_serials))
    return context


def read_deployed(target: Target, stack: str) -> Deployed | None:
    """The deployed stack's outputs and key serials, or None when it is not deployed."""
    from botocore.exceptions import ClientError

    cfn = target.client("cloudformation")
    try:
        described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    except ClientError as err:
        if "does not exist" in str(err):
            return None
        raise
    if described.get("StackStatus") in ("DELETE_COMPLETE", "REVIEW_IN_PROGRESS"):
        return None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs") or []}
    body = cfn.get_template(StackName=stack)["TemplateBody"]
    template = json.loads(body) if isinstance(body, str) else body
    serial_text = outputs.get(OUTPUT_ACCESS_KEY_SERIAL, "")
    active = int(serial_text) if serial_text.isdigit() else None
    retained = tuple(s for s in access_key_serials(template) if s != active)
    return Deployed(outputs=outputs, active_serial=active, retained_serials=retained)


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


def resolve_target(local: bool) -> Target:
    """--local: the running local AWS; otherwise the ambient environment."""
    if not local:
        return Target.from_environ()
    from local.aws import LocalAws

    return Target.local(LocalAws().state)


def write_outputs(path: Path, stack: str, outputs: Mapping[str, str]) -> None:
    """Write ``{stack: outputs}`` atomically (the previous file stays intact on failure)."""
    from runtime.atomicfile import atomic_write_text

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps({stack: dict(outputs)}, indent=2) + "\n", mode=0o644)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stacks.deploy", description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--stack", default=DEFAULT_STACK_NAME)
    parser.add_argument("--local", action="store_true", help="deploy into the running local AWS")
    parser.add_argument("--outputs-file", type=Path, help="also write the outputs here (JSON)")
    parser.add_argument("--quiet", action="store_true", help="hide the CLI's progress (errors still shown)")
    args = parser.parse_args(argv)
    try:
        context = parse_context(args.context)
        target = resolve_target(args.local)
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
