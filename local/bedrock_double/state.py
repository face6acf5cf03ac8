"""The double's mutable state: injected faults and the log of requests it saw (thread-safe)."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from local.bedrock_double.errors import FAULTS
from runtime.errors import ConfigError
from runtime.redact import is_secret_header


def public_headers(headers: Any) -> dict[str, str]:
    """Request headers safe to record: no authorization, session token or secret-looking header.

    >>> public_headers([("Host", "h"), ("Authorization", "AWS4 ..."), ("x-portkey-aws-secret-access-key", "s")])
    {'host': 'h'}
    """
    out: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        if is_secret_header(key):
            continue
        out[key] = value
    return out


@dataclass
class Fault:
    """Make the next `count` matching requests (None: all) wait `latency_ms`, then fail with
    `status` (None: answer normally). `model` None matches any model id, `region` None any
    source region (the region the caller signed for)."""

    model: str | None = None
    status: int | None = None
    count: int | None = 1
    latency_ms: int = 0
    region: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fault:
        """Validate a control-API fault.

        >>> Fault.from_json({"status": 429, "count": 2})
        Fault(model=None, status=429, count=2, latency_ms=0, region=None)
        >>> Fault.from_json({"status": 418})
        Traceback (most recent call last):
        runtime.errors.ConfigError: fault status 418 is not supported; use one of 400, 408, 424, 429, 500, 503 or null
        """
        unknown = set(data) - {"model", "status", "count", "latency_ms", "region"}
        if unknown:
            raise ConfigError(f"unknown fault field(s) {sorted(unknown)}; use model, region, status, count, latency_ms")
        model, status = data.get("model"), data.get("status")
        count, latency = data.get("count", 1), data.get("latency_ms", 0)
        if model is not None and not isinstance(model, str):
            raise ConfigError("fault model must be a model id string or null (any model)")
        if status is not None and status not in FAULTS:
            codes = ", ".join(str(code) for code in FAULTS)
            raise ConfigError(f"fault status {status} is not supported; use one of {codes} or null")
        if count is not None and (not isinstance(count, int) or count < 1):
            raise ConfigError("fault count must be a positive integer or null (every request)")
        if not isinstance(latency, int) or not 0 <= latency <= 600_000:
            raise ConfigError("fault latency_ms must be an integer from 0 to 600000")
        region = data.get("region")
        if region is not None and not isinstance(region, str):
            raise ConfigError("fault region must be a region name string or null (any source region)")
        return cls(model, status, count, latency, region)


# Requests the double remembers: the oldest are dropped past this many (a long load run, or a
# client flooding it, must not grow the server's memory without bound).
DEFAULT_MAX_RECORDED = 10_000


class State:
    def __init__(self, max_recorded: int = DEFAULT_MAX_RECORDED) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._requests: deque[dict[str, Any]] = deque(maxlen=max_recorded)
        self._ids = itertools.count(1)

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(f) for f in self._faults]

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def take_fault(self, model_id: str, region: str | None = None) -> Fault | None:
        """Consume one use of the first fault matching `model_id` (and the source `region`)."""
        with self._lock:
            for fault in self._faults:
                if (fault.model is None or fault.model == model_id) and (
                    fault.region is None or fault.region == region
                ):
                    if fault.count is not None:
                        fault.count -= 1
                        if fault.count == 0:
                            self._faults.remove(fault)
                    return Fault(fault.model, fault.status, 1, fault.latency_ms, fault.region)
        return None

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            entry["id"] = next(self._ids)
            self._requests.append(entry)
        return entry

    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._requests]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()
