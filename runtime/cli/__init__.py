"""The command line (`python -m runtime`, the `portkey-bedrock` script): `main` and `run` live in
`runtime.cli.commands`, one module per command beside it (`config`, `secrets`, `doctor`, `usage`).

This package's own import is cheap: ``runtime.cli.parser`` (the one-line argument parser the
catalog commands share) loads without the CLI's table of commands, whose names are looked up here
on first use (PEP 562).
"""

from typing import Any

TYPE_CHECKING = False
if TYPE_CHECKING:
    from runtime.cli.commands import build_parser as build_parser
    from runtime.cli.commands import format_table as format_table
    from runtime.cli.commands import main as main
    from runtime.cli.commands import run as run


def __getattr__(name: str) -> Any:
    """`main`, `run`, `build_parser`, `format_table`, … of `runtime.cli.commands`, loaded on first use."""
    import importlib  # not `from runtime.cli import commands`: that asks this hook again

    commands = importlib.import_module("runtime.cli.commands")
    try:
        return getattr(commands, name)
    except AttributeError:
        raise AttributeError(f"module 'runtime.cli' has no attribute {name!r}") from None
