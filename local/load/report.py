"""The load report: percentiles, error samples with every secret redacted, the printed figures."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from local.load.limits import Headers
from runtime.constants import REDACTED
from runtime.redact import is_secret_header
from runtime.redact import redact as redact_text

ERROR_SAMPLES = 5
_SAMPLE_CHARS = 300
# The x-portkey-config header is hidden too: its targets carry keys.
_CONFIG_HEADER_WORD = "config"


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
    """`text` with every secret value replaced (the known `secrets`, then whatever
    `runtime.redact.redact`, the one owner of masking, recognizes), cut to one short line.

    >>> redact("bad key wJalr/K7 for\\nuser", ["wJalr/K7"])
    'bad key <redacted> for user'
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = " ".join(redact_text(text).split())
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
