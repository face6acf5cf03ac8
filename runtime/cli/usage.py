"""``python -m runtime usage``: Bedrock tokens, errors and spend (operator credentials).

    python -m runtime usage [--since 7d] [--region R ...] [--by model|day] [--json] [--stack NAME] [--no-billed]

Three numbers, each from its own owner, and said to be what it is:

* **Near real time, account-wide per model**: CloudWatch ``GetMetricData`` over ``AWS/Bedrock``
  (``Invocations``, ``InputTokenCount``, ``OutputTokenCount``, ``InvocationThrottles``,
  ``InvocationClientErrors`` by ``ModelId``) in each source Region. Bedrock publishes these per
  model, not per caller: every principal of the account that calls the model counts.
* **Billed, this user's**: Cost Explorer ``GetCostAndUsage`` filtered by the stack's cost
  allocation tag (``portkey-bedrock-access:stack=<stack>``), once that tag is activated. Billing
  data lags by up to a day.
* **Estimated**: tokens x the catalog's on-demand price per model, only where the catalog cites
  one (``pricing`` in runtime/catalog/catalog.json, with its source page); otherwise no estimate.

Exit 0, or 2 with one line: bad input, no operator credentials, Cost Explorer not enabled (or
not allowed) — pass ``--no-billed`` to skip it.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from runtime.catalog.model import Catalog, load_catalog
from runtime.cli.parser import OneLineParser
from runtime.constants import DEFAULT_STACK_NAME, EXIT_USAGE
from runtime.errors import PortkeyBedrockError, aws_error_code
from runtime.spend import STACK_TAG_KEY

NAMESPACE = "AWS/Bedrock"
METRICS = ("Invocations", "InputTokenCount", "OutputTokenCount", "InvocationThrottles", "InvocationClientErrors")
SCOPE_METRICS = "account-wide per model (CloudWatch AWS/Bedrock, near real time)"
SCOPE_BILLED = "this user's, by the stack's cost allocation tag (Cost Explorer; lags up to a day)"
DAY = 86400
BAR_WIDTH = 30


class UsageError(PortkeyBedrockError):
    """Bad input, missing operator credentials, or Cost Explorer unavailable."""


def parse_since(text: str) -> timedelta:
    """``7d``, ``36h``, ``2w`` as a window (1 hour to 455 days: CloudWatch keeps daily data 455 days).

    >>> parse_since("7d"), parse_since("36h")
    (datetime.timedelta(days=7), datetime.timedelta(days=1, seconds=43200))
    >>> parse_since("soon")
    Traceback (most recent call last):
    ...
    runtime.cli.usage.UsageError: --since 'soon' is not a window; write e.g. 7d, 36h or 2w
    """
    match = re.fullmatch(r"\s*(\d+)\s*([hdw])\s*", text)
    if not match:
        raise UsageError(f"--since {text!r} is not a window; write e.g. 7d, 36h or 2w")
    amount, unit = int(match.group(1)), match.group(2)
    window = timedelta(hours=amount) if unit == "h" else timedelta(days=amount * (7 if unit == "w" else 1))
    if not timedelta(hours=1) <= window <= timedelta(days=455):
        raise UsageError(f"--since {text!r} must be between 1h and 455d")
    return window


def estimate_usd(input_tokens: float, output_tokens: float, pricing: Mapping[str, Any] | None) -> float | None:
    """Tokens x the cited on-demand price (USD per million tokens); None without a cited price.

    >>> estimate_usd(2_000_000, 100_000, {"input_per_mtok_usd": 3, "output_per_mtok_usd": 15, "source": "x"})
    7.5
    >>> estimate_usd(10, 10, None) is None
    True
    """
    if not pricing:
        return None
    cost = input_tokens * float(pricing["input_per_mtok_usd"]) + output_tokens * float(pricing["output_per_mtok_usd"])
    return round(cost / 1_000_000, 6)


def bar(value: float, largest: float, width: int = BAR_WIDTH) -> str:
    """A plain-text bar, proportional to `largest` (any non-zero value shows at least one block).

    >>> bar(5, 10, 10), bar(0, 10, 10), bar(1, 1000, 10)
    ('#####', '', '#')
    """
    if value <= 0 or largest <= 0:
        return ""
    return "#" * max(1, round(width * value / largest))


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Left-aligned first column, right-aligned numbers.

    >>> print(table(["model", "tokens"], [["a", 1200], ["bb", 3]]))
    model  tokens
    a       1,200
    bb          3
    """

    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:,.4f}"
        if isinstance(value, int):
            return f"{value:,}"
        return "-" if value is None else str(value)

    cells = [[cell(v) for v in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) if cells else len(str(h)) for i, h in enumerate(headers)]
    lines = [
        "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths, strict=True)))
    ]
    for row in cells:
        lines.append(
            "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(row, widths, strict=True)))
        )
    return "\n".join(line.rstrip() for line in lines)


