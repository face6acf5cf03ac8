"""local.load's pure helpers and limits: no gateway, no Bedrock double (the loads are tests/e2e/test_load.py)."""

import http.server
import json
import socket
import threading
import time

import pytest

import runtime
from local import load
from local.load import LoadError, LoadReport, run_load
from runtime import constants

# record_property warns under the default junit_family (xunit2) but still writes the properties
RETRY_429 = {"retry": {"attempts": 3, "on_status_codes": [429]}}


def _dead_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- pure helpers (the doctest examples, parametrised) -------------------------------------------
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8787/v1", True),
        ("http://localhost:9", True),
        ("http://[::1]:80", True),
        ("http://127.1.2.3:80", True),
        ("http://10.0.0.1:8787", False),
        ("https://bedrock-runtime.us-east-1.amazonaws.com", False),
        ("http://localhost.example.com", False),
        ("ftp://127.0.0.1", False),
        ("127.0.0.1:80", False),
        ("http://[::1", False),
    ],
)
def test_is_loopback_url(url, expected):
    assert load.is_loopback_url(url) is expected


LOOP = "http://127.0.0.1:9000"


@pytest.mark.parametrize(
    ("headers", "problem"),
    [
        ({constants.HEADER_CUSTOM_HOST: LOOP}, None),
        ({"X-Portkey-Custom-Host": LOOP}, None),
        ({constants.HEADER_CUSTOM_HOST: LOOP, constants.HEADER_CONFIG: json.dumps(RETRY_429)}, None),
        ({constants.HEADER_CONFIG: json.dumps({"provider": "bedrock", "custom_host": LOOP})}, None),
        ({}, "no x-portkey-custom-host"),
        ({constants.HEADER_CUSTOM_HOST: "http://10.1.2.3:9000"}, "is not a loopback URL"),
        ({constants.HEADER_CONFIG: json.dumps(RETRY_429)}, "no x-portkey-custom-host"),
        (
            {constants.HEADER_CONFIG: json.dumps({"targets": [{"custom_host": LOOP}, {"provider": "bedrock"}]})},
            "has no custom_host",
        ),
        (
            {
                constants.HEADER_CUSTOM_HOST: LOOP,
                constants.HEADER_CONFIG: json.dumps({"targets": [{"targets": [{"custom_host": "https://x.com"}]}]}),
            },
            "is not a loopback URL",
        ),
        ({constants.HEADER_CUSTOM_HOST: LOOP, constants.HEADER_CONFIG: "pc-config-id"}, "is not JSON"),
    ],
)
def test_target_problem(headers, problem):
    found = load.target_problem(headers)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([float(v) for v in range(1, 101)], 50, 50.0),
        ([float(v) for v in range(1, 101)], 99, 99.0),
        ([float(v) for v in range(1, 101)], 100, 100.0),
        ([1.0, 2.0, 3.0], 50, 2.0),
        ([7.0], 90, 7.0),
        ([], 50, None),
    ],
)
def test_percentile(values, q, expected):
    assert load.percentile(values, q) == expected


def test_redact_and_secret_values():
    headers = {
        constants.HEADER_AWS_SECRET_ACCESS_KEY: "wJalr/K7",
        constants.HEADER_AWS_SESSION_TOKEN: "tok3n",
        constants.HEADER_AWS_REGION: "us-east-1",
    }
    assert load.secret_values(headers) == ["wJalr/K7", "tok3n"]
    assert load.redact("bad key wJalr/K7 and tok3n for\nuser", load.secret_values(headers)) == (
        "bad key <redacted> and <redacted> for user"
    )
    assert len(load.redact("x" * 1000, [])) == 300


def test_report_format_names_errors_and_warmup():
    report = LoadReport(
        total=10, count=10, ok=9, errors={"HTTP 429": 1}, error_samples=("HTTP 429: Too many requests",),
        p50_ms=12.0, p90_ms=15.5, p99_ms=20.25, max_ms=21.0, mean_ms=13.0, throughput=250.0, wall_s=0.04,
        concurrency=5, stream=False, warmup=5, warmup_max_ms=80.0, warmup_s=0.1,
    )  # fmt: skip
    text = report.format()
    assert "9 ok, 1 errors (HTTP 429: 1)" in text
    assert "p50 12.0 ms, p90 15.5 ms, p99 20.2 ms, max 21.0 ms; 250.0 req/s" in text
    assert "Warm-up first: 5 requests (0 errors) in 0.10 s, slowest 80.0 ms" in text
    assert report.figures()["errors"] == {"HTTP 429": 1}
    assert "\n" not in text


# -- limits: refused before anything is sent ---------------------------------------------------
def _never_called(i):
    raise AssertionError("make_request must not be called")


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("http://10.0.0.5:8787/v1", "only allowed against loopback"),
        ("https://api.portkey.ai/v1", "only allowed against loopback"),
        ("https://127.0.0.1:8787/v1", "plain http"),
    ],
)
def test_non_loopback_gateway_is_refused(base_url, message):
    with pytest.raises(LoadError, match=message):
        run_load(base_url=base_url, total=1, concurrency=1, make_request=_never_called)


