"""Local AWS: a detached moto server (plus the Bedrock double) on localhost.

    python -m local.aws up       # start (or reuse) it; prints one line
    python -m local.aws status   # running or not
    eval "$(python -m local.aws env)"  # point the AWS SDKs, the CDK CLI and an app at it
    python -m local.aws down     # stop it by pid; fine when nothing runs

From Python (tests use the context manager; it stops only a server it started)::

    with LocalAws(state_dir=tmp) as aws:
        boto3.client("iam", endpoint_url=aws.endpoint, ...)

State lives in ``.local/aws.json`` (``pid``, ``port``, ``endpoint``, ``region``,
``bedrock_port``); the demo's age identity and SOPS file live under ``.local/`` too.
The endpoint uses ``localhost``, not ``127.0.0.1``: moto finds the bucket of a
CloudFormation ``TemplateURL`` by that host name.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from local.paths import AGE_KEYS_PATH as AGE_KEYS_PATH
from local.paths import DEFAULT_STATE_DIR as DEFAULT_STATE_DIR
from local.paths import GATEWAY_DEFAULT_PORT, GATEWAY_HOST
from local.paths import LOG_FILE_NAME as LOG_FILE_NAME
from local.paths import SOPS_FILE_PATH as SOPS_FILE_PATH
from local.paths import STATE_FILE_NAME as STATE_FILE_NAME
from local.process import is_ours, terminate
from runtime.constants import (
    DEFAULT_REGION,
    ENV_CUSTOM_HOST,
    ENV_GATEWAY_URL,
    ENV_SOPS_AGE_KEY_FILE,
    ENV_SOPS_FILE,
)
from runtime.errors import PortkeyBedrockError
from stacks.cdk_cli import Target, endpoint_env
from stacks.config import REPO_ROOT

# Throw-away credentials: moto accepts any; never real ones.
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


class LocalAwsError(PortkeyBedrockError):
    """Local AWS could not be started, stopped or found."""


@dataclass(frozen=True)
class AwsState:
    """A running local AWS server, as recorded in its state file."""

    pid: int
    port: int
    region: str = DEFAULT_REGION
    bedrock_port: int | None = None
    started_at: float = 0.0

    @property
    def endpoint(self) -> str:
        """The AWS_ENDPOINT_URL of this server.

        >>> AwsState(pid=1, port=5000).endpoint
        'http://localhost:5000'
        """
        return f"http://localhost:{self.port}"

    @property
    def bedrock_url(self) -> str | None:
        """Base URL of the Bedrock double, when it runs.

        >>> AwsState(pid=1, port=5000, bedrock_port=6000).bedrock_url
        'http://127.0.0.1:6000'
        >>> AwsState(pid=1, port=5000).bedrock_url is None
        True
        """
        return None if self.bedrock_port is None else f"http://127.0.0.1:{self.bedrock_port}"

    def env(self) -> dict[str, str]:
        """Environment that points the AWS SDKs and the CDK CLI at this server.

        >>> AwsState(pid=1, port=5000).env()["AWS_ENDPOINT_URL"]
        'http://localhost:5000'
        """
        return endpoint_env(self.endpoint, self.region)


def app_env(state: AwsState, state_dir: Path, gateway_base_url: str | None) -> dict[str, str]:
    """Everything a shell needs to run the CDK CLI, `secrets pull` and an app against local AWS:
    :func:`stacks.cdk_cli.endpoint_env`, the gateway URL, the Bedrock double as custom host, the demo's age
    identity and SOPS file (absolute paths, so the lines work from any directory).

    >>> env = app_env(AwsState(pid=1, port=5000, bedrock_port=6000), Path("/r/.local"), None)
    >>> [env[k] for k in ("PORTKEY_BEDROCK_CUSTOM_HOST", "PORTKEY_GATEWAY_URL", "PORTKEY_BEDROCK_SOPS_FILE")]
    ['http://127.0.0.1:6000', 'http://127.0.0.1:8787/v1', '/r/.local/secrets/env.json']
    """
    env = state.env()
    env[ENV_GATEWAY_URL] = gateway_base_url or f"http://{GATEWAY_HOST}:{GATEWAY_DEFAULT_PORT}/v1"
    if state.bedrock_url:
        env[ENV_CUSTOM_HOST] = state.bedrock_url
    env[ENV_SOPS_AGE_KEY_FILE] = str(state_dir.absolute() / AGE_KEYS_PATH)
    env[ENV_SOPS_FILE] = str(state_dir.absolute() / SOPS_FILE_PATH)
    return env


def shell_exports(env: dict[str, str]) -> str:
    """``export`` lines for a POSIX shell, quoted.

    >>> print(shell_exports({"A": "x y", "B": "1"}))
    export A='x y'
    export B=1
    """
    return "\n".join(f"export {key}={shlex.quote(value)}" for key, value in env.items())


def parse_state(text: str) -> AwsState | None:
    """The state in a state file's text, or None when it is not a valid state.

    >>> parse_state('{"pid": 12, "port": 5000, "bedrock_port": null}').port
    5000
    >>> parse_state("garbage") is None
    True
    """
    try:
        raw = json.loads(text)
        return AwsState(
            pid=int(raw["pid"]),
            port=int(raw["port"]),
            region=str(raw.get("region") or DEFAULT_REGION),
            bedrock_port=None if raw.get("bedrock_port") is None else int(raw["bedrock_port"]),
            started_at=float(raw.get("started_at") or 0.0),
        )
    except (ValueError, KeyError, TypeError):
        return None


def is_server_command(argv: Sequence[bytes]) -> bool:
    """A ``python -m local.aws serve`` command line (guards against pid reuse).

    >>> is_server_command([b"python", b"-m", b"local.aws", b"serve"]), is_server_command([b"sleep"])
    (True, False)
    """
    return b"local.aws" in argv and b"serve" in argv


def _is_our_server(pid: int) -> bool:
    return is_ours(pid, is_server_command)


def _responds(port: int, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"http://localhost:{port}/moto-api/data.json", timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the server is up
    except OSError:
        return False


class LocalAws:
    """Start, find and stop the local AWS server whose state lives in ``state_dir``."""

    def __init__(
        self,
        state_dir: Path | str | None = None,
        port: int = 0,
        region: str = DEFAULT_REGION,
        python: str | None = None,
    ) -> None:
        self.state_dir = Path(state_dir) if state_dir is not None else DEFAULT_STATE_DIR
        self.port = port
        self.region = region
        self.python = python or sys.executable
        self._started_here = False
        self._state: AwsState | None = None

    @property
    def started_here(self) -> bool:
        """True when this handle started the server (the context manager stops only those)."""
        return self._started_here

    @property
    def state_file(self) -> Path:
        return self.state_dir / STATE_FILE_NAME

    @property
    def log_file(self) -> Path:
        return self.state_dir / LOG_FILE_NAME

    @property
    def state(self) -> AwsState:
        found = self._state or self.status()
        if found is None:
            raise LocalAwsError("local AWS is not running; start it with `python -m local.aws up`")
        return found

    @property
    def endpoint(self) -> str:
        return self.state.endpoint

    def env(self) -> dict[str, str]:
        return self.state.env()

    def status(self) -> AwsState | None:
        """The running server, or None; a stale state file (dead pid) is removed."""
        try:
            text = self.state_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        state = parse_state(text)
        if state is None or not _is_our_server(state.pid):
            with contextlib.suppress(FileNotFoundError):
                self.state_file.unlink()
            return None
        return state

    def start(self) -> AwsState:
        """Start the server detached, or return the one already running; waits until it answers."""
        running = self.status()
        if running is not None:
            self._state = running
            return running
        self.state_dir.mkdir(parents=True, exist_ok=True)
        cmd = [self.python, "-m", "local.aws", "serve", "--port", str(self.port), "--region", self.region]
        cmd += ["--state-dir", str(self.state_dir)]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(  # stopped by pid in stop()
                cmd,
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            state = self._wait_ready(proc)
        except BaseException:  # Ctrl-C while it starts: nobody else knows this process
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=STOP_TIMEOUT_S)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            with contextlib.suppress(FileNotFoundError):
                self.state_file.unlink()
            raise
        self._started_here = True
        self._state = state
        return state

    def _wait_ready(self, proc: subprocess.Popen[bytes]) -> AwsState:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            code = proc.poll()
            if code is not None:
                raise LocalAwsError(f"local AWS exited with status {code} while starting; see {self.log_file}")
            state = self.status()
            if state is not None and state.pid == proc.pid and _responds(state.port):
                return state
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        raise LocalAwsError(f"local AWS did not answer within {START_TIMEOUT_S:.0f}s; see {self.log_file}")

    def stop(self) -> bool:
        """Stop the server by its pid (SIGTERM, then SIGKILL). False when nothing was running."""
        state = self.status()
        self._state = None
        if state is None:
            return False
        terminate(state.pid, STOP_TIMEOUT_S, running=lambda: _is_our_server(state.pid))
        with contextlib.suppress(FileNotFoundError):
            self.state_file.unlink()
        return True

    def __enter__(self) -> LocalAws:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._started_here:
            self.stop()


def local_target(aws: LocalAws | None = None) -> Target:
    """A running local AWS (default: the one in ``.local/``) as a deploy target (``python -m
    local.deploy``, ``local.rotate``, ``local.destroy``); a one-line error when it is not running."""
    state = (aws or LocalAws()).state
    return Target.for_endpoint(state.endpoint, state.region)


def run_locally(main: Callable[..., int], argv: Sequence[str] | None = None, **hooks: object) -> int:
    """Run a stacks command's ``main`` with ``--local``, :func:`local_target` and any other `hooks`."""
    return main(["--local", *(sys.argv[1:] if argv is None else argv)], local_target=local_target, **hooks)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local.aws",
        description="Local AWS (moto + the Bedrock double) on localhost. env prints export lines for a shell: "
        'eval "$(python -m local.aws env)"',
    )
    parser.add_argument("command", choices=["up", "down", "status", "env", "serve"])
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port)")
    parser.add_argument("--region", default=DEFAULT_REGION)
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    args = parser.parse_args(argv)
    aws = LocalAws(state_dir=args.state_dir, port=args.port, region=args.region)
    try:
        if args.command == "serve":
            from local.aws_server import serve

            return serve(args.port, aws.state_file, args.region)
        if args.command == "up":
            began = time.monotonic()
            already = aws.status()
            state = aws.start()
            verb = "already running" if already else f"started in {time.monotonic() - began:.1f}s"
            bedrock = f", bedrock double {state.bedrock_url}" if state.bedrock_url else ""
            print(f"local AWS {verb}: {state.endpoint} (pid {state.pid}{bedrock})")
        elif args.command == "down":
            print("local AWS stopped" if aws.stop() else "local AWS was not running")
        elif args.command == "status":
            found = aws.status()
            if found is None:
                print("local AWS is not running")
                return 1
            print(f"local AWS running: {found.endpoint} (pid {found.pid})")
        else:
            from local.gateway import running_base_url

            print(shell_exports(app_env(aws.state, aws.state_dir, running_base_url())))
    except LocalAwsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