def day_chart(tokens_by_day: Mapping[str, float]) -> str:
    """Tokens per day as bars.

    >>> print(day_chart({"2026-12-01": 10, "2026-12-02": 0, "2026-12-03": 5}))
    2026-12-01  ############################## 10
    2026-12-02   0
    2026-12-03  ############### 5
    """
    largest = max(tokens_by_day.values(), default=0)
    return "\n".join(f"{day}  {bar(value, largest)} {value:,.0f}" for day, value in sorted(tokens_by_day.items()))


def _metric_id(index: int, metric: str) -> str:
    return f"m{index}_{metric.lower()}"


def model_ids_in(cloudwatch: Any) -> list[str]:
    """Every ``ModelId`` with AWS/Bedrock data in this Region (ListMetrics)."""
    ids: set[str] = set()
    for page in cloudwatch.get_paginator("list_metrics").paginate(Namespace=NAMESPACE):
        for metric in page["Metrics"]:
            for dimension in metric.get("Dimensions", []):
                if dimension["Name"] == "ModelId":
                    ids.add(dimension["Value"])
    return sorted(ids)


def metric_rows(cloudwatch: Any, region: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """One row per (ModelId, day): the five metrics' daily sums (GetMetricData)."""
    ids = model_ids_in(cloudwatch)
    queries = []
    for index, model_id in enumerate(ids):
        for metric in METRICS:
            queries.append(
                {
                    "Id": _metric_id(index, metric),
                    "MetricStat": {
                        "Metric": {
                            "Namespace": NAMESPACE,
                            "MetricName": metric,
                            "Dimensions": [{"Name": "ModelId", "Value": model_id}],
                        },
                        "Period": DAY,
                        "Stat": "Sum",
                    },
                    "ReturnData": True,
                }
            )
    values: dict[tuple[str, str], dict[str, float]] = {}
    for first in range(0, len(queries), 500):  # GetMetricData takes up to 500 queries
        kwargs = {"MetricDataQueries": queries[first : first + 500], "StartTime": start, "EndTime": end}
        while True:
            answer = cloudwatch.get_metric_data(**kwargs)
            for result in answer["MetricDataResults"]:
                index_text, metric_key = result["Id"][1:].split("_", 1)
                model_id = ids[int(index_text)]
                metric = next(m for m in METRICS if m.lower() == metric_key)
                for stamp, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
                    day = stamp.astimezone(UTC).date().isoformat()
                    row = values.setdefault((model_id, day), dict.fromkeys(METRICS, 0.0))
                    row[metric] += float(value)
            if not answer.get("NextToken"):
                break
            kwargs["NextToken"] = answer["NextToken"]
    return [
        {"region": region, "model_id": model_id, "day": day, **sums} for (model_id, day), sums in sorted(values.items())
    ]


def billed(ce: Any, stack: str, start: date, end: date) -> list[dict[str, Any]]:
    """Daily UnblendedCost of the stack's tag (this user's Bedrock spend), from Cost Explorer."""
    days: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": ["UnblendedCost"],
        "Filter": {"Tags": {"Key": STACK_TAG_KEY, "Values": [stack], "MatchOptions": ["EQUALS"]}},
    }
    while True:
        answer = ce.get_cost_and_usage(**kwargs)
        for period in answer.get("ResultsByTime", []):
            amount = period.get("Total", {}).get("UnblendedCost", {}).get("Amount", "0")
            days.append({"day": period["TimePeriod"]["Start"], "usd": float(amount)})
        token = answer.get("NextPageToken")
        if not token:
            return days
        kwargs["NextPageToken"] = token


