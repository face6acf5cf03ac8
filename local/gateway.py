"""Start and stop the real Portkey gateway (`@portkey-ai/gateway` from node_modules) locally.

    with start_gateway() as gateway:          # a free port on 127.0.0.1
        gateway.base_url                      # http://127.0.0.1:PORT/v1

    make gateway                              # = python -m local.gateway up: 127.0.0.1:8787, headless
    python -m local.gateway up [--port N]     # detached; N=0: a free port; state in .local/gateway.json
    python -m local.gateway status | down     # `make down` stops it too

The gateway's `start-server.js` listens on every interface and has no host option, so node is
started with a preloaded module (`--import data:...`) that pins `net.Server.listen` to the
loopback address. It is stopped by its process group (it runs in its own session).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from local.paths import (
    DEFAULT_STATE_DIR,
    GATEWAY_DEFAULT_PORT,
    GATEWAY_HOST,
    GATEWAY_LOG_FILE_NAME,
    GATEWAY_STATE_FILE_NAME,
)
from local.process import alive, is_ours, read_state, terminate, write_state
from runtime.constants import GATEWAY_GREETING
from runtime.errors import PortkeyBedrockError
from stacks.config import REPO_ROOT

GATEWAY_JS = REPO_ROOT / "node_modules" / "@portkey-ai" / "gateway" / "build" / "start-server.js"
STATE_FILE = DEFAULT_STATE_DIR / GATEWAY_STATE_FILE_NAME
HOST = GATEWAY_HOST
DEFAULT_PORT = GATEWAY_DEFAULT_PORT  # `up` listens where the runtime looks by default

# ESM preload: every listen() without an explicit host binds to loopback only.
_LOOPBACK_PRELOAD = f"""
import net from "node:net";
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {{
  if (typeof args[0] === "number" || (typeof args[0] === "string" && /^\\d+$/.test(args[0]))) {{
    if (args[1] === undefined || args[1] === null) args[1] = "{HOST}";
    else if (typeof args[1] !== "string") args.splice(1, 0, "{HOST}");
  }} else if (args[0] && typeof args[0] === "object" && args[0].path === undefined && !args[0].host) {{
    args[0] = {{ ...args[0], host: "{HOST}" }};
  }}
  return listen.apply(this, args);
}};
"""


class GatewayError(PortkeyBedrockError):
    """The gateway could not be started or stopped."""


def free_port(host: str = HOST) -> int:
    """A port nobody listens on right now (another process may still take it: callers retry)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_taken(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _greeting(url: str, timeout: float = 1.0) -> str | None:
    try:
        with urllib.request.urlopen(f"{url}/", timeout=timeout) as response:  # noqa: S310 - loopback URL
            return str(response.read().decode("utf-8", "replace"))
    except (OSError, urllib.error.URLError):
        return None


def _tail(path: str, lines: int = 5) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:] if line.strip())


