"""The package as a user installs it: build the wheel, install it into a fresh venv (with the
`sops` extra), and use the SOPS code from outside the checkout.

Catches a wheel that lacks subpackages or data files (`packages = ["runtime", "stacks", "local"]`
shipped no `runtime.sops`) and dev tooling (`local`) leaking into the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from runtime import constants
from runtime.sops import files
from runtime.sops.age import generate_identity

pytestmark = [pytest.mark.integration, pytest.mark.wheel]
REPO = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".venv", "node_modules", ".local", "cdk.out", ".git", "build", "dist", ".mypy_cache",
             ".ruff_cache", ".pytest_cache", "__pycache__", "tests"}  # fmt: skip
VALUES = {"AWS_ACCESS_KEY_ID": "AKIAWHEELTEST0000001", "AWS_SECRET_ACCESS_KEY": "wheel/Secret+x",
          "AWS_REGION": "eu-west-1"}  # fmt: skip


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell: no PYTHONPATH into the checkout, no dev venv on PATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the checkout (so the build leaves nothing in the repo)."""
    src = tmp_path_factory.mktemp("src") / "project"
    shutil.copytree(REPO, src, ignore=lambda _d, names: [n for n in names if n in SKIP_DIRS or n.endswith(".egg-info")])
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(src)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    (built,) = out.glob("portkey_bedrock_access-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel and its `sops` extra (dependencies from the pip cache, at the
    versions of constraints.txt, as `make install` uses them)."""
    home = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(home)], check=True)
    python = home / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--disable-pip-version-check",
         "-c", str(REPO / "constraints.txt"), f"{wheel}[sops]"],
        check=True, capture_output=True, text=True, env=_clean_env(),
    )  # fmt: skip
    return python


def test_wheel_holds_every_subpackage_and_data_file_but_not_local(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for expected in ("runtime/sops/__init__.py", "runtime/sops/age.py", "runtime/catalog/catalog.json",
                     "runtime/catalog/catalog.schema.json", "runtime/catalog/overlay.schema.json",
                     "runtime/catalog/model.py", "runtime/gateway/headers.py", "runtime/credentials/keys.py",
                     "runtime/cli/__init__.py", "runtime/__main__.py", "stacks/__init__.py"):  # fmt: skip
        assert expected in names
    assert not [n for n in names if n.startswith(("local/", "tests/", "secrets/"))]


def test_installed_wheel_decrypts_outside_the_checkout(venv: Path, tmp_path: Path) -> None:
    identity, recipient = generate_identity()
    work = tmp_path / "elsewhere"
    (work / "secrets").mkdir(parents=True)
    enc = work / "secrets" / "env.json"
    files.write(enc, VALUES, age=[recipient])
    env = _clean_env(**{constants.ENV_SOPS_AGE_KEY: identity, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)})

    decrypted = subprocess.run([str(venv), "-m", "runtime", "secrets", "decrypt", str(enc)], cwd=work, env=env,
                               capture_output=True, text=True, check=False)  # fmt: skip
    assert decrypted.returncode == 0, decrypted.stderr
    assert json.loads(decrypted.stdout) == VALUES

    probe = (
        "import importlib.util, json, runtime, runtime.sops, runtime.catalog.model;"
        "print(json.dumps({'runtime': runtime.__file__, 'models': len(list(runtime.catalog.model.load_catalog())),"
        "'local': importlib.util.find_spec('local') is not None}))"
    )
    imported = subprocess.run([str(venv), "-c", probe], cwd=work, env=env, capture_output=True, text=True, check=False)
    assert imported.returncode == 0, imported.stderr
    found = json.loads(imported.stdout)
    assert str(venv.parent.parent) in found["runtime"]  # the installed copy, not the checkout
    assert found["models"] > 0
    assert found["local"] is False  # dev tooling stays out of the wheel


def test_installed_wheel_has_the_console_script_and_hints_at_the_cdk_extra(venv: Path, tmp_path: Path) -> None:
    env = _clean_env(HOME=str(tmp_path))
    script = venv.parent / "portkey-bedrock"  # `python -m runtime` as a command
    resolved = subprocess.run([str(script), "resolve", "claude-large", "--region", "us-east-1"], cwd=tmp_path,
                              env=env, capture_output=True, text=True, check=False)  # fmt: skip
    assert resolved.returncode == 0, resolved.stderr
    assert resolved.stdout.strip() == "global.anthropic.claude-opus-4-5-20251101-v1:0"
    # installed with [sops] only: no aws_cdk, so one line naming the extra instead of a traceback
    synth = subprocess.run([str(venv), "-m", "stacks.synth"], cwd=tmp_path, env=env, capture_output=True, text=True,
                           check=False)  # fmt: skip
    assert synth.returncode == 2
    assert synth.stderr == (
        "error: aws_cdk is not installed; pip install 'portkey-bedrock-access[cdk]' (the CDK app needs it)\n"
    )
