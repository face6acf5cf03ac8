"""``python -m stacks.deploy``: deploy the stack with the real CDK CLI and print its outputs.

    python -m local.deploy                     # into the running local AWS (python -m local.aws up)
    python -m stacks.deploy -c allowed_models=sonnet-4.5
    python -m stacks.deploy                    # real AWS (ambient credentials), or AWS_ENDPOINT_URL
    python -m stacks.deploy --profile prod     # a named profile: boto3, cdk --profile, the app's AWS_PROFILE

Bootstraps first when the environment is not bootstrapped. A re-deploy never rotates by
accident: unless ``-c access_key_serial=N`` is given, the deployed ``AccessKeySerial`` (and a key
kept alive by an unfinished rotation) is passed back to the app (stacks/deployed_keys.py, the
same lookup app.py does for a plain ``npx cdk deploy``). The deployed settings (the ``Config``
output) are the baseline: only ``-c`` or an edited cdk.json value changes one, the changes are
shown first, and a widening needs ``--allow-widening`` (stacks/deployed_config.py). The outputs
are printed once, on stdout. Exit 1 when the CLI fails (its error is shown), 2 on bad input or a
refused widening.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from runtime.constants import DEFAULT_STACK_NAME, ENV_CDK_DEFAULT_REGION, EXIT_INTERRUPTED
from runtime.errors import ConfigError, PortkeyBedrockError
from stacks import deployed_keys
from stacks.cdk_cli import CdkError, Target, cdk_deploy, ensure_bootstrapped, stop_on_sigterm
from stacks.config import CTX_STACK_NAME, cdk_json_context
from stacks.context_keys import check_context_keys
from stacks.deployed_config import CTX_RESOLVED, WideningRefused, context_text, resolve_settings
from stacks.deployed_keys import Deployed as Deployed
from stacks.deployed_keys import access_key_serials as access_key_serials
from stacks.deployed_keys import deploy_context
from stacks.synth import parse_context

Deployer = Callable[[Target, str, Mapping[str, object]], dict[str, str]]


def read_deployed(target: Target, stack: str) -> Deployed | None:
    """The deployed stack's outputs and key serials, or None when it is not deployed."""
    return deployed_keys.read_deployed(target.client("cloudformation"), stack)


def cli_deployer(*, quiet: bool = False) -> Deployer:
    """Deploy with the real CDK CLI (``cdk deploy``)."""

    def deploy(target: Target, stack: str, context: Mapping[str, object]) -> dict[str, str]:
        return cdk_deploy(target, stack, context, quiet=quiet)

    return deploy


def deploy(
    target: Target,
    stack: str = DEFAULT_STACK_NAME,
    context: Mapping[str, str] | None = None,
    *,
    deployer: Deployer | None = None,
    bootstrap: bool = True,
    quiet: bool = False,
    allow_widening: bool = False,
    exact: bool = False,
    say: Callable[[str], None] | None = None,
) -> dict[str, str]:
    """Bootstrap when needed, then deploy from the deployed stack's serials and settings (the
    baseline; `context` and cdk.json edits are intent, stacks/deployed_config.py); returns the
    outputs. What changes is shown first (`say`, stderr); a widening raises
    :class:`~stacks.deployed_config.WideningRefused` before anything is deployed unless
    `allow_widening`. `exact` (a rotation): every setting from the deployed stack."""
    given = dict(context or {})
    check_context_keys(given)
    deployed = read_deployed(target, stack)
    full: dict[str, object] = dict(deploy_context(given, deployed))
    if stack != DEFAULT_STACK_NAME:
        full.setdefault(CTX_STACK_NAME, stack)
    full.update(
        resolve_settings(
            stack,
            given,
            cdk_json_context(),
            deployed,
            environ={ENV_CDK_DEFAULT_REGION: target.region},
            allow_widening=allow_widening,
            flag="--allow-widening",
            say=say or (lambda line: print(line, file=sys.stderr, flush=True)),
            exact=exact,
        )
    )
    full[CTX_RESOLVED] = "true"  # app.py: resolved here, do not look the stack up again
    if bootstrap:  # after the checks: a refused deploy touches no CloudFormation stack at all
        ensure_bootstrapped(target, quiet=quiet)
    return (deployer or cli_deployer(quiet=quiet))(target, stack, {k: context_text(v) for k, v in full.items()})


LocalTarget = Callable[[], Target]


def resolve_target(local: bool, profile: str | None = None, local_target: LocalTarget | None = None) -> Target:
    """--local: the running local AWS, as `local_target` (given by ``python -m local.deploy`` and its
    siblings: stacks never imports the local tooling) finds it; otherwise the ambient environment,
    or --profile's.

    >>> resolve_target(True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    runtime.errors.PortkeyBedrockError: --local is the local tooling's: run python -m local.deploy ...
    """
    if not local:
        return Target.from_environ(profile=profile)
    if local_target is None:
        raise PortkeyBedrockError(
            "--local is the local tooling's: run python -m local.deploy (or local.rotate, local.destroy) "
            "with the same arguments, without --local"
        )
    return local_target()


CDK_PROFILE_HELP = "AWS profile for boto3 and the CDK CLI (real AWS)"


def add_location_arguments(
    parser: argparse.ArgumentParser,
    local_help: str = "the running local AWS",
    profile_help: str = "AWS profile (real AWS)",
) -> None:
    """The mutually exclusive ``--local`` / ``--profile NAME`` pair that :func:`resolve_target` reads.

    >>> parser = argparse.ArgumentParser()
    >>> add_location_arguments(parser)
    >>> parser.parse_args(["--profile", "p"])
    Namespace(local=False, profile='p')
    """
    location = parser.add_mutually_exclusive_group()
    location.add_argument("--local", action="store_true", help=local_help)
    location.add_argument("--profile", metavar="NAME", help=profile_help)


def write_outputs(path: Path, stack: str, outputs: Mapping[str, str]) -> None:
    """Write ``{stack: outputs}`` atomically (the previous file stays intact on failure)."""
    from runtime.atomicfile import atomic_write_text

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps({stack: dict(outputs)}, indent=2) + "\n", mode=0o644)


def main(argv: list[str] | None = None, *, local_target: LocalTarget | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stacks.deploy", description=__doc__.splitlines()[0].replace("``", "")
    )
    parser.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--stack", default=DEFAULT_STACK_NAME)
    add_location_arguments(parser, "deploy into the running local AWS", CDK_PROFILE_HELP)
    parser.add_argument("--outputs-file", type=Path, help="also write the outputs here (JSON)")
    parser.add_argument("--quiet", action="store_true", help="hide the CLI's progress (errors still shown)")
    parser.add_argument(
        "--allow-widening", action="store_true", help="deploy even when the grant widens (models, regions, actions)"
    )
    args = parser.parse_args(argv)
    try:
        context = parse_context(args.context)
        target = resolve_target(args.local, args.profile, local_target)
    except PortkeyBedrockError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from botocore.exceptions import BotoCoreError, ClientError

    where = target.endpoint or f"AWS {target.region}"
    began = time.monotonic()
    stop_on_sigterm()
    try:
        outputs = deploy(target, args.stack, context, quiet=args.quiet, allow_widening=args.allow_widening)
    except KeyboardInterrupt:
        print(f"interrupted: the CDK CLI was stopped; check {args.stack} (CloudFormation may still be "
              "finishing an update) and run the deploy again", file=sys.stderr)  # fmt: skip
        return EXIT_INTERRUPTED
    except (WideningRefused, ConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
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
    from stacks.missing import run_main

    sys.exit(run_main(main))
