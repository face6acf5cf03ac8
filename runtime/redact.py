"""The one owner of "what looks like a secret in a line of text": every CLI error line of
``python -m runtime`` passes through :func:`redact` before it is printed.

Stdlib only and cheap to import. It masks, wherever they appear in a message:

- age identities (``AGE-SECRET-KEY-1`` + Bech32), pasted by mistake where a recipient belongs;
- AWS secret access keys: a 40-character base64 word next to an access key id or a
  ``secret``/``aws_secret_access_key`` label (a bare 40-character word alone is too often a
  hash or a path to be masked blindly);
- short- and long-term Bedrock API keys (``bedrock-api-key-…`` and ``ABSK…``);
- AWS session tokens (``IQoJb3JpZ2luX2Vj…`` / ``FwoGZXIvYXdzE…``, the encoded ``origin_ec`` prefix).

Access key ids are not secrets on their own; they are shortened the way
:func:`runtime.credentials.mask_key_id` does, so a line still tells which key it is about.
"""

from __future__ import annotations

import re

from runtime.constants import REDACTED

_AGE_IDENTITY = re.compile(r"AGE-SECRET-KEY-1[0-9A-Za-z]+", re.IGNORECASE)
_BEDROCK_API_KEY = re.compile(r"bedrock-api-key-[A-Za-z0-9+/=%_.-]+|\bABSK[A-Za-z0-9+/=]{20,}")
_SESSION_TOKEN = re.compile(r"\b(?:IQoJb3JpZ2lu|FwoGZXIvYXdz)[A-Za-z0-9+/=]{20,}")
_KEY_ID = re.compile(r"\b((?:AKIA|ASIA)[A-Z0-9]{16})\b")
# A secret key: exactly 40 base64 characters, not part of a longer word.
_BASE64_40 = r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{40}(?![A-Za-z0-9+/=])"
_LABELLED_SECRET = re.compile(
    r"((?:aws_?)?secret(?:_?access)?(?:_?key)?['\"]?\s*[:=]\s*['\"]?)" + _BASE64_40, re.IGNORECASE
)
_SECRET_NEAR_KEY_ID = re.compile(
    r"((?:AKIA|ASIA)[A-Z0-9]{16}['\"]?[\s,:;=/|'\"._-]{1,12})" + _BASE64_40 + r"|"
    + _BASE64_40 + r"(?=['\"]?[\s,:;=/|'\"._-]{1,12}(?:AKIA|ASIA)[A-Z0-9]{16})"
)  # fmt: skip


def _mask_key_id(match: re.Match[str]) -> str:
    key_id = match.group(1)
    return f"{key_id[:4]}…{key_id[-4:]}"


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
    text = _AGE_IDENTITY.sub(REDACTED, text)
    text = _BEDROCK_API_KEY.sub(REDACTED, text)
    text = _SESSION_TOKEN.sub(REDACTED, text)
    text = _LABELLED_SECRET.sub(lambda m: m.group(1) + REDACTED, text)
    text = _SECRET_NEAR_KEY_ID.sub(lambda m: (m.group(1) or "") + REDACTED, text)
    return _KEY_ID.sub(_mask_key_id, text)


def is_age_identity(text: str) -> bool:
    """Whether ``text`` is (or contains) a private age identity rather than a public recipient.

    >>> is_age_identity("AGE-SECRET-KEY-1ABC"), is_age_identity("age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2e")
    (True, False)
    """
    return _AGE_IDENTITY.search(text) is not None


def is_secret_header(name: str) -> bool:
    """True for a header whose value is never shown or recorded (see ``SECRET_HEADER_WORDS``).

    >>> [is_secret_header(n) for n in ("Authorization", "X-Amz-Security-Token", "x-portkey-aws-region", "Host")]
    [True, True, False, False]
    """
    from runtime.constants import SECRET_HEADER_WORDS

    lowered = name.lower()
    return any(word in lowered for word in SECRET_HEADER_WORDS)
