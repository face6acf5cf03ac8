"""Verify an incoming SigV4 `Authorization` header by recomputing it with botocore.

The Portkey gateway (the version package.json pins, `@smithy/signature-v4`) signs the ``host``
header as the URL's hostname *without the port* while its HTTP client sends ``Host: 127.0.0.1:PORT``; botocore and
the AWS SDKs sign ``host:port`` when the port is not the scheme default. Real AWS endpoints never
see a port, so both agree there. Locally we therefore try the port-less host first (what the
gateway signed), then the Host header as sent, and record which one matched.

The canonical URI is double-encoded (``%3A`` in the path becomes ``%253A``), as botocore and
smithy both do for every service except S3; botocore's `SigV4Auth.canonical_request` does that
for us when given the raw request path.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from local.bedrock_double.errors import BAD_SIGNATURE, EXPIRED_TOKEN, INVALID_TOKEN, BedrockError
from local.bedrock_double.stores import KeyRecord, KeyStore

MAX_SKEW = timedelta(minutes=5)
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})\s*$"
)


@dataclass(frozen=True)
class Authorization:
    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


@dataclass(frozen=True)
class Caller:
    """Who sent a correctly signed request."""

    access_key_id: str
    key: KeyRecord
    region: str
    signed_host: str  # the host value that verified: "127.0.0.1" (port-less) or "127.0.0.1:PORT"


def parse_authorization(value: str) -> Authorization:
    """Split an `Authorization` header; a malformed one is an IncompleteSignatureException.

    >>> a = parse_authorization("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/bedrock/aws4_request, "
    ...                         "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64)
    >>> a.access_key_id, a.region, a.service, a.signed_headers
    ('AKID', 'us-east-1', 'bedrock', ('host', 'x-amz-date'))
    """
    match = _AUTH.match(value.strip())
    parts = match.group("credential").split("/") if match else []
    if not match or len(parts) != 5 or parts[4] != "aws4_request":
        raise BedrockError(
            403,
            "IncompleteSignatureException",
            "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.",
        )
    return Authorization(
        access_key_id=parts[0],
        date=parts[1],
        region=parts[2],
        service=parts[3],
        signed_headers=tuple(match.group("signed").lower().split(";")),
        signature=match.group("signature"),
    )


def host_candidates(host: str) -> list[str]:
    """Host values to try: without the port first (the gateway's quirk), then as sent.

    >>> host_candidates("127.0.0.1:8080"), host_candidates("localhost"), host_candidates("[::1]:9")
    (['127.0.0.1', '127.0.0.1:8080'], ['localhost'], ['[::1]', '[::1]:9'])
    """
    bare = re.sub(r":\d+$", "", host)
    return [bare, host] if bare != host else [host]


def _header_values(headers: Sequence[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in headers if key.lower() == name]


def check_session_token(key: KeyRecord, tokens: Sequence[str], signed: Sequence[str], now: datetime) -> None:
    """An STS session key needs its own token, signed, and unexpired; a long-term key takes none.

    >>> from datetime import UTC, datetime
    >>> key = KeyRecord("r", "arn:aws:iam::1:role/r", "s", True, "tok", datetime(2026, 1, 1, tzinfo=UTC))
    >>> check_session_token(key, ["tok"], ["x-amz-security-token"], datetime(2025, 12, 31, tzinfo=UTC))
    >>> try:
    ...     check_session_token(key, ["tok"], ["x-amz-security-token"], datetime(2026, 1, 1, tzinfo=UTC))
    ... except BedrockError as err:
    ...     print(err.status, err.error_type)
    403 ExpiredTokenException
    """
    if key.session_token is None:
        if tokens:
            raise BedrockError(403, "UnrecognizedClientException", INVALID_TOKEN)
        return
    if not tokens or not hmac.compare_digest(tokens[0], key.session_token) or "x-amz-security-token" not in signed:
        raise BedrockError(403, "UnrecognizedClientException", INVALID_TOKEN)
    if key.expires is not None and now >= key.expires:
        raise BedrockError(403, "ExpiredTokenException", EXPIRED_TOKEN)


def compute_signature(
    *,
    method: str,
    path: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    auth: Authorization,
    amz_date: str,
    secret: str,
) -> str:
    """The SigV4 signature botocore computes for exactly the signed headers given."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    signed = [(k.lower(), v) for k, v in headers if k.lower() in auth.signed_headers]
    host = next((v for k, v in signed if k == "host"), "localhost")
    request = AWSRequest(method=method, url=f"https://{host}{path}", data=body)
    for key, value in signed:
        request.headers.add_header(key, value)
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(auth.access_key_id, secret), auth.service, auth.region)
    canonical = signer.canonical_request(request)
    return str(signer.signature(signer.string_to_sign(request, canonical), request))


def verify(
    *,
    method: str,
    path: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    key_store: KeyStore,
    service: str = "bedrock",
    now: datetime | None = None,
) -> Caller:
    """Check a request's SigV4 signature; raise `BedrockError` (403) the way AWS answers.

    `path` is the raw request target (percent-encoding as sent, query included).
    """
    values = _header_values(headers, "authorization")
    if not values:
        raise BedrockError(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
    auth = parse_authorization(values[0])
    if auth.service != service:
        raise BedrockError(
            403, "InvalidSignatureException", f"Credential should be scoped to correct service: '{service}'."
        )
    key = key_store.secret_for(auth.access_key_id)
    if key is None or not key.active:
        raise BedrockError(403, "UnrecognizedClientException", INVALID_TOKEN)
    now = now or datetime.now(UTC)
    check_session_token(key, _header_values(headers, "x-amz-security-token"), auth.signed_headers, now)
    amz_date = next(iter(_header_values(headers, "x-amz-date")), "")
    try:
        signed_at = datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=UTC)
    except ValueError:
        raise BedrockError(
            403,
            "IncompleteSignatureException",
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        ) from None
    if signed_at < now - MAX_SKEW:
        limit = (now - MAX_SKEW).strftime(_AMZ_DATE)
        raise BedrockError(
            403,
            "InvalidSignatureException",
            f"Signature expired: {amz_date} is now earlier than {limit} ({now.strftime(_AMZ_DATE)} - 5 min.)",
        )
    if signed_at > now + MAX_SKEW:
        limit = (now + MAX_SKEW).strftime(_AMZ_DATE)
        raise BedrockError(
            403,
            "InvalidSignatureException",
            f"Signature not yet current: {amz_date} is still later than {limit} ({now.strftime(_AMZ_DATE)} + 5 min.)",
        )
    if auth.date != amz_date[:8] or "host" not in auth.signed_headers:
        raise BedrockError(403, "InvalidSignatureException", BAD_SIGNATURE)
    # botocore trusts a present x-amz-content-sha256 header as the body hash: check it ourselves.
    claimed = _header_values(headers, "x-amz-content-sha256")
    if claimed and claimed[0] != hashlib.sha256(body).hexdigest():
        raise BedrockError(403, "InvalidSignatureException", BAD_SIGNATURE)
    sent_host = next(iter(_header_values(headers, "host")), "")
    for host in host_candidates(sent_host):
        candidate = [(k, host if k.lower() == "host" else v) for k, v in headers]
        expected = compute_signature(
            method=method, path=path, headers=candidate, body=body, auth=auth, amz_date=amz_date, secret=key.secret
        )
        if hmac.compare_digest(expected, auth.signature):
            return Caller(auth.access_key_id, key, auth.region, host)
    raise BedrockError(403, "InvalidSignatureException", BAD_SIGNATURE)