def _names(catalog: Catalog) -> dict[str, tuple[str, Mapping[str, Any] | None]]:
    return {key: (model.name, model.pricing) for key, (model, _) in catalog.by_invoke_id.items()}


def summarize(rows: Sequence[Mapping[str, Any]], catalog: Catalog, by: str) -> list[dict[str, Any]]:
    """Rows grouped by (model, region) or by day, with the estimate where a price is cited.

    >>> from runtime.catalog.model import load_catalog
    >>> rows = [{"region": "r", "model_id": "x.y", "day": "2026-12-01", "Invocations": 2.0, "InputTokenCount": 10.0,
    ...          "OutputTokenCount": 5.0, "InvocationThrottles": 0.0, "InvocationClientErrors": 1.0}]
    >>> summarize(rows, load_catalog(), "day")[0]["input_tokens"], summarize(rows, load_catalog(), "model")[0]["model"]
    (10, 'x.y')
    """
    names = _names(catalog)
    groups: dict[tuple[str, ...], dict[str, Any]] = {}
    for row in rows:
        name, pricing = names.get(row["model_id"], (row["model_id"], None))
        key = (row["day"],) if by == "day" else (name, row["region"])
        group = groups.setdefault(
            key,
            {
                **(
                    {"day": row["day"]}
                    if by == "day"
                    else {"model": name, "model_id": row["model_id"], "region": row["region"]}
                ),
                "invocations": 0,
                "input_tokens": 0,
                "output_tokens": 0,
                "throttles": 0,
                "client_errors": 0,
                "estimated_usd": 0.0,
                "estimate_complete": True,
            },
        )
        group["invocations"] += int(row["Invocations"])
        group["input_tokens"] += int(row["InputTokenCount"])
        group["output_tokens"] += int(row["OutputTokenCount"])
        group["throttles"] += int(row["InvocationThrottles"])
        group["client_errors"] += int(row["InvocationClientErrors"])
        cost = estimate_usd(row["InputTokenCount"], row["OutputTokenCount"], pricing)
        if cost is None:
            group["estimate_complete"] = False
        else:
            group["estimated_usd"] += cost
    result = []
    for group in (groups[key] for key in sorted(groups)):
        if not group.pop("estimate_complete"):
            group["estimated_usd"] = None  # no cited price for (some of) these tokens: no estimate
        result.append(group)
    return result


def render(report: Mapping[str, Any], by: str) -> str:
    """The table, the per-day bar chart and the billed line."""
    headers = ["day" if by == "day" else "model", *([] if by == "day" else ["region"])]
    headers += ["calls", "input tok", "output tok", "throttles", "client err", "est. USD"]
    rows = []
    for group in report["rows"]:
        first = [group["day"]] if by == "day" else [group["model"], group["region"]]
        rows.append(
            [
                *first,
                group["invocations"],
                group["input_tokens"],
                group["output_tokens"],
                group["throttles"],
                group["client_errors"],
                group["estimated_usd"],
            ]
        )
    out = [f"Bedrock usage since {report['since']} ({report['scope_metrics']})"]
    out.append(table(headers, rows) if rows else "(no AWS/Bedrock data in this window)")
    out.append("est. USD: tokens x the catalog's cited on-demand price; '-' where no price is cited")
    out.append("")
    out.append("tokens per day (input + output)")
    out.append(day_chart(report["tokens_by_day"]) or "(none)")
    billed_days = report.get("billed")
    if billed_days is not None:
        total = sum(d["usd"] for d in billed_days)
        out.append("")
        out.append(f"billed: {total:,.2f} USD ({report['scope_billed']}; tag {report['tag']})")
    return "\n".join(out)


