"""The double publishes AWS/Bedrock metrics for each call: tokens on success, throttles and
client errors by ModelId, in the caller's source region and account."""

from __future__ import annotations

from typing import Any

from local.bedrock_double.metrics import NAMESPACE, MotoMetricsSink, datums_for
from tests.unit.local.test_server import send


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, list[dict[str, Any]]]] = []

    def publish(self, account: str, region: str, datums: list[dict[str, Any]]) -> None:
        self.calls.append((account, region, datums))


def test_each_call_publishes_its_metrics_by_model_id(double, signer, path_for, profile_id, alice) -> None:
    sink = Recorder()
    double.double.metrics = sink
    assert send(double, signer, path_for(profile_id))[0].status == 200
    double.add_fault(429, model=profile_id)
    assert send(double, signer, path_for(profile_id))[0].status == 429
    (account, region, ok), (_, _, throttled) = sink.calls
    assert account == alice.account and region == "us-east-1"
    values = {d["MetricName"]: d["Value"] for d in ok}
    assert values == {"Invocations": 1.0, "InputTokenCount": 1.0, "OutputTokenCount": 4.0}
    assert [d["MetricName"] for d in throttled] == ["InvocationThrottles"]
    assert ok[0]["Dimensions"] == [{"Name": "ModelId", "Value": profile_id}]


def test_an_unverified_caller_publishes_nothing(double, signer, path_for, profile_id) -> None:
    sink = Recorder()
    double.double.metrics = sink
    response, _ = send(double, signer, path_for(profile_id), secret="wrong-secret")
    assert response.status == 403
    assert sink.calls == []


def test_the_moto_sink_lands_in_cloudwatch(monkeypatch) -> None:
    import boto3
    from moto import mock_aws

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        moto_cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
        _publish_and_list(moto_cloudwatch)


def _publish_and_list(moto_cloudwatch: Any) -> None:
    entry = {"model_id": "us.m", "status": 200, "usage": {"inputTokens": 7, "outputTokens": 2}}
    MotoMetricsSink().publish("123456789012", "us-east-1", datums_for(entry))
    names = {m["MetricName"] for m in moto_cloudwatch.list_metrics(Namespace=NAMESPACE)["Metrics"]}
    assert names == {"Invocations", "InputTokenCount", "OutputTokenCount"}
