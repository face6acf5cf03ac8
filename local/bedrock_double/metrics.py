"""The ``AWS/Bedrock`` CloudWatch metrics the double publishes for each call, as Bedrock does
(https://docs.aws.amazon.com/bedrock/latest/userguide/monitoring-runtime-metrics.html): per
``ModelId`` (the id the call named: an inference profile or a model), in the caller's source
Region and account.

Successful calls count ``Invocations`` with their ``InputTokenCount`` / ``OutputTokenCount``;
throttled calls ``InvocationThrottles``; other 4xx ``InvocationClientErrors``; 5xx
``InvocationServerErrors``. A call whose signature or key could not be verified names no account
or Region and publishes nothing.

:class:`MotoMetricsSink` writes into moto's CloudWatch backend *in this process* (the same call
moto's PutMetricData handler makes), as `stores.MotoPolicyStore` reads moto's IAM: run the double
inside the local AWS server process.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

NAMESPACE = "AWS/Bedrock"


def datums_for(entry: dict[str, Any], now: datetime | None = None) -> list[dict[str, Any]]:
    """The metric data of one recorded call (a `server` request entry).

    >>> ok = {"model_id": "us.m", "status": 200, "usage": {"inputTokens": 3, "outputTokens": 5}}
    >>> [(d["MetricName"], d["Value"]) for d in datums_for(ok)]
    [('Invocations', 1.0), ('InputTokenCount', 3.0), ('OutputTokenCount', 5.0)]
    >>> [d["MetricName"] for d in datums_for({"model_id": "us.m", "status": 429})]
    ['InvocationThrottles']
    >>> [d["MetricName"] for d in datums_for({"model_id": "us.m", "status": 403})]
    ['InvocationClientErrors']
    >>> datums_for({"model_id": "us.m", "status": 503})[0]["Dimensions"]
    [{'Name': 'ModelId', 'Value': 'us.m'}]
    """
    status = int(entry.get("status") or 0)
    if status == 200:
        usage = entry.get("usage") or {}
        values = {
            "Invocations": 1.0,
            "InputTokenCount": float(usage.get("inputTokens", 0)),
            "OutputTokenCount": float(usage.get("outputTokens", 0)),
        }
    elif status == 429 or entry.get("error_type") == "ThrottlingException":
        values = {"InvocationThrottles": 1.0}
    elif 400 <= status < 500:
        values = {"InvocationClientErrors": 1.0}
    elif status >= 500:
        values = {"InvocationServerErrors": 1.0}
    else:
        return []
    when = now or datetime.now(UTC)
    dimensions = [{"Name": "ModelId", "Value": str(entry["model_id"])}]
    return [
        {"MetricName": name, "Value": value, "Unit": "Count", "Dimensions": dimensions, "Timestamp": when}
        for name, value in values.items()
    ]


class MetricsSink(Protocol):
    def publish(self, account: str, region: str, datums: list[dict[str, Any]]) -> None: ...


class NullMetricsSink:
    """Publishes nothing (a double with injected stores, outside local AWS)."""

    def publish(self, account: str, region: str, datums: list[dict[str, Any]]) -> None:
        return None


class MotoMetricsSink:
    """PutMetricData into moto's CloudWatch backend of this process."""

    def publish(self, account: str, region: str, datums: list[dict[str, Any]]) -> None:
        from moto.cloudwatch.models import cloudwatch_backends

        # moto stamps a datum without Timestamp with its own (naive UTC) clock, as the API path
        # does; an aware datetime here would break its GetMetricData comparisons
        now_datums = [{k: v for k, v in datum.items() if k != "Timestamp"} for datum in datums]
        if now_datums:
            cloudwatch_backends[account][region].put_metric_data(NAMESPACE, now_datums)


def publish_call(sink: MetricsSink, entry: dict[str, Any], account: str | None) -> None:
    """Publish one call's metrics, when the caller (account, source Region) is known."""
    region = entry.get("region")
    if account and region and entry.get("model_id"):
        sink.publish(account, str(region), datums_for(entry))
