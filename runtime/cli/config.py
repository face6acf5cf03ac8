"""`python -m runtime config NAME [NAME...]`: the ``x-portkey-config`` JSON for non-Python apps.

One model and region is a single target; several models and/or ``--regions`` make a fallback
chain (all regions of the first model, then the next; see `runtime.gateway.fallback`). Credentials come
from the environment or ``--sops FILE`` and are redacted unless ``--show-secrets``.
"""

from __future__ import annotations

import json

from runtime.credentials.keys import Credentials
from runtime.env import split_list
from runtime.redact import redact_config

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    """Register the ``config`` subcommand on `sub` (runtime/cli/commands.py's subparsers)."""
    parser = sub.add_parser("config", help="the x-portkey-config JSON: one target or a fallback chain")
    parser.add_argument("names", nargs="+", metavar="NAME", help="catalog names or aliases, in fallback order")
    parser.add_argument("--region", help="one source region (default: the credentials' AWS_REGION, else us-east-1)")
    parser.add_argument("--regions", help="comma list of source regions for the chain, e.g. us-east-1,us-west-2")
    parser.add_argument("--request-timeout", type=int, metavar="MS", help="gateway request_timeout (ms) -> 408")
    parser.add_argument("--retry-attempts", type=int, metavar="N", help="retry attempts per target (0-5)")
    parser.add_argument("--sops", metavar="FILE", help="read credentials from a SOPS env file")
    parser.add_argument("--custom-host", help="send Bedrock calls to this URL (default: PORTKEY_BEDROCK_CUSTOM_HOST)")
    parser.add_argument("--show-secrets", action="store_true", help="print secret values (careful)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from runtime.gateway.headers import DEFAULT_RETRY, portkey_config

    credentials = Credentials.load(args.sops)
    regions = split_list(args.regions) if args.regions else None
    retry = DEFAULT_RETRY if args.retry_attempts is None else {"attempts": args.retry_attempts}
    config = portkey_config(
        args.names,
        credentials,
        args.region,
        regions=regions,
        request_timeout=args.request_timeout,
        retry=retry,
        custom_host=args.custom_host,
    )
    print(json.dumps(config if args.show_secrets else redact_config(config), indent=2, ensure_ascii=False))
    return 0
