"""`make bench`, throttling part: the same load against per-source-region quotas that one region
cannot absorb, once with a single target and once with the fallback chain, side by side.

    python scripts/bench_fallback.py [--total 2000] [--concurrency 50] [--rpm 700] [--json]

The Bedrock double holds the policy the stack deploys with ``source_regions=us-east-1,us-west-2``
for claude-sonnet-4.6 and claude-haiku-4.5, and a quota of ``--rpm`` requests per minute per
(source region, model). Single target: sonnet from us-east-1. Chain (`runtime.portkey_config`,
``regions=[us-east-1, us-west-2]``): sonnet@us-east-1, sonnet@us-west-2, haiku@us-east-1,
haiku@us-west-2. Both runs use ``--retry-attempts`` (default 0): the gateway backs off 1 s, 2 s,
4 s between retries, which cannot refill a per-minute quota within a run this short and only adds
latency. Quotas are set afresh after each run's warm-up. Prints both runs and the success rates;
exit status 1 when the chain misses the 99.9 % goal.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
REGIONS = ["us-east-1", "us-west-2"]
MODELS = ["claude-sonnet-4.6", "claude-haiku-4.5"]
GOAL = 99.9


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench_fallback.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--total", type=int, default=2000, help="requests per run (default 2000)")
    parser.add_argument("--concurrency", type=int, default=50, help="requests in flight (default 50)")
    parser.add_argument("--rpm", type=int, default=700, help="quota per source region and model (default 700)")
    parser.add_argument("--retry-attempts", type=int, default=0, help="gateway retries per target (default 0)")
    parser.add_argument("--json", action="store_true", help="one JSON object per run")
    args = parser.parse_args(argv)
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))

    import runtime
    from local.bedrock_double import DictKeyStore, DictPolicyStore, start_double
    from local.bedrock_double.quotas import Quota
    from local.gateway import start_gateway
    from local.load import LoadReport, run_load
    from stacks.bedrock_policy import build_statements, policy_document

    catalog = runtime.load_catalog()
    key_id = "AKIA" + secrets.token_hex(8).upper()
    keys = DictKeyStore()
    record = keys.add(key_id, secrets.token_urlsafe(30), f"bench-{key_id[-6:]}")
    credentials = runtime.Credentials(key_id, record.secret, region=REGIONS[0])
    policy = policy_document(build_statements(catalog, REGIONS, record.account, MODELS))
    quotas = [
        Quota(region, runtime.resolve_model(name, region), requests_per_minute=args.rpm)
        for name in MODELS
        for region in REGIONS
    ]
    retry = {"attempts": args.retry_attempts}
    print(
        f"fallback bench on {os.cpu_count()} CPU(s): {args.total} requests at concurrency {args.concurrency}, "
        f"quota {args.rpm} requests/min per (source region, model), retry attempts {args.retry_attempts}",
        file=sys.stderr,
    )
    reports: dict[str, LoadReport] = {}
    served_by: dict[str, dict[str, int]] = {}
    with (
        start_double(key_store=keys, policy_store=DictPolicyStore({record.user_arn: [policy]})) as double,
        start_gateway() as gateway,
    ):
        runs = {
            "single target (sonnet@us-east-1)": runtime.portkey_config(
                MODELS[0], credentials, REGIONS[0], retry=retry, custom_host=double.url
            ),
            "fallback chain (2 regions x 2 models)": runtime.portkey_config(
                MODELS, credentials, regions=REGIONS, retry=retry, custom_host=double.url
            ),
        }
        for label, config in runs.items():
            headers = runtime.config_header(config)

            def make_request(i: int, headers: dict[str, str] = headers) -> tuple[dict[str, str], dict[str, Any]]:
                body = runtime.chat_request(MODELS[0], [{"role": "user", "content": f"load {i}"}], max_tokens=64)
                return headers, body

            def fresh_quotas() -> None:
                double.reset()
                double.set_quotas(*quotas)

            double.reset()
            reports[label] = run_load(
                base_url=gateway.base_url,
                total=args.total,
                concurrency=args.concurrency,
                make_request=make_request,
                warmup=True,
                after_warmup=fresh_quotas,
            )
            served: dict[str, int] = {}
            for entry in double.requests():
                if entry["status"] == 200:
                    where = f"{entry['model_id'].split('.')[-1]}@{entry['region']}"
                    served[where] = served.get(where, 0) + 1
            served_by[label] = served

    rows = []
    for label, report in reports.items():
        rate = 100.0 * report.ok / report.total if report.total else 0.0
        served = served_by.get(label, {})
        if args.json:
            print(json.dumps({"run": label, "success_pct": round(rate, 2), "served": served, **report.figures()}))
        rows.append((label, rate, report, served))
    if not args.json:
        print(f"{'run':40} {'success':>9} {'ok':>6} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8}  served by")
        for label, rate, report, served in rows:
            p50 = "n/a" if report.p50_ms is None else f"{report.p50_ms:.1f}"
            p99 = "n/a" if report.p99_ms is None else f"{report.p99_ms:.1f}"
            where = ", ".join(f"{k} {v}" for k, v in sorted(served.items()))
            print(f"{label:40} {rate:8.2f}% {report.ok:6} {report.error_count:7} {p50:>8} {p99:>8}  {where}")
        for label, _rate, report, _served in rows:
            if report.errors:
                print(f"  {label} errors: {dict(report.errors)}")
    chain_rate = rows[-1][1]
    if chain_rate < GOAL:
        print(f"the chain served {chain_rate:.2f} % (< {GOAL} %)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
