"""The one owner of masking secrets: in a line of text (:func:`redact`, every CLI error line of
``python -m runtime`` passes through it), in headers (:func:`redact_headers`), in a gateway config
(:func:`redact_config`) and the short form of an access key id (:func:`mask_key_id`).

Stdlib only and cheap to import (the patterns are compiled on first use). :func:`redact` masks,
wherever they appear in a message:

- age identities (``AGE-SECRET-KEY-1`` + Bech32), pasted by mistake where a recipient belongs;
- AWS secret access keys: a 40-character base64 word next to an access key id or a
  ``secret``/``aws_secret_access_key`` label (a bare 40-character word alone is too often a
  hash or a path to be masked blindly);
- short- and long-term Bedrock API keys (``bedrock-api-key-…`` and ``ABSK…``);
- AWS session tokens (``IQoJb3JpZ2luX2Vj…`` / ``FwoGZXIvYXdzE…``, the encoded ``origin_ec`` prefix).

Access key ids are not secrets on their own; they are shortened the way
:func:`mask_key_id` does, so a line still tells which key it is about.
"""

from __future__ import annotations

from runtime.constants import REDACTED, SECRET_HEADERS

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from collections.abc import Mapping
    from typing import Any

# A secret key: exactly 40 base64 characters, not part of a longer word.
_BASE64_40 = r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{40}(?![A-Za-z0-9+/=])"
# (age identity, Bedrock API key, session token, labelled secret, secret next to a key id, key id)
_patterns: tuple[re.Pattern[str], ...] | None = None
# config keys whose values are secrets (each target of a fallback chain carries its own copy)
SECRET_CONFIG_KEYS = frozenset({"aws_secret_access_key", "aws_session_token", "api_key"})


def _compiled() -> tuple[re.Pattern[str], ...]:
    global _patterns
    if _patterns is None:
        import re  # on first use only: `import runtime` stays free of re

        _patterns = (
            re.compile(r"AGE-SECRET-KEY-1[0-9A-Za-z]+", re.IGNORECASE),
            re.compile(r"bedrock-api-key-[A-Za-z0-9+/=%_.-]+|\bABSK[A-Za-z0-9+/=]{20,}"),
            re.compile(r"\b(?:IQoJb3JpZ2lu|FwoGZXIvYXdz)[A-Za-z0-9+/=]{20,}"),
            re.compile(r"((?:aws_?)?secret(?:_?access)?(?:_?key)?['\"]?\s*[:=]\s*['\"]?)" + _BASE64_40, re.IGNORECASE),
            re.compile(
                r"((?:AKIA|ASIA)[A-Z0-9]{16}['\"]?[\s,:;=/|'\"._-]{1,12})"
                + _BASE64_40
                + r"|"
                + _BASE64_40
                + r"(?=['\"]?[\s,:;=/|'\"._-]{1,12}(?:AKIA|ASIA)[A-Z0-9]{16})"
            ),
            re.compile(r"\b((?:AKIA|ASIA)[A-Z0-9]{16})\b"),
        )
    return _patterns


def mask_key_id(access_key_id: str) -> str:
    """Show only the first and last four characters of an access key id.

    >>> mask_key_id("AKIAIOSFODNN7EXAMPLE")
    'AKIA…MPLE'
    >>> mask_key_id("short")
    '…'
    """
    if len(access_key_id) < 12:
        return "…"
    return f"{access_key_id[:4]}…{access_key_id[-4:]}"


def redact(text: str) -> str:
    """``text`` with every secret-looking token masked.

    >>> redact("not a recipient: 'AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ'")
    "not a recipient: '<redacted>'"
    >>> redact("AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY rejected")
    'AKIA…MPLE <redacted> rejected'
    >>> redact("token bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29tLz9BY3Rpb249 expired")
    'token <redacted> expired'
    >>> redact("region us-east-1 has no profile; a 40-char sha: 0123456789abcdef0123456789abcdef01234567")
    'region us-east-1 has no profile; a 40-char sha: 0123456789abcdef0123456789abcdef01234567'
    """
    age, api_key, token, labelled, near_key_id, key_id = _compiled()
    text = age.sub(REDACTED, text)
    text = api_key.sub(REDACTED, text)
    text = token.sub(REDACTED, text)
    text = labelled.sub(lambda m: m.group(1) + REDACTED, text)
    text = near_key_id.sub(lambda m: (m.group(1) or "") + REDACTED, text)
    return key_id.sub(lambda m: mask_key_id(m.group(1)), text)


def is_age_identity(text: str) -> bool:
    """Whether ``text`` is (or contains) a private age identity rather than a public recipient.

    >>> is_age_identity("AGE-SECRET-KEY-1ABC"), is_age_identity("age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2e")
    (True, False)
    """
    return _compiled()[0].search(text) is not None


def is_secret_header(name: str) -> bool:
    """True for a header whose value is never shown or recorded (see ``SECRET_HEADER_WORDS``).

    >>> [is_secret_header(n) for n in ("Authorization", "X-Amz-Security-Token", "x-portkey-aws-region", "Host")]
    [True, True, False, False]
    """
    from runtime.constants import SECRET_HEADER_WORDS

    lowered = name.lower()
    return any(word in lowered for word in SECRET_HEADER_WORDS)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers safe to print: secret values replaced, the access key id masked.

    >>> redact_headers({"x-portkey-aws-secret-access-key": "s3cr3t", "x-portkey-provider": "bedrock"})
    {'x-portkey-aws-secret-access-key': '<redacted>', 'x-portkey-provider': 'bedrock'}
    >>> redact_headers({"x-portkey-aws-access-key-id": "AKIAIOSFODNN7EXAMPLE"})
    {'x-portkey-aws-access-key-id': 'AKIA…MPLE'}
    >>> redact_headers({"x-portkey-aws-session-token": "tok"})
    {'x-portkey-aws-session-token': '<redacted>'}
    """
    shown = {}
    for name, value in headers.items():
        if name.lower() in SECRET_HEADERS:
            shown[name] = REDACTED
        elif name.endswith("access-key-id"):
            shown[name] = mask_key_id(value)
        else:
            shown[name] = value
    return shown


def redact_config(config: Any) -> Any:
    """A copy of a gateway config safe to print: secret values replaced, access key ids masked.

    >>> redact_config({"targets": [{"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "s"}]})
    {'targets': [{'aws_access_key_id': 'AKIA…MPLE', 'aws_secret_access_key': '<redacted>'}]}
    """
    if isinstance(config, list):
        return [redact_config(item) for item in config]
    if not isinstance(config, dict):
        return config
    shown: dict[str, Any] = {}
    for key, value in config.items():
        if key in SECRET_CONFIG_KEYS:
            shown[key] = REDACTED
        elif key == "aws_access_key_id" and isinstance(value, str):
            shown[key] = mask_key_id(value)
        else:
            shown[key] = redact_config(value)
    return shown
