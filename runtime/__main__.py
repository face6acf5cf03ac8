"""Entry point of `python -m runtime`."""

from runtime.cli import main

raise SystemExit(main())
