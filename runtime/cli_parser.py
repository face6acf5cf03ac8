"""The argument parser of every `python -m runtime ...` command: a usage mistake is one line."""

import argparse
from typing import NoReturn

from runtime.errors import PortkeyBedrockError


class UsageError(PortkeyBedrockError):
    """Command-line arguments that do not parse."""


class OneLineParser(argparse.ArgumentParser):
    """``argparse`` that raises :class:`UsageError` (one line, exit 2 in the callers) instead of
    printing the usage block; subcommand parsers made by ``add_subparsers`` inherit it."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")
