"""Short-term Amazon Bedrock API keys, minted locally from IAM credentials.

A short-term key (``bedrock-api-key-…``) is a SigV4 *query* presign of
``POST https://bedrock.amazonaws.com/?Action=CallWithBearerToken`` for one region, valid for at most
12 hours. Sending it instead of the secret access key means a leaked header or gateway log yields a
key that dies within hours and works only for Bedrock, in one region. Minting needs no AWS call; it
uses AWS's own ``aws-bedrock-token-generator`` (extra ``api-keys``), imported on first use only.

Keys are cached per (access key id, fingerprint of secret and session token, region, lifetime) and
reused until :data:`REFRESH_MARGIN_SECONDS` before they expire. A rotated key (a new
``Credentials.from_sops`` value) is a new cache entry, so the next request carries a key minted from
the new secret.
"""

from __future__ import annotations

import _thread
import time

from runtime.catalog.resolve import pick_region
from runtime.constants import DEFAULT_API_KEY_TTL_SECONDS, MAX_API_KEY_TTL_SECONDS
from runtime.credentials.keys import Credentials
from runtime.errors import ConfigError

API_KEY_PREFIX = "bedrock-api-key-"
# A cached key is replaced this long before it expires (or after 4/5 of a shorter lifetime), so a
# request never leaves with a key that expires on its way through the gateway.
REFRESH_MARGIN_SECONDS = 300

# (access key id, secret fingerprint, region, ttl) -> (key, expires_at as time.time())
_CACHE: dict[tuple[str, str, str, int], tuple[str, float]] = {}
_LOCK = _thread.allocate_lock()
_MAX_CACHED = 64  # old rotated-away keys are dropped, not kept forever
# The last answer per (region, ttl): (credentials object, (key, expires_at), renew_at), so a chain
# over several source regions stays on the fast path. Each entry is replaced whole, so a reader in
# another thread sees either the old or the new tuple; Credentials are immutable, so the same
# object means the same secret.
_LAST: dict[tuple[str, int], tuple[Credentials, tuple[str, float], float]] = {}


def _fingerprint(credentials: Credentials) -> str:
    import hashlib

    material = f"{credentials.secret_access_key}\0{credentials.session_token or ''}".encode()
    return hashlib.sha256(material).hexdigest()[:32]


def _margin(ttl_seconds: int) -> float:
    return min(REFRESH_MARGIN_SECONDS, ttl_seconds / 5)


def check_ttl(ttl_seconds: int) -> int:
    """`ttl_seconds` when Bedrock accepts it (1 s to 12 h); else one ConfigError line.

    >>> check_ttl(3600)
    3600
    >>> check_ttl(86400)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    runtime.errors.ConfigError: a short-term Bedrock API key lives 1 to 43200 seconds (12 hours), not 86400; ...
    """
    if (
        isinstance(ttl_seconds, bool)
        or not isinstance(ttl_seconds, int)
        or not 0 < ttl_seconds <= MAX_API_KEY_TTL_SECONDS
    ):
        raise ConfigError(
            f"a short-term Bedrock API key lives 1 to {MAX_API_KEY_TTL_SECONDS} seconds (12 hours), "
            f"not {ttl_seconds!r}; pass ttl_seconds in that range"
        )
    return ttl_seconds


def mint_bedrock_api_key(credentials: Credentials, region: str, ttl_seconds: int) -> str:
    """A fresh short-term key from AWS's ``aws_bedrock_token_generator.provide_token`` (no cache).

    The library takes its credentials from a botocore ``CredentialProvider``; a one-line provider
    returning exactly these credentials keeps it away from the environment and ``~/.aws``.
    """
    try:
        from aws_bedrock_token_generator import provide_token
        from botocore.credentials import CredentialProvider
        from botocore.credentials import Credentials as BotocoreCredentials
    except ImportError:
        raise ConfigError(
            "short-term Bedrock API keys need aws-bedrock-token-generator; "
            "install it with pip install 'portkey-bedrock-access[api-keys]'"
        ) from None
    from datetime import timedelta

    class _These(CredentialProvider):
        METHOD = "portkey-bedrock-access"

        def load(self) -> BotocoreCredentials:
            return BotocoreCredentials(
                credentials.access_key_id, credentials.secret_access_key, credentials.session_token
            )

    return str(provide_token(region=region, aws_credentials_provider=_These(), expiry=timedelta(seconds=ttl_seconds)))


def bedrock_api_key_with_expiry(
    credentials: Credentials, region: str | None = None, ttl_seconds: int = DEFAULT_API_KEY_TTL_SECONDS
) -> tuple[str, float]:
    """:func:`bedrock_api_key` and when it expires (seconds since the epoch, as ``time.time()``)."""
    region = pick_region(region or credentials.region)
    now = time.time()
    # Fast path, one tuple read: the same Credentials object as last time (apps reuse the object
    # Credentials.from_sops caches), same region and lifetime, not yet due for renewal.
    last = _LAST.get((region, ttl_seconds))
    if last is not None and last[0] is credentials and now < last[2]:
        return last[1]
    check_ttl(ttl_seconds)
    cache_key = (credentials.access_key_id, _fingerprint(credentials), region, ttl_seconds)
    with _LOCK:
        cached = _CACHE.get(cache_key)
    if cached is None or now >= cached[1] - _margin(ttl_seconds):
        key = mint_bedrock_api_key(credentials, region, ttl_seconds)
        cached = (key, now + ttl_seconds)  # `now` was taken before signing: never later than the real expiry
        with _LOCK:
            if len(_CACHE) >= _MAX_CACHED:
                _CACHE.clear()
            _CACHE[cache_key] = cached
    if len(_LAST) >= _MAX_CACHED:
        _LAST.clear()
    _LAST[region, ttl_seconds] = (credentials, cached, cached[1] - _margin(ttl_seconds))
    return cached


def bedrock_api_key(
    credentials: Credentials, region: str | None = None, ttl_seconds: int = DEFAULT_API_KEY_TTL_SECONDS
) -> str:
    """A short-term Bedrock API key (``bedrock-api-key-…``) for `region` (else the credentials'
    region, else ``AWS_REGION``…), valid `ttl_seconds` (1 to 43200; default one hour).

    Minted locally, then reused from a cache until five minutes (or a fifth of its lifetime) before
    it expires. Treat it as a secret: it authorizes Bedrock calls for its lifetime.
    """
    return bedrock_api_key_with_expiry(credentials, region, ttl_seconds)[0]


def clear_cache() -> None:
    """Forget every cached key (tests; or after revoking a key's IAM credentials)."""
    with _LOCK:
        _CACHE.clear()
        _LAST.clear()


def decode_api_key(key: str) -> str:
    """The presigned URL inside a short-term key (``bedrock.amazonaws.com/?Action=…&Version=1``);
    a value that is not one raises ConfigError without repeating it.

    >>> decode_api_key("bedrock-api-key-" + "YmVkcm9jay5hbWF6b25hd3MuY29tLz9BY3Rpb249Q2FsbFdpdGhCZWFyZXJUb2tlbg==")
    'bedrock.amazonaws.com/?Action=CallWithBearerToken'
    """
    import base64
    import binascii

    if not key.startswith(API_KEY_PREFIX):
        raise ConfigError(
            f"not a short-term Bedrock API key (no {API_KEY_PREFIX} prefix); mint one with bedrock_api_key()"
        )
    try:
        return base64.b64decode(key[len(API_KEY_PREFIX) :], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ConfigError(
            "the short-term Bedrock API key is not valid base64; mint a new one with bedrock_api_key()"
        ) from None
