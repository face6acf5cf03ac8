"""Fallback chains over (model, source region) pairs for the gateway's ``x-portkey-config``.

Bedrock counts on-demand quotas per *source* region, also for cross-Region profiles, so a
throttled call (429 ``ThrottlingException``) can be served by the same model called from another
source region, and after that by the next model. The order is documented and fixed: **every
region of the first model, then every region of the next model** — a user keeps the model they
asked for as long as any region has quota.

Only errors another target can cure fall back: 429 (quota), 408 (the gateway's
``request_timeout``) and 5xx. A 400 (a bad request) or 403 (no permission) would fail the same
way everywhere, so it is returned as it is (``strategy.on_status_codes``; without it the gateway
falls back on *any* non-2xx).

Retries: a throttled source region stays throttled for the rest of its minute, so in a chain the
default retry does not retry 429 in the same region (the gateway backs off 1 s, 2 s, 4 s) but moves
on at once; the *last* target keeps the full default retry, 429 included, so a chain never gives up
earlier than a single target would.
"""

from __future__ import annotations

from runtime.constants import DEFAULT_RETRY_STATUS_CODES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

THROTTLED = 429
TIMED_OUT = 408  # what the gateway answers when request_timeout elapses
# the codes a fallback chain moves on for: quota, timeout, server errors — never a 4xx the caller caused
FALLBACK_STATUS_CODES = (THROTTLED, TIMED_OUT, 500, 502, 503, 504)


def chain_pairs(names: Sequence[str], regions: Sequence[str]) -> list[tuple[str, str]]:
    """The (model, region) pairs of a chain in order: all regions of the first model, then the next.

    >>> chain_pairs(["claude-sonnet-4.6", "claude-haiku-4.5"], ["us-east-1", "us-west-2"])
    [('claude-sonnet-4.6', 'us-east-1'), ('claude-sonnet-4.6', 'us-west-2'), ('claude-haiku-4.5', 'us-east-1'), \
('claude-haiku-4.5', 'us-west-2')]
    """
    return [(name, region) for name in dict.fromkeys(names) for region in dict.fromkeys(regions)]


def retry_codes(codes: Sequence[int], *, timeout: bool, throttled: bool = True) -> list[int]:
    """Retry status codes: `codes`, plus 408 when a request timeout is set, minus 429 when not
    `throttled` (a chain's non-last targets).

    >>> retry_codes([429, 500, 502, 503, 504], timeout=True)
    [429, 500, 502, 503, 504, 408]
    >>> retry_codes([429, 500, 502, 503, 504], timeout=False, throttled=False)
    [500, 502, 503, 504]
    """
    chosen = [code for code in codes if throttled or code != THROTTLED]
    if timeout and TIMED_OUT not in chosen:
        chosen.append(TIMED_OUT)
    return chosen


def check_request_timeout(milliseconds: object) -> int | None:
    """A gateway ``request_timeout``: whole milliseconds, 1 or more (None: no timeout).

    >>> check_request_timeout(30000), check_request_timeout(None)
    (30000, None)
    >>> check_request_timeout(0.5)
    Traceback (most recent call last):
    ...
    runtime.errors.ConfigError: request_timeout is in whole milliseconds (1 or more), got 0.5; e.g. 30000 for 30 s
    """
    if milliseconds is None:
        return None
    if isinstance(milliseconds, bool) or not isinstance(milliseconds, int) or milliseconds < 1:
        from runtime.errors import ConfigError

        raise ConfigError(
            f"request_timeout is in whole milliseconds (1 or more), got {milliseconds!r}; e.g. 30000 for 30 s"
        )
    return milliseconds


DEFAULT_CHAIN_RETRY_CODES = tuple(retry_codes(DEFAULT_RETRY_STATUS_CODES, timeout=False, throttled=False))