@pytest.mark.parametrize(
    ("total", "concurrency", "timeout", "message"),
    [
        (0, 1, 30, "total must be"),
        (load.MAX_TOTAL + 1, 1, 30, "total must be"),
        (1, 0, 30, "concurrency must be"),
        (1, load.MAX_CONCURRENCY + 1, 30, "concurrency must be"),
        (1, 1, 0, "timeout must be"),
        (1, 1, load.DEFAULT_DEADLINE + 1, "timeout must be"),
    ],
)
def test_limits(total, concurrency, timeout, message):
    with pytest.raises(LoadError, match=message):
        run_load(
            base_url="http://127.0.0.1:1/v1",
            total=total,
            concurrency=concurrency,
            timeout=timeout,
            make_request=_never_called,
        )


def _listener():
    """A loopback socket that accepts connections and records whether anything was sent."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.5)
    received = []

    def accept():
        try:
            conn, _ = server.accept()
            received.append(conn.recv(100))
            conn.close()
        except OSError:
            pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    return server, thread, received


@pytest.mark.parametrize(
    "headers",
    [
        {constants.HEADER_PROVIDER: "bedrock"},  # no custom host: the gateway would call AWS
        {constants.HEADER_CUSTOM_HOST: "https://bedrock-runtime.us-east-1.amazonaws.com"},
    ],
)
def test_request_to_a_non_loopback_upstream_stops_the_run_unsent(headers):
    server, thread, received = _listener()
    try:
        with pytest.raises(LoadError, match="load stopped"):
            run_load(
                base_url=f"http://127.0.0.1:{server.getsockname()[1]}/v1",
                total=50,
                concurrency=5,
                make_request=lambda i: (headers, {"model": "m", "messages": []}),
            )
        thread.join()
    finally:
        server.close()
    assert received == []


def test_request_to_the_double_is_sent():
    server, thread, received = _listener()
    try:
        report = run_load(
            base_url=f"http://127.0.0.1:{server.getsockname()[1]}/v1",
            total=1,
            concurrency=1,
            timeout=2,
            make_request=lambda i: ({constants.HEADER_CUSTOM_HOST: LOOP}, {"model": "m", "messages": []}),
        )
        thread.join()
    finally:
        server.close()
    assert received and received[0].startswith(b"POST /v1/chat/completions HTTP/1.1")
    assert report.count == 1 and report.ok == 0  # the listener hung up without a reply


def test_connection_errors_and_make_request_errors_are_counted():
    url = f"http://127.0.0.1:{_dead_port()}/v1"

    def make_request(i):
        if i % 4 == 0:
            raise runtime.CredentialsError("secrets/env.json is being rotated; try again")
        return {constants.HEADER_CUSTOM_HOST: LOOP}, {"model": "m", "messages": []}

    report = run_load(base_url=url, total=20, concurrency=4, make_request=make_request, timeout=2)
    assert report.count == 20 and report.ok == 0 and report.unsent == 0
    assert report.errors == {"ConnectionRefusedError": 15, "make_request CredentialsError": 5}
    assert len(report.error_samples) == load.ERROR_SAMPLES
    assert report.p50_ms is None and "n/a" in report.format()


class _EchoSecret(http.server.BaseHTTPRequestHandler):
    """Answers 500 with an error message that repeats the request's secret header."""

    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        secret = self.headers[constants.HEADER_AWS_SECRET_ACCESS_KEY]
        raw = json.dumps({"error": {"message": f"upstream rejected key {secret} (echoed)"}}).encode()
        self.send_response(500)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


def test_error_messages_never_show_the_secret():
    secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoSecret)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    headers = {constants.HEADER_CUSTOM_HOST: LOOP, constants.HEADER_AWS_SECRET_ACCESS_KEY: secret}
    try:
        report = run_load(
            base_url=f"http://127.0.0.1:{server.server_address[1]}/v1",
            total=6,
            concurrency=2,
            make_request=lambda i: (headers, {"model": "m", "messages": []}),
        )
    finally:
        server.shutdown()
        server.server_close()
    assert report.errors == {"HTTP 500": 6}
    assert report.error_samples[0] == "HTTP 500: upstream rejected key <redacted> (echoed)"
    assert secret not in report.format() + repr(report) + json.dumps(report.figures())


def test_deadline_stops_the_run():
    url = f"http://127.0.0.1:{_dead_port()}/v1"

    def slow(i):
        time.sleep(0.05)
        return {constants.HEADER_CUSTOM_HOST: LOOP}, {"model": "m", "messages": []}

    report = run_load(base_url=url, total=10_000, concurrency=2, make_request=slow, timeout=0.2, deadline=0.3)
    assert report.deadline_hit is True
    assert 0 < report.count < 100 and report.unsent == 10_000 - report.count
    assert "not sent: the deadline passed" in report.format()
