"""`python -m runtime ...`: inspect the catalog, resolve names, show the gateway headers.

Errors are one line on stderr and exit status 2. Secrets are redacted unless --show-secrets.
"""

from __future__ import annotations

import argparse
import json
import sys

from runtime.catalog.model import EOL, Offer, load_catalog
from runtime.catalog.resolve import allowed_models, find_model, lifecycle_warning, pick_region, resolve_model
from runtime.cli.parser import OneLineParser, UsageError, VersionAction
from runtime.constants import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_USAGE
from runtime.credentials.keys import Credentials
from runtime.errors import PortkeyBedrockError
from runtime.gateway.headers import portkey_headers
from runtime.redact import redact_headers

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any


def _models_rows(region: str, include_eol: bool) -> list[dict[str, Any]]:
    """One typed record per catalog model (EOL models only with `include_eol`), for `region`."""
    catalog = load_catalog()
    admitted = allowed_models(None, catalog)
    rows: list[dict[str, Any]] = []
    for model in catalog:
        status = model.status_on()
        if status == EOL and not include_eol:
            continue
        try:
            offer: Offer | None = catalog.offer_for(model, region)  # the historic id for an EOL model
        except PortkeyBedrockError:
            offer = None
        life = model.lifecycle
        rows.append(
            {
                "name": model.name,
                "aliases": list(model.aliases),
                "provider": model.provider,
                "family": model.family,
                "status": status,
                "legacy_date": life.legacy_date,
                "eol_date": life.eol_date,
                "replacement": life.replacement,
                "model_id": model.model_id,
                "bedrock_id": offer.invoke_id if offer else None,
                "offer": (offer.scope or offer.kind) if offer else None,
                "destinations": list(offer.destinations(region)) if offer else [],
                "max_tokens": model.default_max_tokens,
                "max_output_tokens": model.max_output_tokens,
                "context_tokens": model.context_tokens,
                "rejected_params": list(model.request_rules.rejected_params),
                "thinking": None if model.request_rules.thinking is None else list(model.request_rules.thinking),
                "capabilities": dict(model.capabilities),
                # "all" admits what is offered from the region, as the stack's allowed_models does
                "allowed": status != EOL and (offer is not None if admitted is None else model.name in admitted),
                "offers_from_sync": not model.offers,
                "sources": list(model.sources),
                "lifecycle_source": life.source,
                # a model `catalog sync` added: no request rules, no output limits (not on the control plane)
                "synced": model.synced,
            }
        )
    return rows


def _table_row(row: Mapping[str, Any]) -> dict[str, str]:
    return {
        "name": row["name"],
        "aliases": ", ".join(row["aliases"]),
        "status": row["status"],
        "eol_date": row["eol_date"] or "-",
        "replacement": row["replacement"] or "-",
        "bedrock_id": row["bedrock_id"]
        or (
            "(no profile on an AWS page yet: catalog sync)"
            if row.get("offers_from_sync")
            else "(not offered in this region)"
        ),
        "max_tokens": str(row["max_tokens"]),
        "rules": "none (synced)" if row["synced"] else "catalog",
        "allowed": "yes" if row["allowed"] else "no",
    }


def format_table(rows: Sequence[Mapping[str, str]]) -> str:
    """Rows of equal keys as an aligned text table.

    >>> print(format_table([{"a": "x", "b": "yy"}, {"a": "zzz", "b": ""}]))
    a    b
    x    yy
    zzz
    """
    if not rows:
        return ""
    columns = list(rows[0])
    widths = {col: max(len(col), *(len(row[col]) for row in rows)) for col in columns}
    lines = [[col for col in columns]] + [[row[col] for col in columns] for row in rows]
    return "\n".join(
        "  ".join(cell.ljust(widths[col]) for col, cell in zip(columns, line, strict=True)).rstrip() for line in lines
    )


def _cmd_models(args: argparse.Namespace) -> int:
    # The allow-list does not filter the table (its `allowed` column shows it); end-of-life models
    # are listed with their historic ids only with --all.
    rows = _models_rows(pick_region(args.region), include_eol=args.all)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(format_table([_table_row(row) for row in rows]))
    return 0


def _warn_lifecycle(name: str) -> None:
    """A Legacy model resolves; say so on stderr, in one line."""
    warning = lifecycle_warning(find_model(name)[0])
    if warning:
        print(f"warning: {warning}", file=sys.stderr)


def _cmd_resolve(args: argparse.Namespace) -> int:
    resolved = resolve_model(args.name, args.region)
    _warn_lifecycle(args.name)
    print(resolved)
    return 0


def _cmd_headers(args: argparse.Namespace) -> int:
    headers = portkey_headers(
        args.name,
        Credentials.load(getattr(args, "sops", None)),
        args.region,
        trace_id=args.trace_id,
        custom_host=args.custom_host,
    )
    _warn_lifecycle(args.name)
    shown = headers if args.show_secrets else redact_headers(headers)
    print(json.dumps(shown, indent=2, ensure_ascii=False))
    return 0


