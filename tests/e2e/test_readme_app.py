"""The README's "Local flow by hand" and "Use it from your app", followed the way a user types them.

The shell block is taken from README.md and run by bash in a copy of this checkout (its own `.local/`,
so a developer's demo state is left alone) with nothing in the environment but PATH and HOME; the
Python snippets are taken from README.md and run as written, with only what `python -m local.aws env`
prints. Then a client written as the README shows outlives a key rotation (`python -m local.rotate`),
while the README's former usage (headers built once) gets 403 once the old key is deleted.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
# What the README's app section said before runtime.gateway_http_client: headers built once.
HEADERS_BUILT_ONCE = """
import runtime
from openai import OpenAI

credentials = runtime.Credentials.from_sops("{sops_file}")
client = OpenAI(
    base_url=runtime.gateway_url(),
    api_key="unused",
    default_headers=runtime.portkey_headers("claude-sonnet-4.5", credentials),
)
reply = client.chat.completions.create(
    **runtime.chat_request("claude-sonnet-4.5", [{{"role": "user", "content": "Hello"}}], credentials=credentials)
)
print(reply.choices[0].message.content)
"""
# Runs a snippet once, then its request again for every line on stdin: a long-lived client.
LONG_LIVED = """
import sys
source = open(sys.argv[1]).read()
setup, request = source[: source.index("reply = ")], source[source.index("reply = ") :]
scope = {}
exec(setup, scope)
for _ in sys.stdin:
    try:
        exec(request, scope)
    except Exception as err:
        print(f"{type(err).__name__}: {getattr(err, 'status_code', '')}")
    sys.stdout.flush()
