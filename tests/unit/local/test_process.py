"""local/process.py: one answer to "is this pid ours" for local AWS and the gateway, with and without
/proc, and stopping by pid (SIGTERM, then SIGKILL) without a zombie left behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from local import aws, gateway, process


def _fake_proc(root: Path, pid: int, argv: list[str]) -> Path:
    (root / str(pid)).mkdir(parents=True)
    (root / str(pid) / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    return root


def test_with_proc_the_command_line_decides(tmp_path):
    me = os.getpid()
    proc = _fake_proc(tmp_path, me, ["node", "/r/build/start-server.js", "--port=1"])
    assert process.is_ours(me, gateway.is_gateway_command, proc)
    assert not process.is_ours(me, aws.is_server_command, proc)  # a recycled pid: someone else's


def test_with_proc_an_exited_pid_is_not_ours(tmp_path):
    assert not process.is_ours(os.getpid(), gateway.is_gateway_command, tmp_path)  # no /proc/<pid>


@pytest.mark.parametrize("is_ours", [aws._is_our_server, gateway._is_our_gateway])
def test_without_proc_local_aws_and_gateway_give_the_same_answer(monkeypatch, tmp_path, is_ours):
    # macOS: no /proc. The gateway used to answer "not ours" there, so status/down lost it.
    monkeypatch.setattr(process, "PROC", tmp_path / "no-proc")
    assert is_ours(os.getpid()) is True
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert is_ours(dead.pid) is False


def test_dead_and_group_pids_are_never_alive():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    while child.poll() is None:
        pass
    assert not process.alive(child.pid)
    assert not process.alive(0) and not process.alive(-1)


def test_an_exited_child_is_reaped_not_counted(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # exited, still a zombie
    assert not process.alive(child.pid)
    with pytest.raises(ChildProcessError):  # alive() collected it
        os.waitpid(child.pid, os.WNOHANG)


def test_terminate_stops_on_sigterm():
    child = subprocess.Popen(["sleep", "30"], start_new_session=True)
    assert process.terminate(child.pid, 5.0, group=True) is True
    assert not process.alive(child.pid)


def test_terminate_kills_what_ignores_sigterm():
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); "
    code += "time.sleep(30)"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert child.stdout is not None and child.stdout.readline() == b"ready\n"
    assert process.terminate(child.pid, 0.3) is False
    assert not process.alive(child.pid)
    assert child.wait(timeout=5) in (-9, 0)  # SIGKILL (0 when terminate() reaped it first)


def test_state_file_round_trip_and_bad_files(tmp_path):
    path = tmp_path / "sub" / "state.json"
    assert process.read_state(path) is None
    process.write_state(path, {"pid": 1, "port": 2})
    assert process.read_state(path) == {"pid": 1, "port": 2}
    path.write_text("[1, 2]")
    assert process.read_state(path) is None
    path.write_text("{not json")
    assert process.read_state(path) is None
