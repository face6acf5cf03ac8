"""Run the real CDK CLI (``cdk bootstrap``, ``cdk deploy``) against local AWS or real AWS.

A :class:`Target` says where: :meth:`Target.for_endpoint` points at an AWS endpoint on this machine
(local AWS: ``local.aws.local_target()``) with throw-away credentials; :meth:`Target.from_environ`
uses the ambient AWS environment (and honours ``AWS_ENDPOINT_URL`` when it is set). Nothing else
differs between the two.

    target = Target.for_endpoint("http://localhost:5000")
    ensure_bootstrapped(target)
    outputs = cdk_deploy(target, "PortkeyBedrockAccess", {"access_key_serial": "2"})
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime.constants import (
    DEFAULT_REGION,
    ENV_AWS_ACCESS_KEY_ID,
    ENV_AWS_DEFAULT_REGION,
    ENV_AWS_ENDPOINT_URL,
    ENV_AWS_PROFILE,
    ENV_AWS_REGION,
    ENV_AWS_SECRET_ACCESS_KEY,
    ENV_AWS_SESSION_TOKEN,
    ENV_CDK_DISABLE_CLI_TELEMETRY,
    ENV_CDK_DISABLE_VERSION_CHECK,
    ENV_JSII_SILENCE_DEPRECATED_NODE,
    ENV_JSII_SILENCE_END_OF_LIFE_NODE,
)
from runtime.env import environ_region
from runtime.errors import PortkeyBedrockError
from stacks.config import REPO_ROOT

BOOTSTRAP_QUALIFIER = "hnb659fds"
BOOTSTRAP_PARAMETER = f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version"
# Quiet, offline CLI: no Node end-of-life banner, no telemetry, no version check.
# jsii's banner on Node 20 is only a warning; both variables are needed to silence it.
QUIET_JSII_ENV = {ENV_JSII_SILENCE_DEPRECATED_NODE: "1", ENV_JSII_SILENCE_END_OF_LIFE_NODE: "18,20"}
CLI_ENV = {**QUIET_JSII_ENV, ENV_CDK_DISABLE_CLI_TELEMETRY: "true", ENV_CDK_DISABLE_VERSION_CHECK: "true"}
ERROR_TAIL_LINES = 12
STOP_TIMEOUT_S = 10.0  # how long the CLI's process group gets to exit on SIGTERM before SIGKILL
THROWAWAY_CREDENTIAL = "testing"  # what a local endpoint (moto) accepts as key id and secret


def endpoint_env(endpoint: str, region: str = DEFAULT_REGION) -> dict[str, str]:
    """Endpoint, throw-away credentials and region for an AWS endpoint on this machine.

    >>> sorted(endpoint_env("http://localhost:1"))  # doctest: +NORMALIZE_WHITESPACE
    ['AWS_ACCESS_KEY_ID', 'AWS_DEFAULT_REGION', 'AWS_ENDPOINT_URL', 'AWS_REGION',
     'AWS_SECRET_ACCESS_KEY']
    """
    return {
        ENV_AWS_ENDPOINT_URL: endpoint,
        ENV_AWS_ACCESS_KEY_ID: THROWAWAY_CREDENTIAL,
        ENV_AWS_SECRET_ACCESS_KEY: THROWAWAY_CREDENTIAL,
        ENV_AWS_REGION: region,
        ENV_AWS_DEFAULT_REGION: region,
    }


class CdkError(PortkeyBedrockError):
    """The CDK CLI failed; the message carries the CLI's own error lines (never secrets)."""


