"""Detached helper processes (local AWS, the gateway): their JSON state file, whether a recorded pid
is still ours, and stopping one by pid (SIGTERM, then SIGKILL) without leaving a zombie.

Without ``/proc`` (macOS) a live pid counts as ours for every caller: the state file names it and
nothing better is cheaply known. With ``/proc`` the command line must match too (a recycled pid is
not ours, nor is a zombie: its command line is empty).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from runtime.atomicfile import atomic_write_text

PROC = Path("/proc")
POLL_S = 0.05
KILL_WAIT_S = 5.0
CommandLineCheck = Callable[[Sequence[bytes]], bool]


def read_state(path: Path) -> dict[str, Any] | None:
    """The JSON object in a state file, or None (missing, unreadable, not an object)."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def write_state(path: Path, state: dict[str, Any]) -> None:
    """Write a state file atomically (its directory is created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(state, indent=2) + "\n", mode=0o644)


def reap(pid: int) -> None:
    """Collect `pid` if it is our own exited child, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def alive(pid: int) -> bool:
    """`pid` runs (our exited child is reaped first, so it does not count).

    >>> alive(os.getpid()), alive(0), alive(-1)
    (True, False, False)
    """
    if pid <= 0:  # 0 and negatives address process groups, never one process
        return False
    reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # another user's process: never ours
    return True


def is_ours(pid: int, matches: CommandLineCheck, proc: Path | None = None) -> bool:
    """`pid` runs and, where `proc` (``/proc``) exists, its command line passes `matches`.

    >>> is_ours(os.getpid(), lambda argv: True, proc=Path("/nonexistent"))
    True
    >>> is_ours(os.getpid(), lambda argv: False, proc=Path("/nonexistent"))  # no /proc: the pid decides
    True
    """
    if not alive(pid):
        return False
    proc = PROC if proc is None else proc
    if not proc.is_dir():
        return True
    try:
        cmdline = (proc / str(pid) / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False  # exited since alive()
    return matches(cmdline)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _send(pid: int, sig: int, group: bool) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        (os.killpg if group else os.kill)(pid, sig)


def terminate(pid: int, timeout: float, *, group: bool = False, running: Callable[[], bool] | None = None) -> bool:
    """SIGTERM `pid` (its process group when `group`), SIGKILL after `timeout` seconds; reaps it.
    `running` says whether it still runs (default: the pid, or the group, is alive). True when it
    stopped on SIGTERM."""
    still = running or ((lambda: _group_alive(pid)) if group else (lambda: alive(pid)))
    _send(pid, signal.SIGTERM, group)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reap(pid)
        if not still():
            return True
        time.sleep(POLL_S)
    _send(pid, signal.SIGKILL, group)
    deadline = time.monotonic() + KILL_WAIT_S  # SIGKILL is delivered asynchronously
    while time.monotonic() < deadline:
        reap(pid)
        if not still():
            break
        time.sleep(POLL_S)
    return False
