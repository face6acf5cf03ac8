"""The `python -m runtime` entry point: closed pipes, --version, and help texts."""

import subprocess
import sys
from pathlib import Path

import pytest

from runtime import cli
from runtime.cli import doctor
from runtime.cli.parser import OneLineParser, package_version

REPO = Path(__file__).resolve().parents[4]


def test_models_into_a_closed_pipe_exits_quietly():
    # The reader is gone before the first write (what `models | head -2` does when head exits first).
    proc = subprocess.Popen(
        [sys.executable, "-m", "runtime", "models"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait() == cli.EXIT_BROKEN_PIPE
    assert err == ""  # the old entry point printed a BrokenPipeError traceback here


def test_models_piped_into_head_prints_two_lines():
    done = subprocess.run(
        ["bash", "-c", f"{sys.executable} -m runtime models | head -2"], cwd=REPO, capture_output=True, text=True
    )
    assert len(done.stdout.splitlines()) == 2
    assert done.stderr == ""


def test_version_comes_from_the_package_metadata(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"python -m runtime {package_version()}\n"
    assert package_version()[0].isdigit()


def _subcommand_parsers(parser):
    for action in parser._actions:
        choices = getattr(action, "choices", None)
        if isinstance(choices, dict):
            yield from choices.items()


def _all_help_texts():
    from runtime.cli import secrets as secrets_cli

    top = cli.build_parser()
    yield "runtime", top
    for name, sub in _subcommand_parsers(top):
        if name not in {"secrets", "doctor"}:  # these two own their parsers, below
            yield name, sub
    secrets = secrets_cli.build_parser()
    yield "secrets", secrets
    for name, sub in _subcommand_parsers(secrets):
        yield f"secrets {name}", sub


@pytest.mark.parametrize(("name", "parser"), list(_all_help_texts()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_subcommand_help_has_a_description_and_no_backticks(name, parser):
    text = parser.format_help()
    assert parser.description, f"{name} --help has no description"
    assert "`" not in text


def test_doctor_help_has_no_backticks(capsys):
    with pytest.raises(SystemExit):
        doctor.main(["--help"])
    out = capsys.readouterr().out
    assert "`" not in out
    assert "--live" in out


def test_subcommands_inherit_their_help_as_description():
    parser = OneLineParser(prog="p")
    sub = parser.add_subparsers()
    child = sub.add_parser("x", help="does ``x``")
    assert child.description == "does ``x``"
    assert "does x" in child.format_help()


@pytest.mark.parametrize("module", ["local.aws", "local.gateway", "local.demo"])
def test_local_commands_have_a_description_and_no_backticks(module):
    done = subprocess.run(
        [sys.executable, "-m", module, "--help"], cwd=REPO, capture_output=True, text=True, check=True
    )
    _usage, _, rest = done.stdout.partition("\n\n")
    assert rest.strip() and not rest.startswith(("positional", "options")), f"{module} --help has no description"
    assert "`" not in done.stdout


def test_the_console_script_is_what_python_m_runtime_runs():
    import tomllib
    from pathlib import Path

    import runtime.cli

    repo = Path(__file__).resolve().parents[4]
    scripts = tomllib.loads((repo / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"portkey-bedrock": "runtime.cli:run"}
    assert "from runtime.cli import run" in (repo / "runtime" / "__main__.py").read_text()
    assert callable(runtime.cli.run)


def test_help_runtime_opens_with_a_quick_start():
    import runtime

    doc = runtime.__doc__ or ""
    assert doc.index("Quick start") < 300 and "gateway_http_client" in doc and "catalog" not in doc.split("\n")[0]
