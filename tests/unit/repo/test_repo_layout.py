"""The repository keeps its promises: two README commands that CI runs, pinned tools, safe secrets/."""

import json
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def _readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Two commands", 1)[1].split("##", 1)[0]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.strip().splitlines()]


def test_readme_has_exactly_the_two_setup_commands():
    assert _readme_commands() == ["make demo", "make test"]


def test_ci_runs_the_readme_test_command():
    lines = [ln.strip() for ln in (REPO / ".ci" / "run").read_text().splitlines()]
    commands = [ln for ln in lines if ln and not ln.startswith("#") and not ln.startswith(("set ", "cd "))]
    assert commands == ["make test"]


def test_makefile_targets_exist_and_install_first():
    makefile = (REPO / "Makefile").read_text()
    for target in ("demo", "test"):
        match = re.search(rf"^{target}:(.*)$", makefile, re.M)
        assert match, target
        assert "install" in match.group(1)


def test_cdk_cli_and_gateway_are_pinned_exactly_and_read_from_package_json():
    from stacks.pins import cdk_cli_version, gateway_version, npm_pins

    dev = json.loads((REPO / "package.json").read_text())["devDependencies"]
    assert npm_pins() == dev
    for version in (cdk_cli_version(), gateway_version()):
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), version  # exact: no ^, ~ or range
    lock = json.loads((REPO / "package-lock.json").read_text())["packages"]
    assert lock["node_modules/aws-cdk"]["version"] == cdk_cli_version()
    assert lock["node_modules/@portkey-ai/gateway"]["version"] == gateway_version()
    for name, version in dev.items():  # `npm ci` installed exactly the pins (once `make install` ran)
        installed = REPO / "node_modules" / name / "package.json"
        if installed.is_file():
            assert json.loads(installed.read_text())["version"] == version, name


def test_secrets_dir_is_not_a_python_package():
    assert not (REPO / "secrets" / "__init__.py").exists()


def test_no_plaintext_secret_files_are_tracked():
    tracked = subprocess.run(
        ["git", "ls-files", "secrets", ".local"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    assert not [path for path in tracked if path.startswith(".local/")]
    for path in tracked:
        if path.endswith(".json") and ".example." not in path:
            assert '"sops"' in (REPO / path).read_text(), f"{path} is not a SOPS document"
