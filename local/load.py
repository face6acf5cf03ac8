"""A bounded load harness: chat completions through a local Portkey gateway, timed.

    report = run_load(base_url=gateway.base_url, total=1000, concurrency=50,
                      make_request=lambda i: (headers, runtime.chat_request(name, [...])))
    print(report.format())

    python -m local.load --total 1000 --concurrency 50 [--stream]   # own gateway + double

Client: one thread per worker, each with its own keep-alive ``http.client`` connection. On a
2-core machine the gateway (node) and the double (Python threads) need the CPU; the standard
library client costs a fraction of what the OpenAI SDK (httpx + pydantic) costs per request.

Load goes to loopback only: the gateway's URL must be a loopback address, and every request
must carry a loopback ``x-portkey-custom-host`` (in the header, or on each target of its
``x-portkey-config``) -- without one the gateway would call the real Bedrock endpoint.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import math
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from runtime.constants import HEADER_CONFIG, HEADER_CUSTOM_HOST, REDACTED
from runtime.errors import PortkeyBedrockError
from runtime.redact import is_secret_header

MAX_TOTAL = 1_000_000
MAX_CONCURRENCY = 256
DEFAULT_DEADLINE = 600.0  # seconds for a whole run; requests not started by then are not sent
ERROR_SAMPLES = 5
_SAMPLE_CHARS = 300
# The x-portkey-config header is hidden too: its targets carry keys.
_CONFIG_HEADER_WORD = "config"

Headers = Mapping[str, str]
MakeRequest = Callable[[int], tuple[Headers, Mapping[str, Any]]]


class LoadError(PortkeyBedrockError, ValueError):
    """A load run that must not start (bad limits, a target that is not loopback)."""


# -- pure helpers ------------------------------------------------------------------------------
def is_loopback_url(url: str) -> bool:
    """True for an http(s) URL whose host is ``localhost`` or a loopback address.

    >>> [is_loopback_url(u) for u in ("http://127.0.0.1:8787/v1", "http://localhost:9", "http://[::1]:80")]
    [True, True, True]
    >>> [is_loopback_url(u) for u in ("http://10.0.0.1:8787", "https://bedrock-runtime.us-east-1.amazonaws.com",
    ...                               "http://localhost.example.com", "ftp://127.0.0.1", "127.0.0.1:80")]
    [False, False, False, False, False]
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _leaf_targets(config: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The targets of a Portkey config that call a provider (nested fallback/loadbalance trees)."""
    targets = config.get("targets")
    if isinstance(targets, list) and targets:
        for target in targets:
            if isinstance(target, Mapping):
                yield from _leaf_targets(target)
    else:
        yield config


def target_problem(headers: Headers) -> str | None:
    """Why a request would leave loopback, or None when every upstream it can reach is loopback.

    >>> target_problem({"x-portkey-custom-host": "http://127.0.0.1:9000"}) is None
    True
    >>> target_problem({})
    'the request has no x-portkey-custom-host: the gateway would call the real Bedrock; point it at the double'
    >>> target_problem({"x-portkey-custom-host": "http://10.1.2.3:9000"})
    'x-portkey-custom-host http://10.1.2.3:9000 is not a loopback URL; load may only go to 127.0.0.1/localhost'
    >>> cfg = '{"strategy": {"mode": "fallback"}, "targets": [{"custom_host": "http://127.0.0.1:1"}, {}]}'
    >>> target_problem({"x-portkey-config": cfg, "x-portkey-custom-host": "http://127.0.0.1:1"})
    'a target in x-portkey-config has no custom_host: the gateway would call the real Bedrock'
    >>> target_problem({"x-portkey-config": '{"retry": {"attempts": 3}}', "x-portkey-custom-host": "http://[::1]:1"})
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    header_host = lowered.get(HEADER_CUSTOM_HOST)
    if header_host is not None and not is_loopback_url(header_host):
        return f"{HEADER_CUSTOM_HOST} {header_host} is not a loopback URL; load may only go to 127.0.0.1/localhost"
    raw_config = lowered.get(HEADER_CONFIG)
    config: Any = {}
    if raw_config:
        try:
            config = json.loads(raw_config)
        except ValueError:
            return f"{HEADER_CONFIG} is not JSON (a config id cannot be checked); pass the config object inline"
        if not isinstance(config, Mapping):
            return f"{HEADER_CONFIG} must be a JSON object"
    has_targets = "targets" in config or "provider" in config
    if not has_targets:
        if header_host is None:
            return (
                f"the request has no {HEADER_CUSTOM_HOST}: the gateway would call the real Bedrock; "
                "point it at the double"
            )
        return None
    for target in _leaf_targets(config):
        host = target.get("custom_host")
        if host is None:
            return f"a target in {HEADER_CONFIG} has no custom_host: the gateway would call the real Bedrock"
        if not isinstance(host, str) or not is_loopback_url(host):
            return f"a target's custom_host {host!r} is not a loopback URL; load may only go to 127.0.0.1/localhost"
    return None


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of an ascending list; None for an empty list.

    >>> values = [float(v) for v in range(1, 101)]
    >>> percentile(values, 50), percentile(values, 99), percentile(values, 100)
    (50.0, 99.0, 100.0)
    >>> percentile([7.0], 90), percentile([], 50)
    (7.0, None)
    """
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def redact(text: str, secrets: list[str]) -> str:
    """`text` with every secret value replaced, cut to one short line.

    >>> redact("bad key wJalr/K7 for\\nuser", ["wJalr/K7"])
    'bad key <redacted> for user'
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = " ".join(text.split())
    return text if len(text) <= _SAMPLE_CHARS else text[: _SAMPLE_CHARS - 1] + "…"


def secret_values(headers: Headers) -> list[str]:
    """Header values never to show: credentials, tokens and the config (it may carry keys).

    >>> secret_values({"x-portkey-aws-secret-access-key": "s", "x-portkey-aws-region": "r", "Authorization": "a"})
    ['s', 'a']
    """
    return [value for name, value in headers.items() if is_secret_header(name) or _CONFIG_HEADER_WORD in name.lower()]


def _error_message(data: bytes) -> str:
    """The gateway's error message from a reply body (``{"error": {"message": ...}}``)."""
    try:
        payload = json.loads(data)
    except ValueError:
        return data[:_SAMPLE_CHARS].decode("utf-8", "replace")
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    return json.dumps(payload)[:_SAMPLE_CHARS]


# -- the report --------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoadReport:
    """What a run did. Latency figures are over the successful requests only (ms, None if none)."""

    total: int  # requests asked for
    count: int  # requests that got an answer or failed (not counting unsent ones)
    ok: int
    errors: dict[str, int]  # "HTTP 403", "TimeoutError", "make_request ValueError", ...
    error_samples: tuple[str, ...]  # the first few error messages, secrets redacted
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    mean_ms: float | None
    throughput: float  # finished requests per second of wall time
    wall_s: float
    concurrency: int
    stream: bool
    unsent: int = 0  # not started before the deadline
    deadline_hit: bool = False
    warmup: int = 0  # warm-up requests sent first (one per worker), not counted above
    warmup_errors: dict[str, int] = field(default_factory=dict)
    warmup_max_ms: float | None = None
    warmup_s: float | None = None
    latencies_ms: tuple[float, ...] = field(default=(), repr=False)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def figures(self) -> dict[str, Any]:
        """The report as plain JSON-able values (for test properties and bench output)."""
        return {
            "total": self.total,
            "count": self.count,
            "ok": self.ok,
            "errors": dict(self.errors),
            "p50_ms": self.p50_ms,
            "p90_ms": self.p90_ms,
            "p99_ms": self.p99_ms,
            "max_ms": self.max_ms,
            "mean_ms": self.mean_ms,
            "throughput_rps": round(self.throughput, 1),
            "wall_s": round(self.wall_s, 3),
            "concurrency": self.concurrency,
            "stream": self.stream,
            "unsent": self.unsent,
            "deadline_hit": self.deadline_hit,
            "warmup": self.warmup,
            "warmup_errors": dict(self.warmup_errors),
            "warmup_max_ms": self.warmup_max_ms,
            "warmup_s": self.warmup_s,
        }

    def format(self) -> str:
        """One paragraph.

        >>> LoadReport(10, 10, 9, {"HTTP 429": 1}, ("Too many requests",), 12.0, 15.5, 20.25, 21.0, 13.0,
        ...            250.0, 0.04, 5, False).format()  # doctest: +NORMALIZE_WHITESPACE
        'load: 10/10 requests in 0.04 s at concurrency 5 (non-streaming): 9 ok, 1 errors (HTTP 429: 1);
         latency p50 12.0 ms, p90 15.5 ms, p99 20.2 ms, max 21.0 ms; 250.0 req/s.
         first errors: Too many requests'
        """

        def ms(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.1f} ms"

        mode = "streaming" if self.stream else "non-streaming"
        errors = ", ".join(f"{kind}: {n}" for kind, n in sorted(self.errors.items()))
        text = (
            f"load: {self.count}/{self.total} requests in {self.wall_s:.2f} s at concurrency {self.concurrency} "
            f"({mode}): {self.ok} ok, {self.error_count} errors{f' ({errors})' if errors else ''}; "
            f"latency p50 {ms(self.p50_ms)}, p90 {ms(self.p90_ms)}, p99 {ms(self.p99_ms)}, max {ms(self.max_ms)}; "
            f"{self.throughput:.1f} req/s."
        )
        if self.warmup:
            bad = sum(self.warmup_errors.values())
            text += (
                f" Warm-up first: {self.warmup} requests ({bad} errors) in {self.warmup_s or 0:.2f} s, "
                f"slowest {ms(self.warmup_max_ms)}."
            )
        if self.unsent:
            text += f" {self.unsent} not sent: the {'deadline passed' if self.deadline_hit else 'run stopped'}."
        if self.error_samples:
            text += " first errors: " + " | ".join(self.error_samples)
        return text


# -- the run -----------------------------------------------------------------------------------
class _Run:
    """State shared by the workers: the next index, the deadline, the error samples."""

    def __init__(self, total: int, deadline: float) -> None:
        self.total = total
        self.deadline = deadline
        self._next = 0
        self._lock = threading.Lock()
        self.samples: list[str] = []
        self.deadline_hit = False
        self.refused: str | None = None

    def take(self) -> int | None:
        with self._lock:
            if self._next >= self.total or self.refused is not None:
                return None
            if time.monotonic() >= self.deadline:
                self.deadline_hit = True
                return None
            index = self._next
            self._next += 1
            return index

    def sample(self, text: str) -> None:
        with self._lock:
            if len(self.samples) < ERROR_SAMPLES:
                self.samples.append(text)

    def refuse_new(self) -> None:
        """No more counted requests (the warm-up did not finish by the deadline)."""
        with self._lock:
            self.total = self._next

    def refuse(self, problem: str) -> None:
        with self._lock:
            self.refused = self.refused or problem


@dataclass
class _Tally:
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    count: int = 0


class _Worker:
    """One thread, one keep-alive connection to the gateway."""

    def __init__(self, run: _Run, host: str, port: int, path: str, make_request: MakeRequest, stream: bool) -> None:
        self.run = run
        self.host, self.port, self.path = host, port, path
        self.make_request = make_request
        self.stream = stream
        self.main = _Tally()
        self.warm = _Tally()
        self._conn: http.client.HTTPConnection | None = None

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __call__(self, timeout: float, warmup_index: int | None, ready: threading.Barrier, go: threading.Event) -> None:
        try:
            if warmup_index is not None:
                self._one(warmup_index, timeout, self.warm)
                try:
                    ready.wait(timeout=max(0.0, self.run.deadline - time.monotonic()))
                except threading.BrokenBarrierError:
                    return
                go.wait()
            while (index := self.run.take()) is not None:
                self._one(index, timeout, self.main)
        except Exception as exc:  # a bug, not a finding: stop everyone rather than hang the barrier
            self.run.refuse(f"a load worker failed with {type(exc).__name__}")
            ready.abort()
        finally:
            self._drop()

    def _fail(self, tally: _Tally, kind: str, message: str, secrets: list[str]) -> None:
        tally.errors[kind] += 1
        if tally is self.main:
            self.run.sample(f"{kind}: {redact(message, secrets)}")

    def _one(self, index: int, timeout: float, tally: _Tally) -> None:
        try:
            headers, body = self.make_request(index)
        except Exception as exc:  # a failing credential source mid-run is a finding, not a crash
            tally.count += 1
            self._fail(tally, f"make_request {type(exc).__name__}", str(exc), [])
            return
        problem = target_problem(headers)
        if problem is not None:
            self.run.refuse(problem)
            return
        secrets = secret_values(headers)
        if self.stream and "stream" not in body:
            body = {**body, "stream": True}
        try:
            payload = json.dumps(body).encode("utf-8")
        except (TypeError, ValueError) as exc:
            tally.count += 1
            self._fail(tally, "bad body", f"the request body is not JSON: {type(exc).__name__}", [])
            return
        send_headers = {**headers, "Content-Type": "application/json", "Content-Length": str(len(payload))}
        tally.count += 1
        started = time.perf_counter()
        try:
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
            self._conn.request("POST", self.path, payload, send_headers)
            response = self._conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self._drop()  # the next request opens a fresh connection
            self._fail(tally, type(exc).__name__, str(exc) or type(exc).__name__, secrets)
            return
        elapsed_ms = (time.perf_counter() - started) * 1000
        if response.status != 200:
            self._fail(tally, f"HTTP {response.status}", _error_message(data), secrets)
        elif self.stream and b"data: [DONE]" not in data:
            self._fail(tally, "bad stream", "the event stream ended without data: [DONE]", secrets)
        elif not self.stream and b'"choices"' not in data:
            self._fail(tally, "bad reply", _error_message(data), secrets)
        else:
            tally.latencies.append(elapsed_ms)


def _check_limits(base_url: str, total: int, concurrency: int, timeout: float, deadline: float) -> None:
    if not is_loopback_url(base_url):
        raise LoadError(
            f"load is only allowed against loopback addresses, not {base_url}; start the gateway locally "
            "(python -m local.gateway up) and pass its http://127.0.0.1:PORT/v1 URL"
        )
    if not 1 <= total <= MAX_TOTAL:
        raise LoadError(f"total must be from 1 to {MAX_TOTAL:,}, got {total}")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise LoadError(f"concurrency must be from 1 to {MAX_CONCURRENCY}, got {concurrency}")
    if not 0 < timeout <= deadline:
        raise LoadError(f"timeout must be above 0 and at most the deadline ({deadline} s), got {timeout}")


def run_load(
    *,
    base_url: str,
    total: int,
    concurrency: int,
    make_request: MakeRequest,
    stream: bool = False,
    timeout: float = 30,
    deadline: float = DEFAULT_DEADLINE,
    warmup: bool = False,
    after_warmup: Callable[[], None] | None = None,
) -> LoadReport:
    """Send `total` chat completions to ``{base_url}/chat/completions``, `concurrency` at a time.

    ``make_request(i)`` returns the headers and OpenAI-format body of request `i`; it is called
    from the worker threads (keep it thread-safe) just before the request is sent, so it may read
    fresh credentials each time. `timeout` bounds each request, `deadline` (seconds) the run: no
    request starts after it.

    With `warmup`, each worker first sends one request on its new connection (indices -1 ...
    -concurrency), not counted; when all are back, ``after_warmup()`` runs (e.g. to clear the
    double's log) and the clock starts. The gateway answers the first request of a new
    connection late (up to seconds) while it is busy, so a cold start would dominate p99.

    Raises :class:`LoadError` before sending anything for a non-loopback URL or limits out of
    range, and stops the run (raising) when a request would reach a non-loopback upstream.
    """
    _check_limits(base_url, total, concurrency, timeout, deadline)
    parts = urlsplit(base_url)
    if parts.scheme != "http":
        raise LoadError(f"the local gateway speaks plain http; use http://{parts.netloc}{parts.path}")
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path.rstrip("/") + "/chat/completions"
    concurrency = min(concurrency, total)
    run = _Run(total, time.monotonic() + deadline)
    workers = [_Worker(run, host, port, path, make_request, stream) for _ in range(concurrency)]
    ready, go = threading.Barrier(concurrency + 1), threading.Event()
    threads = [
        threading.Thread(
            target=worker,
            args=(timeout, -1 - n if warmup else None, ready, go),
            name=f"load-worker-{n}",
            daemon=True,
        )
        for n, worker in enumerate(workers)
    ]
    warm_started = time.perf_counter()
    for thread in threads:
        thread.start()
    if warmup:
        try:
            ready.wait(timeout=max(0.0, run.deadline - time.monotonic()))
        except threading.BrokenBarrierError:
            run.deadline_hit = run.refused is None  # else a worker failed; raised below
            run.refuse_new()
        else:
            try:
                if after_warmup is not None:
                    after_warmup()
            finally:
                go.set()
    warm_s = time.perf_counter() - warm_started
    started = time.perf_counter()
    go.set()
    for thread in threads:
        # every worker ends by the deadline plus one request's timeout (plus make_request's own time)
        thread.join()
    wall = time.perf_counter() - started
    if run.refused is not None:
        raise LoadError(f"load stopped: {run.refused}")
    return _report(run, workers, total, concurrency, stream, wall, warm_s if warmup else None)


def _report(
    run: _Run,
    workers: list[_Worker],
    total: int,
    concurrency: int,
    stream: bool,
    wall: float,
    warm_s: float | None,
) -> LoadReport:
    latencies = sorted(value for worker in workers for value in worker.main.latencies)
    errors: Counter[str] = Counter()
    warm_errors: Counter[str] = Counter()
    for worker in workers:
        errors.update(worker.main.errors)
        warm_errors.update(worker.warm.errors)
    count = sum(worker.main.count for worker in workers)
    warm_latencies = [value for worker in workers for value in worker.warm.latencies]

    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 2)

    return LoadReport(
        total=total,
        count=count,
        ok=len(latencies),
        errors=dict(errors),
        error_samples=tuple(run.samples),
        p50_ms=rounded(percentile(latencies, 50)),
        p90_ms=rounded(percentile(latencies, 90)),
        p99_ms=rounded(percentile(latencies, 99)),
        max_ms=rounded(latencies[-1] if latencies else None),
        mean_ms=rounded(sum(latencies) / len(latencies) if latencies else None),
        throughput=count / wall if wall > 0 else 0.0,
        wall_s=wall,
        concurrency=concurrency,
        stream=stream,
        unsent=total - count,
        deadline_hit=run.deadline_hit,
        warmup=sum(worker.warm.count for worker in workers),
        warmup_errors=dict(warm_errors),
        warmup_max_ms=rounded(max(warm_latencies) if warm_latencies else None),
        warmup_s=None if warm_s is None else round(warm_s, 3),
        latencies_ms=tuple(latencies),
    )


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
    from runtime.resolve import find_model
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


if __name__ == "__main__":
    sys.exit(main())
