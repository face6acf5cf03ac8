"""A client for the double's control API, for tests running in another process than the double
(for example when the double runs inside the moto server process)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from runtime.errors import ConfigError


class DoubleClient:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"double URL {url!r} must start with http:// (e.g. http://127.0.0.1:9000)")
        self.url = url.rstrip("/")
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"DoubleClient({self.url!r})"

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)  # noqa: S310
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - loopback URL
            return json.loads(response.read())

    def add_fault(
        self,
        status: int | None = None,
        *,
        model: str | None = None,
        count: int | None = 1,
        latency_ms: int = 0,
        region: str | None = None,
    ) -> list[dict[str, Any]]:
        fault: dict[str, Any] = {"model": model, "status": status, "count": count, "latency_ms": latency_ms}
        if region is not None:
            fault["region"] = region
        return list(self._call("POST", "/_double/faults", fault)["faults"])

    def set_quotas(self, quotas: list[dict[str, Any]]) -> dict[str, Any]:
        """Replace the per-source-region quotas (see local/bedrock_double/quotas.py); [] clears."""
        return dict(self._call("POST", "/_double/quotas", quotas))

    def quotas(self) -> dict[str, Any]:
        return dict(self._call("GET", "/_double/quotas"))

    def clear_quotas(self) -> None:
        self._call("DELETE", "/_double/quotas")

    def clear_faults(self) -> None:
        self._call("DELETE", "/_double/faults")

    def requests(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/_double/requests")["requests"])

    def clear_requests(self) -> None:
        self._call("DELETE", "/_double/requests")

    def reset(self) -> None:
        self._call("POST", "/_double/reset", {})

    def healthy(self) -> bool:
        try:
            return bool(self._call("GET", "/_double/health")["status"] == "ok")
        except OSError:
            return False

    def set_clock_offset(self, seconds: float) -> None:
        """Move the double's clock (signature age, session expiry) by `seconds`; 0 resets."""
        self._call("POST", "/_double/clock", {"offset_seconds": seconds})
