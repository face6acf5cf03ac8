"""The load run itself: one thread per worker, each with its own keep-alive connection."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from local.load.limits import DEFAULT_DEADLINE, LoadError, MakeRequest, _check_limits, target_problem
from local.load.report import ERROR_SAMPLES, LoadReport, _error_message, percentile, redact, secret_values


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