def _boto3_clients() -> Any:
    """`client(service, region)` over one boto3 session (the operator's credential chain)."""
    import boto3

    session: Any = boto3.Session()

    def client(service: str, region: str) -> Any:
        return session.client(service, region_name=region)

    return client


def build_report(
    *,
    regions: Sequence[str],
    since: timedelta,
    by: str,
    stack: str,
    want_billed: bool,
    now: datetime | None = None,
    client: Any = None,
    catalog: Catalog | None = None,
) -> dict[str, Any]:
    """Gather the report; `client(service, region)` makes boto3 clients (injectable in tests)."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    make = client or _boto3_clients()
    catalog = catalog or load_catalog()
    end = now or datetime.now(UTC)
    start = (end - since).replace(hour=0, minute=0, second=0, microsecond=0)  # daily buckets = calendar days (UTC)
    rows: list[dict[str, Any]] = []
    try:
        for region in regions:
            # a minute past now: CloudWatch (and moto, which floors EndTime to the second) leaves
            # out data points stamped at or after EndTime
            rows.extend(metric_rows(make("cloudwatch", region), region, start, end + timedelta(minutes=1)))
    except NoCredentialsError:
        raise UsageError("no AWS credentials: usage needs operator credentials (AWS_PROFILE or AWS_* keys)") from None
    except (BotoCoreError, ClientError) as err:
        raise UsageError(
            f"CloudWatch GetMetricData failed ({aws_error_code(err)}): check the operator's credentials"
        ) from None
    tokens_by_day: dict[str, float] = {}
    for row in rows:
        tokens_by_day[row["day"]] = (
            tokens_by_day.get(row["day"], 0.0) + row["InputTokenCount"] + row["OutputTokenCount"]
        )
    report: dict[str, Any] = {
        "since": start.isoformat(timespec="seconds"),
        "until": end.isoformat(timespec="seconds"),
        "regions": list(regions),
        "scope_metrics": SCOPE_METRICS,
        "rows": summarize(rows, catalog, by),
        "tokens_by_day": tokens_by_day,
        "billed": None,
        "scope_billed": SCOPE_BILLED,
        "tag": f"{STACK_TAG_KEY}={stack}",
    }
    if want_billed:
        try:
            report["billed"] = billed(make("ce", "us-east-1"), stack, start.date(), end.date() + timedelta(days=1))
        except NoCredentialsError:
            raise UsageError(
                "no AWS credentials: usage needs operator credentials (AWS_PROFILE or AWS_* keys)"
            ) from None
        except (BotoCoreError, ClientError) as err:
            raise UsageError(
                f"Cost Explorer GetCostAndUsage failed ({aws_error_code(err)}): enable Cost Explorer for the account "
                "and allow ce:GetCostAndUsage, or pass --no-billed"
            ) from None
    return report


def main(argv: Sequence[str] | None = None) -> int:
    import os

    parser = OneLineParser(prog="python -m runtime usage", description=__doc__.splitlines()[0])
    parser.add_argument("--since", default="7d", help="window: 7d, 36h, 2w (default 7d)")
    parser.add_argument("--region", action="append", help="source region (repeat; default AWS_REGION or the catalog's)")
    parser.add_argument("--by", choices=("model", "day"), default="model")
    parser.add_argument("--json", action="store_true", help="the report as JSON")
    parser.add_argument(
        "--stack", default=DEFAULT_STACK_NAME, help="the stack whose tag the billed spend is filtered by"
    )
    parser.add_argument("--no-billed", action="store_true", help="skip Cost Explorer")
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
        since = parse_since(args.since)
        regions = args.region or [
            os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or load_catalog().default_region
        ]
        report = build_report(
            regions=regions, since=since, by=args.by, stack=args.stack, want_billed=not args.no_billed
        )
    except PortkeyBedrockError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(report, indent=2) if args.json else render(report, args.by))
    return 0
