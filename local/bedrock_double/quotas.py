"""Per-source-region quotas of the double: requests and tokens per minute, as Bedrock throttles.

Bedrock's bedrock-runtime quotas are "per model, per Region" (the source region the caller signs
for, also for cross-Region profiles), in tokens per minute, input + output combined
(https://docs.aws.amazon.com/bedrock/latest/userguide/quotas-runtime.html); the TPM quota is
reserved when a request starts as input tokens + ``maxTokens`` (AWS's own agent toolkit,
https://github.com/aws/agent-toolkit-for-aws, skills/core-skills/amazon-bedrock/references/quota-health.md).
A request over a quota gets HTTP 429 ``ThrottlingException`` worded exactly as Bedrock words it:
``Too many requests, please wait before trying again.`` (requests) or ``Too many tokens, please
wait before trying again.`` (tokens) — see /work/research/bedrock-facts.md's error table.

The double keys its counters by (source region, invoked model id) and counts over a sliding
window (60 s like Bedrock's minute; shorter for tests via ``window_seconds``). A throttled
request reserves nothing.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from local.bedrock_double.errors import BedrockError
from local.bedrock_double.reply import _blocks, count_tokens
from runtime.catalog.model import is_region_name
from runtime.errors import ConfigError

THROTTLING = "ThrottlingException"
TOO_MANY_REQUESTS = "Too many requests, please wait before trying again."
TOO_MANY_TOKENS = "Too many tokens, please wait before trying again."
DEFAULT_MAX_TOKENS = 4096  # what the double reserves when a request names no maxTokens


@dataclass(frozen=True)
class Quota:
    """Limits for calls signed for `region` (a model id, or None: each model counted on its own)."""

    region: str
    model: str | None = None
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    window_seconds: float = 60.0

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Quota:
        """Validate a control-API quota.

        >>> Quota.from_json({"region": "us-east-1", "requests_per_minute": 2})
        Quota(region='us-east-1', model=None, requests_per_minute=2, tokens_per_minute=None, window_seconds=60.0)
        >>> Quota.from_json({"region": "us-east-1"})
        Traceback (most recent call last):
        runtime.errors.ConfigError: a quota needs requests_per_minute and/or tokens_per_minute (whole numbers >= 0)
        """
        fields = {"region", "model", "requests_per_minute", "tokens_per_minute", "window_seconds"}
        unknown = set(data) - fields
        if unknown:
            raise ConfigError(f"unknown quota field(s) {sorted(unknown)}; use {', '.join(sorted(fields))}")
        region, model = data.get("region"), data.get("model")
        if not isinstance(region, str) or not is_region_name(region):
            raise ConfigError("quota region must be an AWS region name such as us-east-1")
        if model is not None and not isinstance(model, str):
            raise ConfigError("quota model must be a model id string or null (every model)")
        limits = [data.get("requests_per_minute"), data.get("tokens_per_minute")]
        if all(v is None for v in limits) or not all(
            v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 0) for v in limits
        ):
            raise ConfigError("a quota needs requests_per_minute and/or tokens_per_minute (whole numbers >= 0)")
        window = data.get("window_seconds", 60.0)
        if isinstance(window, bool) or not isinstance(window, int | float) or not 0 < window <= 3600:
            raise ConfigError("quota window_seconds must be a number of seconds from 0 (exclusive) to 3600")
        return cls(region, model, limits[0], limits[1], float(window))


def reserved_tokens(body: Mapping[str, Any]) -> int:
    """Tokens a Converse request reserves: its input tokens (words, as the double counts) + maxTokens.

    >>> message = {"role": "user", "content": [{"text": "a b c"}]}
    >>> reserved_tokens({"messages": [message], "inferenceConfig": {"maxTokens": 10}})
    13
    """
    blocks = _blocks(body)
    text_tokens = sum(count_tokens(str(b.get("text", ""))) for b in blocks)
    max_tokens = (body.get("inferenceConfig") or {}).get("maxTokens")
    return max(1, text_tokens) + (max_tokens if isinstance(max_tokens, int) else DEFAULT_MAX_TOKENS)


class Quotas:
    """The configured quotas and their sliding-window counters (thread-safe)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._quotas: list[Quota] = []
        # (quota index, model id) -> deque of (time, tokens)
        self._used: dict[tuple[int, str], deque[tuple[float, int]]] = {}
        self.throttled: dict[str, int] = {}  # source region -> 429s answered

    def set(self, quotas: list[Quota]) -> None:
        with self._lock:
            self._quotas = list(quotas)
            self._used.clear()
            self.throttled = {}

    def clear(self) -> None:
        self.set([])

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {"quotas": [asdict(q) for q in self._quotas], "throttled": dict(self.throttled)}

    def admit(self, region: str, model_id: str, body: Mapping[str, Any]) -> None:
        """Count one request signed for `region`, or raise the 429 Bedrock answers over a quota.

        >>> now = [0.0]
        >>> quotas = Quotas(clock=lambda: now[0])
        >>> quotas.set([Quota("us-east-1", requests_per_minute=1)])
        >>> quotas.admit("us-east-1", "m", {})
        >>> quotas.admit("us-west-2", "m", {})  # another source region has its own quota
        >>> quotas.admit("us-east-1", "m", {})
        Traceback (most recent call last):
        local.bedrock_double.errors.BedrockError: Too many requests, please wait before trying again.
        >>> now[0] = 60.0
        >>> quotas.admit("us-east-1", "m", {})  # a minute later
        """
        tokens = reserved_tokens(body)
        with self._lock:
            now = self._clock()
            windows = []
            for index, quota in enumerate(self._quotas):
                if quota.region != region or (quota.model is not None and quota.model != model_id):
                    continue
                used = self._used.setdefault((index, model_id), deque())
                while used and used[0][0] <= now - quota.window_seconds:
                    used.popleft()
                if quota.requests_per_minute is not None and len(used) + 1 > quota.requests_per_minute:
                    self.throttled[region] = self.throttled.get(region, 0) + 1
                    raise BedrockError(429, THROTTLING, TOO_MANY_REQUESTS)
                if quota.tokens_per_minute is not None and sum(t for _, t in used) + tokens > quota.tokens_per_minute:
                    self.throttled[region] = self.throttled.get(region, 0) + 1
                    raise BedrockError(429, THROTTLING, TOO_MANY_TOKENS)
                windows.append(used)
            for used in windows:
                used.append((now, tokens))