@dataclass(frozen=True)
class Target:
    """An AWS environment to deploy into: the process environment for the CLI and boto3."""

    env: Mapping[str, str] = field(repr=False)
    region: str = DEFAULT_REGION
    profile: str | None = None  # --profile: boto3, the CLI's --profile and the app's AWS_PROFILE

    @property
    def endpoint(self) -> str | None:
        """``AWS_ENDPOINT_URL`` of this target, None for real AWS.

        >>> Target.for_endpoint("http://localhost:5000").endpoint
        'http://localhost:5000'
        """
        return self.env.get(ENV_AWS_ENDPOINT_URL) or None

    @property
    def is_local(self) -> bool:
        return self.endpoint is not None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None, *, profile: str | None = None) -> Target:
        """The ambient environment (real AWS unless AWS_ENDPOINT_URL is set). A `profile` (--profile)
        replaces ambient keys, for boto3, the CDK CLI and the app's own lookup alike; its region
        applies unless AWS_REGION is set. An unknown profile is a one-line error.

        >>> Target.from_environ({"AWS_REGION": "eu-west-1"}).region
        'eu-west-1'
        """
        env = dict(os.environ if environ is None else environ)
        profile_region = None
        if profile:
            for name in (ENV_AWS_ACCESS_KEY_ID, ENV_AWS_SECRET_ACCESS_KEY, ENV_AWS_SESSION_TOKEN):
                env.pop(name, None)
            env[ENV_AWS_PROFILE] = profile
            profile_region = profile_region_of(profile)
        region = environ_region(env) or profile_region or DEFAULT_REGION
        return cls(env=env, region=region, profile=profile or None)

    @classmethod
    def for_endpoint(cls, endpoint: str, region: str = DEFAULT_REGION) -> Target:
        """A local endpoint with throw-away credentials; profile and session token dropped.

        >>> Target.for_endpoint("http://localhost:5000").env["AWS_ACCESS_KEY_ID"]
        'testing'
        """
        env = {k: v for k, v in os.environ.items() if k not in (ENV_AWS_PROFILE, ENV_AWS_SESSION_TOKEN)}
        env.update(endpoint_env(endpoint, region))
        return cls(env=env, region=region)

    def session(self) -> Any:
        """A boto3 session with this target's credentials and region."""
        import boto3

        key = self.env.get(ENV_AWS_ACCESS_KEY_ID)
        if key and not self.profile:
            return boto3.Session(
                aws_access_key_id=key,
                aws_secret_access_key=self.env.get(ENV_AWS_SECRET_ACCESS_KEY),
                aws_session_token=self.env.get(ENV_AWS_SESSION_TOKEN),
                region_name=self.region,
            )
        return boto3.Session(profile_name=self.env.get(ENV_AWS_PROFILE), region_name=self.region)

    def client(self, service: str) -> Any:
        return self.session().client(service, endpoint_url=self.endpoint)


def profile_region_of(profile: str) -> str | None:
    """The region configured for an AWS profile (None when it has none); a missing profile is a
    one-line :class:`PortkeyBedrockError`."""
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        region: str | None = boto3.Session(profile_name=profile).region_name
    except ProfileNotFound:
        raise PortkeyBedrockError(
            f"AWS profile {profile!r} is not in ~/.aws/config or ~/.aws/credentials; check --profile "
            "(aws configure list-profiles)"
        ) from None
    return region


def profile_args(target: Target) -> list[str]:
    """``--profile NAME`` for the CDK CLI when the target was given one.

    >>> profile_args(Target(env={}, profile="prod")), profile_args(Target(env={}))
    (['--profile', 'prod'], [])
    """
    return ["--profile", target.profile] if target.profile else []


def cdk_command(repo_root: Path = REPO_ROOT) -> list[str]:
    """The pinned CLI from the checkout's node_modules, else a ``cdk`` on PATH. Never ``npx cdk``:
    without a local install npx asks before downloading, and a non-interactive run ends in
    "npx canceled" (an installed wheel has no node_modules).
    """
    local_bin = repo_root / "node_modules" / ".bin" / "cdk"
    if local_bin.exists():
        return [str(local_bin)]
    on_path = shutil.which("cdk")
    if on_path is None:
        raise CdkError(
            f"no CDK CLI found (no {local_bin}, no `cdk` on PATH); in a checkout run `make install`, "
            "else install the CLI `npm install -g aws-cdk@2` (or set PATH to one)"
        )
    return [on_path]


