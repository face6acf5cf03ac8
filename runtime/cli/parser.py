"""The argument parser of every `python -m runtime ...` command: a usage mistake is one line, every
subcommand's ``--help`` has a description, and help text shows no reStructuredText backticks."""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from runtime.errors import PortkeyBedrockError


class UsageError(PortkeyBedrockError):
    """Command-line arguments that do not parse."""


def plain_text(text: str) -> str:
    """Help text without the backticks docstrings use for code (reST ``x`` and Markdown `x`).

    >>> plain_text("run ``python -m runtime secrets pull`` or `make demo`")
    'run python -m runtime secrets pull or make demo'
    """
    return text.replace("``", "").replace("`", "")


class _Subcommands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """``add_subparsers`` whose subcommands get their one-line ``help`` as ``--help`` description."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        if kwargs.get("description") is None and kwargs.get("help"):
            kwargs["description"] = kwargs["help"]
        parser: argparse.ArgumentParser = super().add_parser(name, **kwargs)
        return parser


class OneLineParser(argparse.ArgumentParser):
    """``argparse`` that raises :class:`UsageError` (one line, exit 2 in the callers) instead of
    printing the usage block; subcommand parsers made by ``add_subparsers`` inherit it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", "parsers", _Subcommands)

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")

    def format_help(self) -> str:
        return plain_text(super().format_help())

    def format_usage(self) -> str:
        return plain_text(super().format_usage())


class VersionAction(argparse.Action):
    """``--version``: prints the installed package's version, read only when asked for."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        kwargs.setdefault("help", "print the version and exit")
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> NoReturn:
        print(f"{parser.prog} {package_version()}")
        parser.exit()


DISTRIBUTION = "portkey-bedrock-access"


def package_version() -> str:
    """The installed distribution's version (``pyproject.toml``), or ``unknown`` when the package
    runs from a checkout that was never installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown (not installed: pip install -e .)"
