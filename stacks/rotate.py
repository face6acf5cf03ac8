"""``python -m stacks.rotate``: two-phase, zero-downtime rotation of the user's access key.

    python -m local.rotate --grace-seconds 5      # make rotate (local demo: a short grace)
    python -m stacks.rotate                       # real AWS (ambient credentials), 300 s grace
    python -m stacks.rotate --profile prod        # real AWS with a named profile

With key N deployed:

1. deploy ``access_key_serial=N+1, retained_access_key_serial=N``: key N+1 is created and the
   secret moves to it; key N still works;
2. check key N+1 (``sts get-caller-identity`` with it must name the stack's user);
3. re-pull every SOPS env file it knows (``secrets pull``): ``--sops-file`` (repeatable),
   ``$PORTKEY_BEDROCK_SOPS_FILE``, secrets/env.json (a local run: the local tooling's file instead)
   and the files registered with ``--register`` (kept in ``.local/sops-files.json``). When none was
   re-pulled, it says so and stops before step 5 (key N kept) unless ``--no-sops``;
4. wait the grace period (default 300 s: clients still holding key N finish, and apps that
   reload the SOPS file on change pick key N+1 up);
5. deploy ``access_key_serial=N+1`` alone: key N is deleted.

Both deploys use exactly the deployed settings (the stack's ``Config`` output): a rotation never
changes what the key may do. The secret points at an existing, active key at every moment. A run
interrupted after step 1 is finished by running it again (the retained key is found in the
deployed template). Phases are printed with timings, never a secret; `rotate(..., on_event=...)`
lets a caller (a load test) act between phases.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from runtime.constants import (
    DEFAULT_SECRETS_FILE,
    DEFAULT_STACK_NAME,
    ENV_AWS_ACCESS_KEY_ID,
    ENV_AWS_SECRET_ACCESS_KEY,
    ENV_SOPS_FILE,
    EXIT_INTERRUPTED,
    OUTPUT_CONFIG,
    OUTPUT_SECRET_ARN,
    OUTPUT_USER_ARN,
)
from runtime.errors import PortkeyBedrockError
from stacks.cdk_cli import CdkError, Target, stop_on_sigterm
from stacks.config import CTX_ACCESS_KEY_SERIAL, CTX_RETAINED_ACCESS_KEY_SERIAL, REPO_ROOT
from stacks.deploy import (
    CDK_PROFILE_HELP,
    Deployer,
    LocalTarget,
    add_location_arguments,
    cli_deployer,
    deploy,
    read_deployed,
    resolve_target,
)

VERIFY_TIMEOUT_S = 90.0  # new IAM keys take a few seconds to work on real AWS
# Long enough for in-flight requests and for long-running apps to re-read the SOPS file or secret;
# short enough that a leaked old key dies soon. make rotate passes 5 s for the local demo.
DEFAULT_GRACE_SECONDS = 300.0
# SOPS env files registered with --register, per kind of target ({"aws": [...], "local": [...]}).
SOPS_REGISTRY = REPO_ROOT / ".local" / "sops-files.json"

PHASE_START = "start"
PHASE_NEW_KEY = "new-key-deployed"
PHASE_VERIFIED = "new-key-verified"
PHASE_PULLED = "sops-pulled"
PHASE_GRACE = "grace-over"
PHASE_DONE = "old-key-deleted"


class RotationError(PortkeyBedrockError):
    """Rotation stopped; the old key is still in place when this is raised after phase 1."""


class NoStack(RotationError):
    """There is no deployed stack to rotate."""


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
    """secrets/env.json for real AWS; for a local endpoint only `local_file` (the local tooling's,
    which ``python -m local.rotate`` passes), so a local run never rewrites the real file. None
    when there is no such file.

    >>> default_sops_file(Target.for_endpoint("http://localhost:1"), Path("/nonexistent")) is None
    True
    >>> default_sops_file(Target.for_endpoint("http://localhost:1"), Path("/"), local_file=Path("/")) == Path("/")
    True
    """
    path = local_file if target.is_local else root / DEFAULT_SECRETS_FILE
    return path if path is not None and path.exists() else None


def registry_kind(target: Target) -> str:
    """The registry list a target's files are kept in: a local run never re-pulls a real file.

    >>> registry_kind(Target.for_endpoint("http://localhost:1")), registry_kind(Target(env={}))
    ('local', 'aws')
    """
    return "local" if target.is_local else "aws"


def registered_sops_files(target: Target, registry: Path | None = None) -> list[Path]:
    """The files registered with ``--register`` for this kind of target (``.local/sops-files.json``)."""
    registry = registry or SOPS_REGISTRY
    try:
        value = json.loads(registry.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as err:
        raise RotationError(f"cannot read {registry} ({err}); fix or delete it") from None
    listed = value.get(registry_kind(target), []) if isinstance(value, dict) else []
    return [Path(item) for item in listed if isinstance(item, str)]


def register_sops_file(target: Target, path: Path, registry: Path | None = None) -> Path:
    """Add `path` (absolute) to the registry of this kind of target; returns the absolute path."""
    from runtime.atomicfile import atomic_write_text

    registry = registry or SOPS_REGISTRY
    try:
        value = json.loads(registry.read_text(encoding="utf-8"))
    except FileNotFoundError:
        value = {}
    except (OSError, ValueError) as err:
        raise RotationError(f"cannot read {registry} ({err}); fix or delete it") from None
    if not isinstance(value, dict):
        value = {}
    absolute = path.expanduser().resolve()
    listed = [item for item in value.get(registry_kind(target), []) if isinstance(item, str)]
    if str(absolute) not in listed:
        listed.append(str(absolute))
    value[registry_kind(target)] = listed
    registry.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(registry, json.dumps(value, indent=2) + "\n", mode=0o644)
    return absolute


def known_sops_files(
    target: Target,
    given: Sequence[Path] = (),
    environ: Mapping[str, str] | None = None,
    *,
    local_file: Path | None = None,
    registry: Path | None = None,
    root: Path = REPO_ROOT,
) -> tuple[list[Path], list[Path]]:
    """Every SOPS env file rotation re-pulls: ``--sops-file`` (pulled even when missing),
    ``PORTKEY_BEDROCK_SOPS_FILE``, secrets/env.json (the local tooling's file for a local target)
    and the registered ones; the same file once. Returns (to pull, listed but missing).

    >>> known_sops_files(Target.for_endpoint("http://localhost:1"), [Path("/tmp/a.json")],
    ...                  {"PORTKEY_BEDROCK_SOPS_FILE": "/nonexistent/b.json"}, registry=Path("/nonexistent"))
    ([PosixPath('/tmp/a.json')], [PosixPath('/nonexistent/b.json')])
    """
    env = os.environ if environ is None else environ
    candidates: list[tuple[Path, bool]] = [(path, True) for path in given]
    if env.get(ENV_SOPS_FILE):
        candidates.append((Path(env[ENV_SOPS_FILE]), False))
    default = default_sops_file(target, root, local_file)
    if default is not None:
        candidates.append((default, False))
    candidates += [(path, False) for path in registered_sops_files(target, registry)]
    seen: set[Path] = set()
    pulled: list[Path] = []
    missing: list[Path] = []
    for path, explicit in candidates:
        key = path.expanduser().resolve()
        if key in seen:
            continue
        seen.add(key)
        (pulled if explicit or path.expanduser().exists() else missing).append(path.expanduser())
    return pulled, missing


def read_secret_key(target: Target, outputs: dict[str, str]) -> tuple[str, str]:
    """The (access key id, secret access key) the secret holds now."""
    from runtime.credentials.secrets_pull import read_secret

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
    from runtime.credentials.secrets_pull import pull

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


class NoSopsFileRepulled(RotationError):
    """Phase 1 is done but no SOPS file holds the new key: phase 2 (deleting the old key) is refused."""


def rotate(
    target: Target,
    stack: str = DEFAULT_STACK_NAME,
    *,
    grace_seconds: float = DEFAULT_GRACE_SECONDS,
    sops_files: Sequence[Path] = (),
    require_sops: bool = False,
    deployer: Deployer | None = None,
    on_event: RotationHook | None = None,
    verify_timeout_s: float = VERIFY_TIMEOUT_S,
    log: Callable[[str], None] | None = None,
) -> RotationResult:
    """Rotate the deployed key N -> N+1 in two phases (see the module docstring), with exactly the
    deployed settings. Every file of `sops_files` is re-pulled after phase 1; with
    `require_sops`, phase 2 is refused when none was (:class:`NoSopsFileRepulled`)."""
    say = log or (lambda line: print(line, flush=True))
    began = time.monotonic()
    timings: dict[str, float] = {}
    deploy_with = deployer or cli_deployer(quiet=True)

    deployed = read_deployed(target, stack)
    if deployed is None or deployed.active_serial is None:
        raise NoStack(f"there is no stack {stack} in {target.endpoint or target.region}; deploy it first "
                      "(python -m stacks.deploy, or make demo KEEP=1 locally)")  # fmt: skip
    if deployed.config is None or deployed.config.derived:
        raise RotationError(
            f"{stack} records no settings (deployed before its {OUTPUT_CONFIG} output), so a rotation could "
            "change what the key may do; redeploy it once with its -c values (python -m stacks.deploy), then rotate"
        )
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
        outputs = deploy(target, stack, context, deployer=deploy_with, bootstrap=False, exact=True)
        mark(PHASE_NEW_KEY, f"phase 1: key {new} created, secret points at it, key {old} kept")

    key_id, secret = read_secret_key(target, outputs)
    if not outputs.get(OUTPUT_USER_ARN):
        raise RotationError(f"the stack has no {OUTPUT_USER_ARN} output; redeploy the current stack version")
    verify_key(target, key_id, secret, outputs[OUTPUT_USER_ARN], verify_timeout_s)
    mark(PHASE_VERIFIED, f"key {new} verified (sts get-caller-identity names the stack's user)")

    for path in sops_files:
        pull_sops(stack, path, target)
    if sops_files:
        mark(PHASE_PULLED, f"phase 1: re-pulled {len(sops_files)} SOPS file(s): {', '.join(map(str, sops_files))}")
    elif require_sops:
        say("          phase 1: no SOPS file was re-pulled (none known), so phase 2 is refused")
        raise NoSopsFileRepulled(
            f"no SOPS file holds key {new} (none known: --sops-file, ${ENV_SOPS_FILE}, {DEFAULT_SECRETS_FILE}, "
            f"--register); key {old} is kept: pass --sops-file PATH, or --no-sops when no file holds the key"
        )

    if grace_seconds > 0:
        say(f"          both keys valid for the grace period: {grace_seconds:g}s (--grace-seconds)")
    time.sleep(max(0.0, grace_seconds))
    mark(PHASE_GRACE, f"grace period of {grace_seconds:g}s over")

    context = {CTX_ACCESS_KEY_SERIAL: str(new)}
    outputs = deploy(target, stack, context, deployer=deploy_with, bootstrap=False, exact=True)
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
    add_location_arguments(parser, "rotate in the running local AWS", CDK_PROFILE_HELP)
    sops = parser.add_mutually_exclusive_group()
    sops.add_argument(
        "--sops-file",
        type=Path,
        action="append",
        default=[],
        help=f"a SOPS env file to re-pull (repeatable); also re-pulled: ${ENV_SOPS_FILE}, {DEFAULT_SECRETS_FILE} "
        f"and the registered files",
    )
    sops.add_argument("--no-sops", action="store_true", help="re-pull no SOPS file (none holds the key)")
    parser.add_argument(
        "--register",
        type=Path,
        action="append",
        default=[],
        metavar="PATH",
        help="only remember a SOPS env file for every later rotation (.local/sops-files.json)",
    )
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

    stop_on_sigterm()
    if args.register:  # register only: a rotation is never started by the way
        try:
            for path in args.register:
                print(f"registered {register_sops_file(target, path)}: every later rotation re-pulls it")
        except RotationError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        return 0
    try:
        sops_files: list[Path] = []
        if not args.no_sops:
            sops_files, missing = known_sops_files(target, args.sops_file, local_file=local_sops_file)
            for path in missing:
                print(f"note: {path} does not exist; not re-pulled", file=sys.stderr)
        rotate(target, args.stack, grace_seconds=args.grace_seconds, sops_files=sops_files,
               require_sops=not args.no_sops)  # fmt: skip
    except NoStack as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: the secret still points at a working key; run python -m stacks.rotate again to finish",
              file=sys.stderr)  # fmt: skip
        return EXIT_INTERRUPTED
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