def error_tail(output: str, lines: int = ERROR_TAIL_LINES) -> str:
    """The CLI's last meaningful lines: Node/jsii banners and blank lines dropped.

    >>> error_tail("!! old node !!\\nok\\n\\n❌ failed\\nError: boom\\n", lines=2)
    '❌ failed\\nError: boom'
    """
    noise = ("!!", "b'!!", "(node:", "(Use `node", "versions published", "will require node",
             "To continue receiving", "and security updates", "More information can be found")  # fmt: skip
    kept = [line for line in output.splitlines() if line.strip() and not line.lstrip().startswith(noise)]
    return "\n".join(kept[-lines:])


def cli_invocation(args: Sequence[str], target: Target) -> tuple[list[str], dict[str, str]]:
    """The CDK CLI's argv and environment for `target`: its --profile goes both to the CLI and,
    as AWS_PROFILE, to the app the CLI runs (the CLI does not pass --profile on to it).

    >>> cmd, env = cli_invocation(["deploy"], Target(env={"AWS_PROFILE": "prod"}, profile="prod"))
    >>> cmd[-4:], env["AWS_PROFILE"]
    (['deploy', '--profile', 'prod', '--no-notices'], 'prod')
    """
    cmd = [*cdk_command(), *args, *profile_args(target), "--no-notices"]
    env = {**target.env, **CLI_ENV}
    if target.profile:
        env[ENV_AWS_PROFILE] = target.profile
    return cmd, env


