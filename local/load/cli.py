"""A self-contained load run with its own Bedrock double and gateway, and ``python -m local.load``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from typing import Any

from local.load.limits import DEFAULT_DEADLINE, Headers, _check_limits
from local.load.report import LoadReport
from local.load.runner import run_load
from runtime.errors import PortkeyBedrockError


# -- a self-contained run: own double and gateway ----------------------------------------------
def run_local(
    total: int,
    concurrency: int,
    *,
    stream: bool = False,
    model: str | None = None,
    region: str | None = None,
    timeout: float = 30,
    deadline: float = DEFAULT_DEADLINE,
    warmup: bool = True,
) -> LoadReport:
    """Start the Bedrock double (a dict key store holding a fresh random fake key) and the
    gateway, run :func:`run_load` through them, stop both. `model` defaults to the catalog's
    first model, `region` to the catalog's default region. `warmup`: see :func:`run_load`."""
    import secrets

    import runtime
    from local.bedrock_double import DictKeyStore, DictPolicyStore, start_double
    from local.gateway import start_gateway
    from runtime.catalog.resolve import find_model
    from stacks.bedrock_policy import build_statements, policy_document

    catalog = runtime.load_catalog()
    region = region or catalog.default_region
    name = find_model(model, catalog)[0].name if model else catalog.models[0].name
    runtime.resolve_model(name, region)  # a model/region mismatch fails here, before anything starts
    _check_limits("http://127.0.0.1/", total, concurrency, timeout, deadline)
    key_id = "AKIA" + secrets.token_hex(8).upper()
    keys = DictKeyStore()
    record = keys.add(key_id, secrets.token_urlsafe(30), f"load-{key_id[-6:]}")
    credentials = runtime.Credentials(key_id, record.secret, region=region)
    # the statements the stack deploys for this model and region: one policy builder
    policy = policy_document(build_statements(catalog, region, record.account, [name]))
    with (
        start_double(key_store=keys, policy_store=DictPolicyStore({record.user_arn: [policy]})) as double,
        start_gateway() as gateway,
    ):
        headers = runtime.portkey_headers(name, credentials, region, custom_host=double.url)

        def make_request(i: int) -> tuple[Headers, Mapping[str, Any]]:
            body = runtime.chat_request(name, [{"role": "user", "content": f"load {i}"}], region=region, max_tokens=64)
            return headers, body

        return run_load(
            base_url=gateway.base_url,
            total=total,
            concurrency=concurrency,
            make_request=make_request,
            stream=stream,
            timeout=timeout,
            deadline=deadline,
            warmup=warmup,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local.load",
        description="Load the local Portkey gateway + Bedrock double with chat completions and print the figures.",
    )
    parser.add_argument("--total", type=int, default=1000, help="requests to send (default 1000)")
    parser.add_argument("--concurrency", type=int, default=50, help="requests in flight (default 50)")
    parser.add_argument("--stream", action="store_true", help="streamed completions")
    parser.add_argument("--model", default=None, help="catalog model name (default: the catalog's first)")
    parser.add_argument("--region", default=None, help="source region (default: the catalog's default)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")
    parser.add_argument("--deadline", type=float, default=DEFAULT_DEADLINE, help="seconds for the whole run")
    parser.add_argument("--no-warmup", action="store_true", help="measure from a cold gateway")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a paragraph")
    args = parser.parse_args(argv)
    try:
        report = run_local(
            args.total,
            args.concurrency,
            stream=args.stream,
            model=args.model,
            region=args.region,
            timeout=args.timeout,
            deadline=args.deadline,
            warmup=not args.no_warmup,
        )
    except PortkeyBedrockError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report.figures()) if args.json else report.format())
    return 0 if report.error_count == 0 and report.unsent == 0 else 1
