"""``python -m stacks.rotate``: two-phase, zero-downtime rotation of the user's access key.

    python -m local.rotate --grace-seconds 5      # make rotate (local demo: a short grace)
    python -m stacks.rotate                       # real AWS (ambient credentials), 300 s grace
    python -m stacks.rotate --profile prod        # real AWS with a named profile

With key N deployed:

1. deploy ``access_key_serial=N+1, retained_access_key_serial=N``: key N+1 is created and the
   secret moves to it; key N still works;
2. check key N+1 (``sts get-caller-identity`` with it must name the stack's user);
3. re-pull the SOPS env file when there is one (``secrets pull``);
4. wait the grace period (default 300 s: clients still holding key N finish, and apps that
   reload the SOPS file on change pick key N+1 up);
5. deploy ``access_key_serial=N+1`` alone: key N is deleted.

The secret points at an existing, active key at every moment. A run interrupted after step 1
is finished by running it again (the retained key is found in the deployed template). Phases are
printed with timings, never a secret; `rotate(..., on_event=...)` lets a caller (a load test)
act between phases.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from runtime.constants import (
    DEFAULT_SECRETS_FILE,
    DEFAULT_STACK_NAME,
    ENV_AWS_ACCESS_KEY_ID,
    ENV_AWS_SECRET_ACCESS_KEY,
    OUTPUT_SECRET_ARN,
    OUTPUT_USER_ARN,
)
from runtime.errors import PortkeyBedrockError
from stacks.cdk_cli import CdkError, Target
from stacks.config import CTX_ACCESS_KEY_SERIAL, CTX_RETAINED_ACCESS_KEY_SERIAL, REPO_ROOT
from stacks.deploy import (
    Deployer,
    LocalTarget,
    cli_deployer,
    deploy,
    read_deployed,
    resolve_target,
)

VERIFY_TIMEOUT_S = 90.0  # new IAM keys take a few seconds to work on real AWS
# Long enough for in-flight requests and for long-running apps to re-read the SOPS file or secret;
# short enough that a leaked old key dies soon. make rotate passes 5 s for the local demo.
DEFAULT_GRACE_SECONDS = 300.0

PHASE_START = "start"
PHASE_NEW_KEY = "new-key-deployed"
PHASE_VERIFIED = "new-key-verified"
PHASE_PULLED = "sops-pulled"
PHASE_GRACE = "grace-over"
PHASE_DONE = "old-key-deleted"


class RotationError(PortkeyBedrockError):
    """Rotation stopped; the old key is still in place when this is raised after phase 1."""


@dataclass(frozen=True)
class RotationEvent:
    """One step of a rotation, as passed to ``on_event``: no secret values, only serials."""

    phase: str
    old_serial: int
    new_serial: int
    elapsed_s: float
    outputs: dict[str, str] = field(default_factory=dict)


RotationHook = Callable[[RotationEvent], None]


@dataclass(frozen=True)
class RotationResult:
    old_serial: int
    new_serial: int
    timings: dict[str, float]
    outputs: dict[str, str]


def default_sops_file(target: Target, root: Path = REPO_ROOT, local_file: Path | None = None) -> Path | None:
    """The env file to re-pull: secrets/env.json for real AWS; for a local endpoint only `local_file`
    (the local tooling's, which ``python -m local.rotate`` passes), so a local run never rewrites the
    real file. None when there is no such file.

    >>> default_sops_file(Target.for_endpoint("http://localhost:1"), Path("/nonexistent")) is None
    True
    >>> default_sops_file(Target.for_endpoint("http://localhost:1"), Path("/"), local_file=Path("/")) == Path("/")
    True
    """
    path = local_file if target.is_local else root / DEFAULT_SECRETS_FILE
    return path if path is not None and path.exists() else None


def read_secret_key(target: Target, outputs: dict[str, str]) -> tuple[str, str]:
    """The (access key id, secret access key) the secret holds now."""
    from runtime.secrets_pull import read_secret

    arn = outputs.get(OUTPUT_SECRET_ARN)
    if not arn:
        raise RotationError(f"the stack has no {OUTPUT_SECRET_ARN} output; deploy it with python -m stacks.deploy")
    try:
        value = read_secret(target.client("secretsmanager"), arn)
    except PortkeyBedrockError as err:
        raise RotationError(str(err)) from None
    return value[ENV_AWS_ACCESS_KEY_ID], value[ENV_AWS_SECRET_ACCESS_KEY]


def verify_key(target: Target, key_id: str, secret: str, user_arn: str, timeout_s: float) -> None:
    """Wait until ``sts get-caller-identity`` with the key names `user_arn`."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    sts = boto3.Session(aws_access_key_id=key_id, aws_secret_access_key=secret, region_name=target.region).client(
        "sts", endpoint_url=target.endpoint
    )
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while True:
        try:
            arn = sts.get_caller_identity()["Arn"]
            if arn == user_arn:
                return
            last = f"it identifies {arn}, not the stack's user"
        except (BotoCoreError, ClientError) as err:
            last = type(err).__name__
        if time.monotonic() >= deadline:
            raise RotationError(f"the new access key does not work ({last}); the old key is kept")
        time.sleep(2.0)


