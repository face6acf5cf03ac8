"""`python -m runtime usage`: metrics from CloudWatch (moto), billed spend from Cost Explorer, each
failure one line with exit 2, no estimate without a cited price."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, NoCredentialsError
from moto import mock_aws

from runtime.catalog.model import load_catalog
from runtime.cli import usage
from runtime.spend import STACK_TAG_KEY

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
PROFILE = "us.anthropic.example-v1:0"  # not a catalog id: the report keeps the raw ModelId


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield lambda service, region: boto3.client(service, region_name=region)


def put(cloudwatch: Any, when: datetime, **values: float) -> None:
    cloudwatch.put_metric_data(
        Namespace="AWS/Bedrock",
        MetricData=[
            {
                "MetricName": name,
                "Value": value,
                "Dimensions": [{"Name": "ModelId", "Value": PROFILE}],
                "Timestamp": when,
            }
            for name, value in values.items()
        ],
    )


def test_tokens_per_model_and_per_day_from_cloudwatch(aws) -> None:
    cloudwatch = aws("cloudwatch", "us-east-1")
    put(cloudwatch, NOW - timedelta(days=1), Invocations=2, InputTokenCount=100, OutputTokenCount=40)
    put(
        cloudwatch,
        NOW - timedelta(hours=1),
        Invocations=1,
        InputTokenCount=10,
        OutputTokenCount=5,
        InvocationThrottles=1,
    )
    report = usage.build_report(
        regions=["us-east-1"], since=timedelta(days=7), by="model", stack="S", want_billed=True, now=NOW, client=aws
    )
    (row,) = report["rows"]
    assert (row["model"], row["region"], row["invocations"]) == (PROFILE, "us-east-1", 3)
    assert (row["input_tokens"], row["output_tokens"], row["throttles"]) == (110, 45, 1)
    assert row["estimated_usd"] is None  # no cited price: no estimate
    assert sum(report["tokens_by_day"].values()) == 155 and len(report["tokens_by_day"]) == 2
    assert report["billed"] == [] or all(day["usd"] == 0 for day in report["billed"])
    text = usage.render(report, "model")
    assert "account-wide per model" in text and "this user's" in text and "lags up to a day" in text
    assert f"tag {STACK_TAG_KEY}=S" in text and "#" in text


def test_an_estimate_only_with_a_cited_price() -> None:
    catalog = load_catalog()
    model = catalog.models[0]
    model_id = next(iter(k for k, (m, _) in catalog.by_invoke_id.items() if m is model))
    row = {"region": "r", "model_id": model_id, "day": "2026-12-01", "Invocations": 1.0, "InputTokenCount": 1e6,
           "OutputTokenCount": 1e6, "InvocationThrottles": 0.0, "InvocationClientErrors": 0.0}  # fmt: skip
    saved = model.pricing
    try:
        model.pricing = None
        assert usage.summarize([row], catalog, "model")[0]["estimated_usd"] is None
        model.pricing = {"input_per_mtok_usd": 1.0, "output_per_mtok_usd": 2.0, "source": "https://example.test/"}
        assert usage.summarize([row], catalog, "model")[0]["estimated_usd"] == 3.0
    finally:
        model.pricing = saved


class Refusing:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            raise self.error

        return call


def test_cost_explorer_disabled_is_one_line_exit_2(aws, capsys, monkeypatch) -> None:
    refused = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not enabled"}}, "GetCostAndUsage")
    monkeypatch.setattr(usage, "_boto3_clients", lambda: lambda s, r: Refusing(refused) if s == "ce" else aws(s, r))
    assert usage.main(["--since", "2d"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Cost Explorer" in err and "--no-billed" in err
    assert usage.main(["--since", "2d", "--no-billed", "--json"]) == 0


def test_no_credentials_and_bad_window_are_one_line_exit_2(capsys, monkeypatch) -> None:
    monkeypatch.setattr(usage, "_boto3_clients", lambda: lambda s, r: Refusing(NoCredentialsError()))
    assert usage.main([]) == 2
    assert "operator credentials" in capsys.readouterr().err
    assert usage.main(["--since", "forever"]) == 2
    assert capsys.readouterr().err.strip() == "error: --since 'forever' is not a window; write e.g. 7d, 36h or 2w"
