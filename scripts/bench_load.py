"""`make bench`, load part: chat completions through the real Portkey gateway to the Bedrock
double, both started here on loopback and stopped at the end. Not a test: it prints figures.

    python scripts/bench_load.py [--total 5000] [--concurrency 50] [--json]

Runs a non-streaming and a streaming load (each after a one-request-per-worker warm-up) and
prints one paragraph per run; exit status 1 when a run had errors or did not finish.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench_load.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--total", type=int, default=5000, help="requests per run (default 5000)")
    parser.add_argument("--concurrency", type=int, default=50, help="requests in flight (default 50)")
    parser.add_argument("--no-stream", action="store_true", help="skip the streaming run")
    parser.add_argument("--json", action="store_true", help="one JSON object per run instead of a paragraph")
    args = parser.parse_args(argv)
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from local.load import run_local
    from runtime.errors import PortkeyBedrockError

    print(f"load bench on {os.cpu_count()} CPU(s): gateway + double on 127.0.0.1", file=sys.stderr)
    failed = False
    for stream in (False,) if args.no_stream else (False, True):
        try:
            report = run_local(args.total, args.concurrency, stream=stream)
        except PortkeyBedrockError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(json.dumps(report.figures()) if args.json else report.format(), flush=True)
        failed = failed or report.error_count > 0 or report.unsent > 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