def pull_sops(stack: str, path: Path, target: Target) -> None:
    """``runtime secrets pull`` into `path`, with the target's clients (the process environment is
    left alone: other threads, e.g. clients under load, keep reading it during rotation)."""
    from runtime.secrets_pull import pull

    try:
        changes = pull(
            stack,
            path,
            region=target.region,
            cloudformation=target.client("cloudformation"),
            secretsmanager=target.client("secretsmanager"),
        )
    except PortkeyBedrockError as err:
        raise RotationError(f"secrets pull into {path} failed ({err}); the old key is kept") from None
    changed = ", ".join(f"{key} {state}" for key, state in changes.items())
    print(f"{path}: {changed}", flush=True)


def rotate(
    target: Target,
    stack: str = DEFAULT_STACK_NAME,
    *,
    grace_seconds: float = DEFAULT_GRACE_SECONDS,
    sops_file: Path | None = None,
    deployer: Deployer | None = None,
    on_event: RotationHook | None = None,
    verify_timeout_s: float = VERIFY_TIMEOUT_S,
    log: Callable[[str], None] | None = None,
) -> RotationResult:
    """Rotate the deployed key N -> N+1 in two phases (see the module docstring)."""
    say = log or (lambda line: print(line, flush=True))
    began = time.monotonic()
    timings: dict[str, float] = {}
    deploy_with = deployer or cli_deployer(quiet=True)

    deployed = read_deployed(target, stack)
    if deployed is None or deployed.active_serial is None:
        raise RotationError(f"stack {stack} is not deployed; run python -m stacks.deploy first")
    outputs = deployed.outputs
    if deployed.retained_serials:  # an earlier run stopped after phase 1: finish it
        old, new = max(deployed.retained_serials), deployed.active_serial
        say(f"resuming: key {new} is active, key {old} still retained")
    else:
        old, new = deployed.active_serial, deployed.active_serial + 1

    def mark(phase: str, line: str) -> None:
        timings[phase] = time.monotonic() - began
        say(f"[{timings[phase]:6.1f}s] {line}")
        if on_event is not None:
            on_event(RotationEvent(phase, old, new, timings[phase], dict(outputs)))

    mark(PHASE_START, f"rotating {stack}: key {old} -> key {new}")
    if not deployed.retained_serials:
        context = {CTX_ACCESS_KEY_SERIAL: str(new), CTX_RETAINED_ACCESS_KEY_SERIAL: str(old)}
        outputs = deploy(target, stack, context, deployer=deploy_with, bootstrap=False)
        mark(PHASE_NEW_KEY, f"phase 1: key {new} created, secret points at it, key {old} kept")

    key_id, secret = read_secret_key(target, outputs)
    if not outputs.get(OUTPUT_USER_ARN):
        raise RotationError(f"the stack has no {OUTPUT_USER_ARN} output; redeploy the current stack version")
    verify_key(target, key_id, secret, outputs[OUTPUT_USER_ARN], verify_timeout_s)
    mark(PHASE_VERIFIED, f"key {new} verified (sts get-caller-identity names the stack's user)")

    if sops_file is not None:
        pull_sops(stack, sops_file, target)
        mark(PHASE_PULLED, f"re-pulled {sops_file}")

    if grace_seconds > 0:
        say(f"          both keys valid for the grace period: {grace_seconds:g}s (--grace-seconds)")
    time.sleep(max(0.0, grace_seconds))
    mark(PHASE_GRACE, f"grace period of {grace_seconds:g}s over")

    outputs = deploy(target, stack, {CTX_ACCESS_KEY_SERIAL: str(new)}, deployer=deploy_with, bootstrap=False)
    mark(PHASE_DONE, f"phase 2: key {old} deleted; rotation done")
    return RotationResult(old_serial=old, new_serial=new, timings=timings, outputs=outputs)


def main(
    argv: list[str] | None = None, *, local_target: LocalTarget | None = None, local_sops_file: Path | None = None
) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stacks.rotate", description=__doc__.splitlines()[0].replace("``", "")
    )
    parser.add_argument("--stack", default=DEFAULT_STACK_NAME)
    parser.add_argument(
        "--grace-seconds",
        type=float,
        default=DEFAULT_GRACE_SECONDS,
        help=f"how long both keys stay valid before the old one is deleted (default {DEFAULT_GRACE_SECONDS:g})",
    )
    location = parser.add_mutually_exclusive_group()
    location.add_argument("--local", action="store_true", help="rotate in the running local AWS")
    location.add_argument("--profile", metavar="NAME", help="AWS profile for boto3 and the CDK CLI (real AWS)")
    sops = parser.add_mutually_exclusive_group()
    sops.add_argument("--sops-file", type=Path, help="SOPS env file to re-pull (default: see docs)")
    sops.add_argument("--no-sops", action="store_true", help="do not re-pull a SOPS env file")
    args = parser.parse_args(argv)
    if args.grace_seconds < 0:
        print("error: --grace-seconds must be >= 0", file=sys.stderr)
        return 2
    try:
        target = resolve_target(args.local, args.profile, local_target)
    except PortkeyBedrockError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from botocore.exceptions import BotoCoreError, ClientError

    sops_file = None if args.no_sops else (args.sops_file or default_sops_file(target, local_file=local_sops_file))
    try:
        rotate(target, args.stack, grace_seconds=args.grace_seconds, sops_file=sops_file)
    except (BotoCoreError, ClientError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except (RotationError, CdkError) as err:
        print(f"error: {err}", file=sys.stderr)
        print("the secret still points at a working key; run python -m stacks.rotate again to finish",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0


if __name__ == "__main__":
    from stacks.missing import run_main

    sys.exit(run_main(main))
