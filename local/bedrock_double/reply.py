"""Deterministic Converse replies and their ConverseStream event sequence.

The reply is ``Hello from <model id>: <last user text>``, so tests can assert on it. Tokens are
counted as whitespace-separated words. Prompt caching is simulated: the content up to the last
`cachePoint` block is the cached prefix; the first request with a given prefix reports it as
`cacheWriteInputTokens`, later ones as `cacheReadInputTokens`.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Mapping
from typing import Any

from local.bedrock_double.eventstream import encode_event


def _blocks(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """System blocks, then every message's content blocks, in order."""
    blocks = [b for b in body.get("system") or [] if isinstance(b, Mapping)]
    for message in body.get("messages") or []:
        blocks.extend(b for b in message.get("content") or [] if isinstance(b, Mapping))
    return blocks


def count_tokens(text: str) -> int:
    """
    >>> count_tokens("a b  c"), count_tokens("")
    (3, 0)
    """
    return len(text.split())


def last_user_text(body: Mapping[str, Any]) -> str:
    """
    >>> last_user_text({"messages": [{"role": "user", "content": [{"text": "a"}, {"cachePoint": {}}, {"text": "b"}]}]})
    'a b'
    """
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            return " ".join(str(b["text"]) for b in message.get("content") or [] if "text" in b)
    return ""


class PromptCache:
    """Prefixes seen so far (thread-safe)."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()

    def usage(self, body: Mapping[str, Any]) -> dict[str, int]:
        """Input-token usage: plain, cache read and cache write (the cache fields only when the
        request has a `cachePoint`)."""
        blocks = _blocks(body)
        cut = max((i for i, b in enumerate(blocks) if "cachePoint" in b), default=-1)
        tokens = [count_tokens(str(b.get("text", ""))) for b in blocks]
        if cut < 0:
            return {"inputTokens": max(1, sum(tokens))}
        prefix = hashlib.sha256(json.dumps(blocks[:cut], sort_keys=True).encode()).hexdigest()
        cached = sum(tokens[:cut])
        with self._lock:
            hit = prefix in self._seen
            self._seen.add(prefix)
        return {
            "inputTokens": max(1, sum(tokens[cut:])),
            "cacheReadInputTokens": cached if hit else 0,
            "cacheWriteInputTokens": 0 if hit else cached,
        }


def converse_reply(model_id: str, body: Mapping[str, Any], cache: PromptCache, latency_ms: int = 0) -> dict[str, Any]:
    """The Converse response body.

    >>> r = converse_reply("m", {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}, PromptCache())
    >>> r["output"]["message"]["content"][0]["text"], r["stopReason"], r["usage"]
    ('Hello from m: hi', 'end_turn', {'inputTokens': 1, 'outputTokens': 4, 'totalTokens': 5})
    """
    text = f"Hello from {model_id}: {last_user_text(body)}"
    stop = "end_turn"
    max_tokens = (body.get("inferenceConfig") or {}).get("maxTokens")
    words = text.split(" ")
    if isinstance(max_tokens, int) and 0 < max_tokens < count_tokens(text):
        text, stop = " ".join(words[:max_tokens]), "max_tokens"
    usage: dict[str, int] = cache.usage(body)
    usage["outputTokens"] = count_tokens(text)
    # Bedrock's totalTokens counts cached input too.
    usage["totalTokens"] = (
        usage["inputTokens"]
        + usage["outputTokens"]
        + usage.get("cacheReadInputTokens", 0)
        + usage.get("cacheWriteInputTokens", 0)
    )
    first: tuple[str, ...] = ("inputTokens", "outputTokens", "totalTokens")
    ordered = {k: usage[k] for k in first if k in usage}
    ordered.update({k: v for k, v in usage.items() if k not in ordered})
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": stop,
        "usage": ordered,
        "metrics": {"latencyMs": latency_ms},
    }


def chunk_text(text: str, words_per_chunk: int = 2) -> list[str]:
    """Split text into deltas that concatenate back to it exactly.

    >>> chunk_text("Hello from m: a b")
    ['Hello from ', 'm: a ', 'b']
    """
    pieces = re.findall(r"\s*\S+\s*", text) or [text]
    return ["".join(pieces[i : i + words_per_chunk]) for i in range(0, len(pieces), words_per_chunk)]


def stream_events(reply: Mapping[str, Any]) -> list[bytes]:
    """The ConverseStream messages for a Converse reply: messageStart, contentBlockDelta...,
    contentBlockStop, messageStop, metadata."""
    text = reply["output"]["message"]["content"][0]["text"]
    events = [encode_event("messageStart", {"role": "assistant"})]
    events += [
        encode_event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": piece}})
        for piece in chunk_text(text)
    ]
    events.append(encode_event("contentBlockStop", {"contentBlockIndex": 0}))
    events.append(encode_event("messageStop", {"stopReason": reply["stopReason"]}))
    events.append(encode_event("metadata", {"usage": reply["usage"], "metrics": reply["metrics"]}))
    return events