def _cmd_secrets(argv: list[str]) -> int:
    from runtime.cli import secrets as secrets_cli

    return secrets_cli.main(argv)


def _cmd_doctor(argv: list[str]) -> int:
    from runtime.cli import doctor

    return doctor.main(argv)


CATALOG_USAGE = (
    "usage: python -m runtime catalog check [--region R] [--json] [--profile P] | "
    "catalog sync [--region R ...] [--write [PATH]] [--profile P] [--prefer-bedrock]"
)


def _cmd_catalog(argv: list[str]) -> int:
    if argv[:1] == ["sync"]:
        from runtime.catalog import sync as catalog_sync

        return catalog_sync.main(argv[1:])
    if argv[:1] != ["check"]:
        raise UsageError(CATALOG_USAGE)
    from runtime.catalog import check as catalog_check

    return catalog_check.main(argv[1:])


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m runtime", description=__doc__)
    parser.add_argument("--version", action=VersionAction)
    sub = parser.add_subparsers(dest="command", required=True)

    models = sub.add_parser("models", help="the catalog as a table: ids, lifecycle status, end-of-life dates")
    models.add_argument("--region", help="region to resolve ids for (default: AWS_REGION or us-east-1)")
    models.add_argument("--json", action="store_true", help="typed JSON records instead of a table")
    models.add_argument("--all", action="store_true", help="also list end-of-life models with their historic ids")
    models.set_defaults(func=_cmd_models)

    resolve = sub.add_parser("resolve", help="the Bedrock id for a model name")
    resolve.add_argument("name", help="a catalog name or alias (python -m runtime models lists them)")
    resolve.add_argument("--region", help="source region (default: AWS_REGION, else us-east-1)")
    resolve.set_defaults(func=_cmd_resolve)

    headers = sub.add_parser("headers", help="the gateway headers for a model (secrets redacted)")
    headers.add_argument("name", help="a catalog name or alias")
    headers.add_argument("--region", help="source region (default: the credentials' AWS_REGION, else us-east-1)")
    headers.add_argument("--sops", metavar="FILE", help="read credentials from a SOPS env file")
    headers.add_argument("--trace-id", help="x-portkey-trace-id value")
    headers.add_argument("--custom-host", help="send Bedrock calls to this URL (default: PORTKEY_BEDROCK_CUSTOM_HOST)")
    headers.add_argument("--show-secrets", action="store_true", help="print secret values (careful)")
    headers.set_defaults(func=_cmd_headers)

    from runtime.cli import config as config_cli

    config_cli.add_parser(sub)

    sub.add_parser("secrets", help="SOPS env files: init, pull, decrypt, exec-env, check", add_help=False)
    sub.add_parser("doctor", help="check gateway, credentials and models", add_help=False)
    sub.add_parser("usage", help="Bedrock tokens, errors and spend (operator credentials)", add_help=False)
    sub.add_parser(
        "catalog",
        help="catalog check / sync: compare the catalog with Bedrock, or write the overlay (operator credentials)",
        add_help=False,
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    import warnings

    from runtime.errors import LegacyModelWarning

    with warnings.catch_warnings():  # commands print their own one-line `warning:` for a Legacy model
        warnings.simplefilter("ignore", LegacyModelWarning)
        return _main(list(sys.argv[1:] if argv is None else argv))


def _main(args_list: list[str]) -> int:
    try:
        # `secrets` and `doctor` own their argument parsing.
        if args_list[:1] == ["secrets"]:
            return _cmd_secrets(args_list[1:])
        if args_list[:2] == ["catalog", "check"]:
            from runtime.catalog import check as catalog_check

            return catalog_check.main(args_list[2:])
        if args_list[:1] == ["doctor"]:
            return _cmd_doctor(args_list[1:])
        if args_list[:1] == ["usage"]:  # runtime/cli/usage.py owns its arguments
            from runtime.cli import usage

            return usage.main(args_list[1:])
        if args_list[:1] == ["catalog"]:
            return _cmd_catalog(args_list[1:])
        args = build_parser().parse_args(args_list)
        return int(args.func(args))
    except PortkeyBedrockError as err:
        from runtime.redact import redact  # the one owner of secret masking, on the error path only

        print(f"error: {redact(str(err))}", file=sys.stderr)
        return EXIT_USAGE


def run(argv: Sequence[str] | None = None) -> int:
    """`main` for ``python -m runtime``: a reader that stops early (``models | head -2``) or Ctrl-C
    ends the command quietly instead of with a traceback."""
    try:
        code = main(argv)
        sys.stdout.flush()  # a closed pipe shows up here, inside the handler, not at exit
    except BrokenPipeError:
        import os

        # Python flushes stdout again at exit; point it at /dev/null so that flush is silent too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:  # Ctrl-C: the shell shows ^C; no traceback (`make demo` runs doctor this way)
        return EXIT_INTERRUPTED
    return code
