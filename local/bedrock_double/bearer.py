"""Verify a short-term Bedrock API key sent as ``Authorization: Bearer bedrock-api-key-…``.

The key is ``"bedrock-api-key-"`` + base64 of a SigV4 *query* presign (service ``bedrock``) of
``POST https://bedrock.amazonaws.com/?Action=CallWithBearerToken`` without its ``https://``, plus
``&Version=1``. The signature is recomputed here from the SigV4 specification (hashlib/hmac, not
the token generator) with the secret the key store holds for the presign's access key id, so a
key minted from a rotated-away (deleted or inactive) IAM key, a tampered key, an expired key or a
key for another region is refused.

Bedrock's exact reply texts for bearer keys are not published; the double answers 403 with the
error types Bedrock uses for SigV4 callers: UnrecognizedClientException for a key it cannot tie to
an active IAM key, InvalidSignatureException for a wrong region, AccessDeniedException for an
expired key or a missing ``bedrock:CallWithBearerToken`` permission.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote

from local.bedrock_double.errors import INVALID_TOKEN, BedrockError
from local.bedrock_double.sigv4 import Caller, check_session_token
from local.bedrock_double.stores import KeyStore, PolicyStore

PREFIX = "bedrock-api-key-"
TOKEN_HOST = "bedrock.amazonaws.com"  # noqa: S105 - a host name
VERSION_SUFFIX = "&Version=1"
ACTION = "CallWithBearerToken"
MAX_EXPIRES = 43200
MAX_SKEW = timedelta(minutes=5)
EXPIRED = "Bearer Token has expired"
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_ENDPOINT = re.compile(r"^bedrock-runtime(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?::\d+)?$")


def _unrecognized() -> BedrockError:
    return BedrockError(403, "UnrecognizedClientException", INVALID_TOKEN)


def endpoint_region(host: str) -> str | None:
    """The region of a Bedrock runtime endpoint host; None for any other host (the loopback double).

    >>> endpoint_region("bedrock-runtime.eu-west-1.amazonaws.com"), endpoint_region("127.0.0.1:9000")
    ('eu-west-1', None)
    """
    match = _ENDPOINT.match(host.lower())
    return match["region"] if match else None


def decode(token: str) -> dict[str, str]:
    """The presign's query parameters; anything that is not a well-formed key is 403 UnrecognizedClient.

    >>> decode("bedrock-api-key-bm90IGEga2V5")
    Traceback (most recent call last):
    ...
    local.bedrock_double.errors.BedrockError: The security token included in the request is invalid.
    """
    if not token.startswith(PREFIX):
        raise _unrecognized()
    try:
        url = base64.b64decode(token[len(PREFIX) :], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _unrecognized() from None
    head = f"{TOKEN_HOST}/?"
    if not url.startswith(head) or not url.endswith(VERSION_SUFFIX):
        raise _unrecognized()
    pairs = parse_qsl(url[len(head) : -len(VERSION_SUFFIX)], keep_blank_values=True, strict_parsing=True)
    params = dict(pairs)
    if len(params) != len(pairs):
        raise _unrecognized()  # a repeated parameter
    return params


def canonical_query(params: dict[str, str]) -> str:
    """SigV4's canonical query string: every parameter but the signature, RFC 3986-encoded, sorted.

    >>> canonical_query({"b": "x y", "a": "1/2", "X-Amz-Signature": "s"})
    'a=1%2F2&b=x%20y'
    """
    encoded = sorted(
        (quote(name, safe="-_.~"), quote(value, safe="-_.~"))
        for name, value in params.items()
        if name != "X-Amz-Signature"
    )
    return "&".join(f"{name}={value}" for name, value in encoded)


def presign_signature(params: dict[str, str], secret: str, date: str, region: str, service: str) -> str:
    """The SigV4 query-presign signature of ``POST https://bedrock.amazonaws.com/?<params>``."""
    # the presigned request has an empty body whose hash is signed (UNSIGNED-PAYLOAD is S3's rule)
    empty_body = hashlib.sha256(b"").hexdigest()
    canonical = "\n".join(["POST", "/", canonical_query(params), f"host:{TOKEN_HOST}", "", "host", empty_body])
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", params["X-Amz-Date"], scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def verify_bearer(
    authorization: str,
    *,
    key_store: KeyStore,
    endpoint: str | None = None,
    now: datetime | None = None,
) -> Caller:
    """The caller behind ``Bearer <short-term key>``; 403 (see the module docstring) otherwise.

    `endpoint` is the region the request was sent to, when known (the Host of a real Bedrock
    endpoint, or the double's configured region); a key for another region is refused.
    """
    scheme, _, token = authorization.strip().partition(" ")
    if scheme != "Bearer" or not token:
        raise _unrecognized()
    params = decode(token.strip())
    credential = params.get("X-Amz-Credential", "").split("/")
    expires = params.get("X-Amz-Expires", "")
    if (
        params.get("Action") != ACTION
        or params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256"
        or params.get("X-Amz-SignedHeaders") != "host"
        or len(credential) != 5
        or credential[3] != "bedrock"
        or credential[4] != "aws4_request"
        or not expires.isdigit()
        or not 0 < int(expires) <= MAX_EXPIRES
        or not re.fullmatch(r"[0-9a-f]{64}", params.get("X-Amz-Signature", ""))
    ):
        raise _unrecognized()
    access_key_id, date, region, service, _ = credential
    try:
        signed_at = datetime.strptime(params.get("X-Amz-Date", ""), _AMZ_DATE).replace(tzinfo=UTC)
    except ValueError:
        raise _unrecognized() from None
    if date != params["X-Amz-Date"][:8]:
        raise _unrecognized()
    key = key_store.secret_for(access_key_id)
    if key is None or not key.active:
        raise _unrecognized()  # a rotated-away (deleted or deactivated) IAM key
    expected = presign_signature(params, key.secret, date, region, service)
    if not hmac.compare_digest(expected, params["X-Amz-Signature"]):
        raise _unrecognized()
    now = now or datetime.now(UTC)
    # a key minted from a role session carries its token in the (signed) query: the same rules as SigV4
    token_param = params.get("X-Amz-Security-Token")
    check_session_token(key, [token_param] if token_param else [], ["x-amz-security-token"], now)
    if signed_at > now + MAX_SKEW:
        raise _unrecognized()
    if now >= signed_at + timedelta(seconds=int(expires)):
        raise BedrockError(403, "AccessDeniedException", EXPIRED)
    if endpoint is not None and endpoint != region:
        raise BedrockError(
            403,
            "InvalidSignatureException",
            f"Credential should be scoped to a valid region. "
            f"The API key is for {region}, the request went to {endpoint}.",
        )
    return Caller(access_key_id, key, region, TOKEN_HOST)


BEARER_ACTION = "bedrock:CallWithBearerToken"
TOKEN_TYPE_KEY = "bedrock:bearerTokenType"  # noqa: S105 - a condition key
SHORT_TERM = "SHORT_TERM"


def authorize_bearer(caller: Caller, policy_store: PolicyStore) -> None:
    """403 AccessDeniedException unless the caller's identity policies allow
    ``bedrock:CallWithBearerToken`` for a SHORT_TERM token (the model grants are checked after)."""
    from local.bedrock_double import iam

    documents = policy_store.documents_for(caller.key.user_arn)
    result = iam.evaluate(documents, BEARER_ACTION, "*", {TOKEN_TYPE_KEY: SHORT_TERM})
    if not result.allowed:
        why = (
            "with an explicit deny in an identity-based policy"
            if result.decision is iam.Decision.EXPLICIT_DENY
            else f"because no identity-based policy allows the {BEARER_ACTION} action"
        )
        raise BedrockError(
            403,
            "AccessDeniedException",
            f"User: {caller.key.caller_arn} is not authorized to perform: {BEARER_ACTION} {why}",
        )
