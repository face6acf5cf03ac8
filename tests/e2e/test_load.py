"""Loads through the real Portkey gateway against the Bedrock double (the e2e fixtures); their figures
are printed and attached to the test report as properties (`--junitxml`). The harness's own helpers and
limits are tested in tests/unit/local/test_load.py."""

import json

import pytest

import runtime
from local import load
from local.load import run_load

# record_property warns under the default junit_family (xunit2) but still writes the properties
QUIET_PROPERTIES = pytest.mark.filterwarnings("ignore:record_property is incompatible")
RETRY_429 = {"retry": {"attempts": 3, "on_status_codes": [429]}}


# -- through the real gateway ------------------------------------------------------------------
def _body(profile_id, i, **params):
    return runtime.chat_request(profile_id, [{"role": "user", "content": f"load {i}"}], max_tokens=64, **params)


def _attach(record_property, prefix, report):
    print(f"\n{prefix}: {report.format()}")
    for key, value in report.figures().items():
        record_property(f"{prefix}_{key}", value)


@pytest.mark.load
@QUIET_PROPERTIES
def test_thousand_requests_at_concurrency_fifty(gateway, double, gateway_headers, profile_id, record_property):
    headers = gateway_headers()
    report = run_load(
        base_url=gateway.base_url,
        total=1000,
        concurrency=50,
        make_request=lambda i: (headers, _body(profile_id, i)),
        warmup=True,
        after_warmup=double.clear_requests,
    )
    _attach(record_property, "load_1000x50", report)
    assert (report.count, report.ok, report.errors, report.unsent) == (1000, 1000, {}, 0)
    assert report.warmup == 50 and report.warmup_errors == {}
    seen = double.requests()
    assert len(seen) == 1000
    assert {(r["operation"], r["status"], r["signature_valid"], r["model_id"]) for r in seen} == {
        ("Converse", 200, True, profile_id)
    }
    # each request arrived exactly once
    assert sorted(int(r["reply_text"].rsplit(" ", 1)[1]) for r in seen) == list(range(1000))
    assert report.p50_ms is not None and report.p99_ms is not None
    assert report.p50_ms <= report.p90_ms <= report.p99_ms <= report.max_ms


@pytest.mark.load
@QUIET_PROPERTIES
def test_streamed_load(gateway, double, gateway_headers, profile_id, record_property):
    headers = gateway_headers()
    report = run_load(
        base_url=gateway.base_url,
        total=300,
        concurrency=30,
        stream=True,
        make_request=lambda i: (headers, _body(profile_id, i)),
        warmup=True,
        after_warmup=double.clear_requests,
    )
    _attach(record_property, "load_stream_300x30", report)
    assert (report.ok, report.errors) == (300, {})
    seen = double.requests()
    assert len(seen) == 300 and {r["operation"] for r in seen} == {"ConverseStream"}


@pytest.mark.load
@QUIET_PROPERTIES
def test_five_percent_throttles_with_gateway_retries_end_without_errors(
    gateway, double, gateway_headers, profile_id, record_property
):
    headers = {**gateway_headers(), **runtime.config_header(RETRY_429)}

    def make_request(i):
        if i % 20 == 0:  # one 429 for every 20 requests, taken by whichever request comes next
            double.add_fault(429)
        return headers, _body(profile_id, i)

    report = run_load(base_url=gateway.base_url, total=1000, concurrency=50, make_request=make_request)
    _attach(record_property, "load_429s", report)
    assert (report.ok, report.errors) == (1000, {})
    statuses = [r["status"] for r in double.requests()]
    assert (statuses.count(200), statuses.count(429), len(statuses)) == (1000, 50, 1050)


@pytest.mark.load
def test_wrong_secret_403s_are_counted(gateway, double, gateway_headers, bedrock_key, profile_id):
    wrong = "not-the-right-secret-" + "x" * 20
    good, bad = gateway_headers(), gateway_headers(secret=wrong)
    report = run_load(
        base_url=gateway.base_url,
        total=200,
        concurrency=20,
        make_request=lambda i: (bad if i % 2 else good, _body(profile_id, i)),
    )
    assert (report.count, report.ok, report.errors) == (200, 100, {"HTTP 403": 100})
    assert len(report.error_samples) == load.ERROR_SAMPLES
    assert all("signature we calculated does not match" in sample for sample in report.error_samples)
    shown = report.format() + json.dumps(report.figures()) + repr(report)
    assert wrong not in shown and bedrock_key.secret_access_key not in shown
    seen = double.requests()
    rejected = [r for r in seen if r["status"] == 403]
    assert len(seen) == 200 and len(rejected) == 100
    assert {(r["error_type"], r["signature_valid"]) for r in rejected} == {("InvalidSignatureException", False)}