"""


def readme_section(title: str) -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def code_blocks(section: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.DOTALL)


@dataclass(frozen=True)
class Checkout:
    root: Path
    env: dict[str, str]  # PATH, HOME and what `local.aws env` printed

    def run(self, *args: str, stdin: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args), cwd=self.root, env=self.env, input=stdin, capture_output=True, text=True, timeout=timeout
        )


def _copy_checkout(destination: Path) -> Path:
    """This checkout's files (mtimes kept, so make sees nothing to install) with .venv and
    node_modules linked, not copied."""
    skip = {".git", ".venv", "node_modules", ".local", "cdk.out", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
    shutil.copytree(REPO, destination, ignore=lambda d, names: [n for n in names if n in skip or n == "__pycache__"])
    for linked in (".venv", "node_modules"):
        (destination / linked).symlink_to(REPO / linked)
    # The install stamps are the linked (shared) ones: make in the copy must never see them as out of
    # date (an edited pyproject.toml would re-install the venv from this temporary copy and `npm ci`
    # would empty the shared node_modules under every other run). What the venv lacks fails loudly.
    stamps = {".venv/.installed": ["pyproject.toml"], "node_modules/.installed": ["package.json", "package-lock.json"]}
    for stamp, inputs in stamps.items():
        if (destination / stamp).exists():
            older = (destination / stamp).stat().st_mtime - 1
            for name in inputs:
                os.utime(destination / name, (older, older))
    return destination


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Checkout]:
    if not (REPO / "node_modules" / ".bin" / "cdk").exists():
        pytest.skip("node_modules is missing; run make install")
    root = _copy_checkout(tmp_path_factory.mktemp("readme") / "checkout")
    home = tmp_path_factory.mktemp("home")
    from local.gateway import free_port

    # `make gateway GATEWAY_PORT=N`, as the README allows: 8787 may be taken on a shared machine
    gateway_port = str(free_port())
    bare = {"PATH": SYSTEM_PATH, "HOME": str(home), "GATEWAY_PORT": gateway_port}
    [shell] = code_blocks(readme_section("Local flow by hand"), "sh")
    try:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", shell],
            cwd=root,
            env=bare,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, f"README shell block failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        assert "doctor: all checks passed" in done.stdout
        # the shell the user is left in: the venv's PATH and what `local.aws env` prints, nothing else
        printed = subprocess.run(
            [str(VENV_BIN / "python"), "-m", "local.aws", "env"],
            cwd=root,
            env=bare,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        env = {"PATH": f"{VENV_BIN}:{SYSTEM_PATH}", "HOME": str(home)}
        for line in printed.splitlines():
            name, value = line.removeprefix("export ").split("=", 1)
            env[name] = subprocess.run(
                ["bash", "-c", f"printf %s {value}"], capture_output=True, text=True, check=True
            ).stdout
        assert env["PORTKEY_GATEWAY_URL"] == f"http://127.0.0.1:{gateway_port}/v1"  # the running `make gateway`
        yield Checkout(root, env)
    finally:
        down = subprocess.run(
            ["make", "down"], cwd=root, env={**bare, "PATH": f"{VENV_BIN}:{SYSTEM_PATH}"}, capture_output=True
        )
        assert down.returncode == 0
        leftover = subprocess.run(["pgrep", "-f", str(root)], capture_output=True, text=True, check=False).stdout
        assert leftover == "", "make down left processes of the README flow running"


def test_local_aws_env_prints_every_variable_the_app_needs(checkout):
    for name in (
        "AWS_ENDPOINT_URL",
        "AWS_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "PORTKEY_BEDROCK_CUSTOM_HOST",
        "PORTKEY_GATEWAY_URL",
        "PORTKEY_BEDROCK_SOPS_FILE",
        "SOPS_AGE_KEY_FILE",
    ):
        assert checkout.env.get(name), name
    assert Path(checkout.env["PORTKEY_BEDROCK_SOPS_FILE"]) == checkout.root / ".local" / "secrets" / "env.json"


@pytest.mark.parametrize("index", [0, 1], ids=["openai-sdk", "portkey-sdk"])
def test_each_readme_snippet_runs_as_written(checkout, index, tmp_path):
    snippets = code_blocks(readme_section("Use it from your app"), "python")
    assert len(snippets) == 2
    app = tmp_path / "my_app.py"  # as the README says: app.py is the CDK app
    app.write_text(snippets[index], encoding="utf-8")
    done = checkout.run("python", str(app))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("Hello from "), done.stdout
    decrypted = checkout.run("python", "-m", "runtime", "secrets", "decrypt", checkout.env["PORTKEY_BEDROCK_SOPS_FILE"])
    secret = json.loads(decrypted.stdout)
    assert secret["AWS_SECRET_ACCESS_KEY"] not in done.stdout + done.stderr
    assert (
        "my_app.py" in readme_section("Local flow by hand")
        and "(`python app.py`)" not in (REPO / "README.md").read_text()
    )


@pytest.mark.parametrize("index", [0, 1], ids=["openai-sdk", "portkey-sdk"])
def test_each_api_key_snippet_runs_as_written(checkout, index, tmp_path):
    """The apiKey snippets, after the deploy their section names (`-c api_keys=short-term`)."""
    snippets = code_blocks(readme_section("Short-term Bedrock API keys (apiKey mode)"), "python")
    assert len(snippets) == 2
    for snippet in snippets:  # the variable, as the SigV4 snippets do: never a hard-coded path alone
        assert 'os.environ.get("PORTKEY_BEDROCK_SOPS_FILE", "secrets/env.json")' in snippet
    if index == 0:  # once: the README's deploy for this mode (allow_widening: it adds an action)
        deployed = checkout.run("npx", "cdk", "deploy", "--require-approval", "never", "-c", "api_keys=short-term",
                                "-c", "allow_widening=true")  # fmt: skip
        assert deployed.returncode == 0, deployed.stderr[-2000:]
    app = tmp_path / "my_app.py"
    app.write_text(snippets[index], encoding="utf-8")
    done = checkout.run("python", str(app))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("Hello from "), done.stdout
    decrypted = checkout.run("python", "-m", "runtime", "secrets", "decrypt", checkout.env["PORTKEY_BEDROCK_SOPS_FILE"])
    assert json.loads(decrypted.stdout)["AWS_SECRET_ACCESS_KEY"] not in done.stdout + done.stderr


def _long_lived(checkout: Checkout, source: str, tmp_path: Path, name: str) -> subprocess.Popen[str]:
    script = tmp_path / f"{name}.py"
    script.write_text(source, encoding="utf-8")
    driver = tmp_path / "long_lived.py"
    driver.write_text(LONG_LIVED, encoding="utf-8")
    return subprocess.Popen(
        ["python", str(driver), str(script)],
        cwd=checkout.root,
        env=checkout.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _ask(client: subprocess.Popen[str]) -> str:
    assert client.stdin is not None and client.stdout is not None
    client.stdin.write("go\n")
    client.stdin.flush()
    return client.stdout.readline().strip()


def test_a_client_written_as_the_readme_shows_outlives_a_rotation(checkout, tmp_path):
    """Runs last: it rotates the deployed key."""
    readme_snippet = code_blocks(readme_section("Use it from your app"), "python")[0]
    sops_file = checkout.env["PORTKEY_BEDROCK_SOPS_FILE"]
    new_style = _long_lived(checkout, readme_snippet, tmp_path, "readme")
    old_style = _long_lived(checkout, HEADERS_BUILT_ONCE.format(sops_file=sops_file), tmp_path, "headers_once")
    try:
        assert _ask(new_style).startswith("Hello from ")
        assert _ask(old_style).startswith("Hello from ")
        rotated = checkout.run("python", "-m", "local.rotate", "--grace-seconds", "1")
        assert rotated.returncode == 0, rotated.stderr[-2000:]
        assert "phase 2: key 1 deleted" in rotated.stdout
        assert _ask(new_style).startswith("Hello from ")  # same process, same client, new key
        assert _ask(old_style) == "PermissionDeniedError: 403"  # the old usage keeps the deleted key
    finally:
        for client in (new_style, old_style):
            client.kill()
            client.communicate()