class Gateway:
    """A running gateway process."""

    def __init__(
        self,
        process: subprocess.Popen[bytes] | None,
        pid: int,
        port: int,
        log_path: str,
        *,
        remove_log: bool = False,
    ) -> None:
        self._process = process
        self._remove_log = remove_log
        self.pid = pid
        self.port = port
        self.url = f"http://{HOST}:{port}"
        self.base_url = f"{self.url}/v1"
        self.log_path = log_path

    def __repr__(self) -> str:
        return f"Gateway(pid={self.pid}, url={self.url!r})"

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def running(self) -> bool:
        if self._process is not None:
            return self._process.poll() is None
        return alive(self.pid)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group, SIGKILL it after `timeout` seconds; remove a temporary log."""
        try:
            self._terminate(timeout)
        finally:
            if self._remove_log:
                with contextlib.suppress(OSError):
                    os.unlink(self.log_path)

    def _terminate(self, timeout: float) -> None:
        terminate(self.pid, timeout, group=True)
        if self._process is not None:  # already reaped by terminate(): this only records it
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=5)


def _launch(port: int, log_path: str, node: str) -> subprocess.Popen[bytes]:
    preload = "data:text/javascript," + urllib.parse.quote(_LOOPBACK_PRELOAD)
    command = [node, f"--import={preload}", str(GATEWAY_JS), f"--port={port}", "--headless"]
    env = {**os.environ, "NODE_ENV": os.environ.get("NODE_ENV", "development")}
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # own process group: stop() kills node and anything it spawned
        )


def start_gateway(
    port: int | None = None,
    *,
    timeout: float = 30.0,
    log_path: str | None = None,
    node: str = "node",
    attempts: int = 5,
) -> Gateway:
    """Start the gateway on `port` (None: a free one, retried if another process takes it
    first) and wait until ``GET /`` answers ``AI Gateway says hey!``."""
    if not GATEWAY_JS.is_file():
        raise GatewayError(f"{GATEWAY_JS} is missing; run `npm ci` (or `make install`) in {REPO_ROOT}")
    temporary_log = log_path is None
    if log_path is None:
        handle, log_path = tempfile.mkstemp(prefix="portkey-gateway-", suffix=".log")
        os.close(handle)
    last_error = ""
    for _ in range(attempts if port is None else 1):
        chosen = port or free_port()
        if _port_taken(chosen):
            last_error = f"port {chosen} is in use"
            continue
        process = _launch(chosen, log_path, node)
        gateway = Gateway(process, process.pid, chosen, log_path, remove_log=temporary_log)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    break
                if _greeting(gateway.url, timeout=0.5) == GATEWAY_GREETING:
                    return gateway
                time.sleep(0.05)
        except BaseException:  # Ctrl-C while it starts: the caller has no handle to stop it with
            gateway.stop()
            raise
        exited = process.poll() is not None
        gateway._terminate(10.0)  # not stop(): the log stays for the error message
        tail = _tail(log_path)
        if exited and "EADDRINUSE" in tail and port is None:
            last_error = f"port {chosen} was taken while starting"
            continue
        if exited:
            raise GatewayError(
                f"the Portkey gateway exited with status {process.returncode} on port {chosen}; "
                f"see {log_path} ({tail or 'empty log'})"
            )
        raise GatewayError(
            f"the Portkey gateway did not answer GET {gateway.url}/ within {timeout:.0f}s; "
            f"see {log_path} ({tail or 'empty log'})"
        )
    if port is not None:
        raise GatewayError(f"{last_error} (another gateway? python -m local.gateway status); pass --port N")
    raise GatewayError(f"could not find a free port for the gateway ({last_error}); pass --port N")


# -- the command line: state file under .local/ ------------------------------------------------
def is_gateway_command(argv: Sequence[bytes]) -> bool:
    """A command line running the gateway's start-server.js (guards against pid reuse).

    >>> is_gateway_command([b"node", b"/x/build/start-server.js", b"--port=1"]), is_gateway_command([b"node"])
    (True, False)
    """
    return any(part.endswith(b"start-server.js") for part in argv)


def _is_our_gateway(pid: int) -> bool:
    return is_ours(pid, is_gateway_command)


def running_base_url() -> str | None:
    """The base URL of the gateway `up` started, while it runs."""
    state = read_state(STATE_FILE)
    if state is None or not _is_our_gateway(int(state.get("pid", 0))):
        return None
    return str(state["base_url"])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local.gateway",
        description="Run the Portkey gateway on 127.0.0.1, headless, in the background (state in .local/).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the gateway in the background", description="start the gateway")
    up.add_argument("--port", type=int, default=None, help=f"port (default {DEFAULT_PORT}; 0: a free one)")
    up.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for it to answer")
    sub.add_parser("down", help="stop the gateway started by up", description="stop the gateway started by up")
    sub.add_parser("status", help="print the running gateway's URL", description="print the running gateway's URL")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    state = read_state(STATE_FILE)
    running = state is not None and _is_our_gateway(int(state["pid"]))
    if args.command == "status":
        if not running or state is None:
            print("gateway: not running", file=sys.stderr)
            return 1
        print(state["base_url"])
        return 0
    if args.command == "down":
        if running and state is not None:
            Gateway(None, int(state["pid"]), int(state["port"]), str(state["log"])).stop()
            print(f"gateway: stopped pid {state['pid']}")
        else:
            print("gateway: not running")
        STATE_FILE.unlink(missing_ok=True)
        return 0
    if running and state is not None:
        if args.port not in (None, 0, int(state["port"])):  # no --port: whatever port it runs on
            print(
                f"error: a gateway already runs at {state['base_url']} (pid {state['pid']}), not on the requested "
                f"port {args.port}; use that URL, or make down first",
                file=sys.stderr,
            )
            return 2
        print(f"gateway: already running at {state['base_url']} (pid {state['pid']})")
        return 0
    if args.port is None:
        args.port = DEFAULT_PORT
    if not 0 <= args.port < 65536:
        print(f"error: --port {args.port} is not a port number (1-65535, or 0 for a free one)", file=sys.stderr)
        return 2
    log_path = str(STATE_FILE.parent / GATEWAY_LOG_FILE_NAME)
    STATE_FILE.parent.mkdir(parents=True, exist_ok=True)
    try:
        gateway = start_gateway(args.port or None, timeout=args.timeout, log_path=log_path)
    except GatewayError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write_state(
        STATE_FILE,
        {"pid": gateway.pid, "port": gateway.port, "url": gateway.url, "base_url": gateway.base_url, "log": log_path},
    )
    print(f"gateway: {gateway.base_url} (pid {gateway.pid}, headless, loopback only; log {log_path}; stop: make down)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
