"""The local AWS server process: moto in server mode plus the Bedrock double, in one process.

Run by ``python -m local.aws serve`` (see :mod:`local.aws`); not meant to be imported by
anything else. The moto fixes (:mod:`local.moto_patches.fixes`) are installed here, in this process,
before the first request; the Bedrock double (when present) runs here too because it reads
moto's in-memory IAM backend.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from local.host_check import HostCheckMiddleware
from local.moto_patches import bedrock_control as moto_bedrock_control
from local.moto_patches import fixes as moto_fixes
from runtime.atomicfile import atomic_write_text
from runtime.constants import DEFAULT_REGION

HOST = "127.0.0.1"


class _Stop(Exception):
    """Raised in the main thread by SIGTERM to leave serve_forever."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def _make_server(port: int) -> Any:
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    app = DomainDispatcherApplication(create_backend_app)
    if port and not port_is_free(port):
        print(f"port {port} is in use; picking a free one", file=sys.stderr)
        port = 0
    # 403 unless Host is localhost:PORT / 127.0.0.1:PORT (DNS rebinding: /moto-api/ holds the IAM secret)
    bound: list[int] = []
    guarded = HostCheckMiddleware(app, lambda: bound[0])
    server = make_server(HOST, port, guarded, threaded=True, request_handler=MotoRequestHandler)
    bound.append(int(server.server_port))
    return server


def port_is_free(port: int) -> bool:
    """Whether HOST:port can be bound right now (werkzeug exits the process when it cannot)."""
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def _start_bedrock_double() -> Any | None:
    """Start local.bedrock_double in this process when it exists; its absence is not an error."""
    if importlib.util.find_spec("local.bedrock_double") is None:
        return None
    try:
        module = importlib.import_module("local.bedrock_double")
        start = getattr(module, "start_double", None)
        return None if start is None else start(host=HOST, port=0)
    except Exception as exc:  # a broken double must not take local AWS down
        print(f"bedrock double not started: {type(exc).__name__}: {exc}", file=sys.stderr)
        return None


def write_state(path: Path, state: dict[str, Any]) -> None:
    """Write the state file atomically (temp file in the same directory, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(state, indent=2) + "\n", mode=0o644)


def serve(port: int, state_file: Path, region: str = DEFAULT_REGION) -> int:
    """Serve until SIGTERM/SIGINT; the state file exists exactly while the server listens."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    moto_fixes.install()
    moto_bedrock_control.install(state_file.parent / moto_bedrock_control.DATA_FILE_NAME)
    server = _make_server(port)
    double = _start_bedrock_double()
    actual_port = int(server.server_port)
    state = {
        "pid": os.getpid(),
        "port": actual_port,
        "endpoint": f"http://localhost:{actual_port}",
        "region": region,
        "bedrock_port": getattr(double, "port", None),
        "started_at": time.time(),
    }
    signal.signal(signal.SIGTERM, _on_sigterm)
    write_state(state_file, state)
    print(f"local AWS listening on {state['endpoint']} (pid {state['pid']})", flush=True)
    try:
        server.serve_forever()
    except (_Stop, KeyboardInterrupt):
        pass
    finally:
        server.server_close()
        if double is not None:
            double.stop()
        _remove_own_state(state_file)
    return 0


def _remove_own_state(state_file: Path) -> None:
    try:
        if json.loads(state_file.read_text(encoding="utf-8")).get("pid") == os.getpid():
            state_file.unlink()
    except (OSError, ValueError):
        pass
