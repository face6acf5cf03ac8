"""Entry point of `python -m runtime`."""

from runtime.cli import run

raise SystemExit(run())