def run_cdk(
    args: Sequence[str],
    target: Target,
    *,
    cwd: Path = REPO_ROOT,
    quiet: bool = False,
    hide_outputs: bool = False,
) -> str:
    """Run ``cdk ARGS`` for `target`. quiet: capture the output (returned; its tail is in the
    CdkError on failure); otherwise it streams to stderr, without the CLI's "Outputs:" block when
    `hide_outputs` (the caller prints the outputs itself, once)."""
    cmd, env = cli_invocation(args, target)
    if quiet:
        with cli_process(cmd, cwd, env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
            output = proc.communicate()[0] or ""
        returncode = proc.returncode
    else:
        output, returncode = _stream(cmd, cwd, env, OutputsBlockFilter() if hide_outputs else None)
    if returncode != 0:
        detail = error_tail(output) if quiet else "see the CLI output above"
        raise CdkError(f"`cdk {args[0]}` failed (exit {returncode}): {detail}")
    return output


@contextlib.contextmanager
def cli_process(cmd: list[str], cwd: Path, env: Mapping[str, str], **kwargs: Any) -> Iterator[subprocess.Popen[Any]]:
    """The CLI in a process group of its own, stopped with us: Ctrl-C, SIGTERM (see
    :func:`stop_on_sigterm`) or any error while it runs stops the CLI, the app it runs and jsii's
    node, not only npx (``timeout 300 python -m stacks.deploy`` leaves nothing behind)."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, start_new_session=True, **kwargs)
    try:
        yield proc
        proc.wait()
    except BaseException:
        stop_group(proc)
        raise


def stop_group(proc: subprocess.Popen[Any], timeout_s: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM the process group of `proc`, SIGKILL it after `timeout_s`."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=timeout_s)
            return
        except subprocess.TimeoutExpired:
            continue


def stop_on_sigterm() -> None:
    """Turn SIGTERM (``timeout``, a CI runner) into SystemExit(143), so the CLI's process group is
    stopped on the way out (:func:`cli_process`) instead of being orphaned."""

    def exit_143(signum: int, frame: object) -> None:
        raise SystemExit(128 + signal.SIGTERM)

    with contextlib.suppress(ValueError):  # not the main thread (a caller's worker): leave SIGTERM alone
        signal.signal(signal.SIGTERM, exit_143)


class OutputsBlockFilter:
    """Drops the CLI's "Outputs:" block (up to "Stack ARN:") from its progress stream, line by line.

    >>> keep = OutputsBlockFilter()
    >>> [line for line in ["✅  S", "Outputs:", "S.A = 1", "Stack ARN:", "arn:x", "done"] if keep(line)]
    ['✅  S', 'Stack ARN:', 'arn:x', 'done']
    """

    def __init__(self) -> None:
        self.inside = False

    def __call__(self, line: str) -> bool:
        text = line.strip()
        if text == "Outputs:":
            self.inside = True
        elif self.inside and (text.startswith("Stack ARN:") or text.startswith("✨")):
            self.inside = False
        return not self.inside


def _stream(cmd: list[str], cwd: Path, env: Mapping[str, str], keep: Callable[[str], bool] | None) -> tuple[str, int]:
    """Run `cmd`, copying its merged output to our stderr as it comes (lines `keep` accepts)."""
    if keep is None:
        with cli_process(cmd, cwd, env, stdout=_stderr_fd()) as proc:
            pass
        return "", proc.returncode
    seen: list[str] = []
    with cli_process(
        cmd, cwd, env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            seen.append(line)
            if keep(line):
                sys.stderr.write(line)
                sys.stderr.flush()
    return "".join(seen), proc.returncode


def _stderr_fd() -> int:
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # a replaced stderr (pytest capsys): fd 2
        return 2


def account_of(target: Target) -> str:
    return str(target.client("sts").get_caller_identity()["Account"])


def is_bootstrapped(target: Target) -> bool:
    """Whether the CDK bootstrap version parameter exists in the target's region."""
    from botocore.exceptions import ClientError

    try:
        target.client("ssm").get_parameter(Name=BOOTSTRAP_PARAMETER)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "ParameterNotFound":
            return False
        raise
    return True


def ensure_bootstrapped(target: Target, *, quiet: bool = False) -> bool:
    """Run ``cdk bootstrap aws://ACCOUNT/REGION`` unless already bootstrapped. True when it ran."""
    if is_bootstrapped(target):
        return False
    environment = f"aws://{account_of(target)}/{target.region}"
    # Outside the project dir the CLI does not synthesize the app first (saves ~10 s).
    with tempfile.TemporaryDirectory(prefix="cdk-bootstrap-") as empty:
        run_cdk(["bootstrap", environment], target, cwd=Path(empty), quiet=quiet)
    return True


def context_args(context: Mapping[str, object]) -> list[str]:
    """``-c key=value`` arguments, in key order; None values are left out.

    >>> context_args({"b": 2, "a": "x", "c": None})
    ['-c', 'a=x', '-c', 'b=2']
    """
    args: list[str] = []
    for key in sorted(context):
        if context[key] is not None:
            args += ["-c", f"{key}={context[key]}"]
    return args


def cdk_deploy(
    target: Target,
    stack: str,
    context: Mapping[str, object] | None = None,
    *,
    quiet: bool = False,
) -> dict[str, str]:
    """``cdk deploy STACK --require-approval never``; returns the stack's outputs.

    The cloud assembly goes to a private temp dir, so concurrent synths do not collide.
    """
    with tempfile.TemporaryDirectory(prefix="cdk-deploy-") as work:
        outputs_file = Path(work) / "outputs.json"
        args = ["deploy", stack, "--require-approval", "never", "--outputs-file", str(outputs_file)]
        args += ["--output", str(Path(work) / "cdk.out"), *context_args(context or {})]
        run_cdk(args, target, quiet=quiet, hide_outputs=True)  # the caller prints them, once
        try:
            outputs = json.loads(outputs_file.read_text(encoding="utf-8")).get(stack, {})
        except (OSError, ValueError):
            outputs = {}
    return {str(k): str(v) for k, v in outputs.items()}
