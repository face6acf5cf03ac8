"""How SOPS turns one scalar into bytes and back, and its ``ENC[...]`` value syntax.

Go sops (aes/cipher.go, sops.go ``ToBytes``) formats ints in decimal, floats with
``strconv.FormatFloat(v, 'f', -1, 64)`` (shortest round-trip digits, never an exponent) and
booleans as ``True``/``False``. The same bytes feed the MAC and the AES-GCM plaintext.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from runtime.sops.errors import SopsFormatError

Scalar = str | int | float | bool

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

# Each field stops at the next ',' (base64 and type names never hold one), so matching is linear in
# the input. Go sops' own pattern uses `(.+)` per field, harmless under RE2 but cubic backtracking
# under Python's `re` (a 28 KB crafted value took minutes).
_ENC = re.compile(r"^ENC\[AES256_GCM,data:([^,]+),iv:([^,]+),tag:([^,]+),type:([^,\]]+)\]")
_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_BOOLS = {
    **dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
    **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False),
}


def normalize_number(value: int) -> int | float:
    """Go's JSON store keeps integers that fit int64 and turns larger ones into float64.

    >>> normalize_number(7)
    7
    >>> normalize_number(2**63)
    9.223372036854776e+18
    """
    if INT64_MIN <= value <= INT64_MAX:
        return value
    return float(value)


def format_float(value: float) -> str:
    """``strconv.FormatFloat(value, 'f', -1, 64)``: shortest digits, fixed notation.

    >>> [format_float(v) for v in (1.0, 0.5, -0.0, 1e21, 1.5e-07, 1234.56789)]
    ['1', '0.5', '-0', '1000000000000000000000', '0.00000015', '1234.56789']
    """
    if not math.isfinite(value):
        raise SopsFormatError(f"cannot store the non-finite number {value!r}; use a finite number or a string")
    return format(Decimal(repr(value)).normalize(), "f")


def to_bytes(value: Scalar) -> bytes:
    """The bytes SOPS encrypts and hashes into the MAC for one scalar.

    >>> [to_bytes(v) for v in ("bar", 42, 2.50, True, False, "")]
    [b'bar', b'42', b'2.5', b'True', b'False', b'']
    """
    if isinstance(value, bool):
        return b"True" if value else b"False"
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, int):
        value = normalize_number(value)
        if isinstance(value, int):
            return str(value).encode()
    if isinstance(value, float):
        return format_float(value).encode()
    raise SopsFormatError(f"cannot encrypt a value of type {type(value).__name__}; use str, int, float or bool")


def type_tag(value: Scalar) -> str:
    """The ``type:`` tag of an encrypted scalar.

    >>> [type_tag(v) for v in ("a", 1, 1.0, False, 2**64)]
    ['str', 'int', 'float', 'bool', 'float']
    """
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "str"
    if isinstance(value, int):
        return "int" if isinstance(normalize_number(value), int) else "float"
    if isinstance(value, float):
        return "float"
    raise SopsFormatError(f"cannot encrypt a value of type {type(value).__name__}; use str, int, float or bool")


def from_bytes(raw: bytes, tag: str, where: str) -> Scalar:
    """Parse decrypted bytes back into a value the way Go sops does for ``tag``.

    >>> [from_bytes(b, t, "k") for b, t in ((b"bar", "str"), (b"-3", "int"), (b"1", "float"), (b"True", "bool"))]
    ['bar', -3, 1.0, True]
    """
    try:
        text = raw.decode()
    except UnicodeDecodeError as exc:
        raise SopsFormatError(f"value at {where!r} is not UTF-8 after decryption; the file is corrupt") from exc
    if tag == "str":
        return text
    if tag == "int" and _INT.fullmatch(text):
        return int(text)
    if tag == "float" and _FLOAT.fullmatch(text):
        return float(text)
    if tag == "bool" and text in _BOOLS:
        return _BOOLS[text]
    if tag in ("str", "int", "float", "bool"):
        raise SopsFormatError(f"value at {where!r} is not a valid {tag}; the file is corrupt")
    raise SopsFormatError(f"value at {where!r} has unknown type:{tag}; JSON SOPS files use str, int, float or bool")


@dataclass(frozen=True)
class EncryptedValue:
    """The parts of one ``ENC[AES256_GCM,data:...,iv:...,tag:...,type:...]`` string."""

    data: bytes
    iv: bytes
    tag: bytes
    type: str

    def format(self) -> str:
        """The SOPS string form.

        >>> EncryptedValue(b"ab", b"\\x00" * 32, b"\\x01" * 16, "str").format()[:40]
        'ENC[AES256_GCM,data:YWI=,iv:AAAAAAAAAAAA'
        """
        return f"ENC[AES256_GCM,data:{_b64(self.data)},iv:{_b64(self.iv)},tag:{_b64(self.tag)},type:{self.type}]"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def is_encrypted(value: object) -> bool:
    """Whether ``value`` is an ``ENC[AES256_GCM,...]`` string.

    >>> is_encrypted("ENC[AES256_GCM,data:YWI=,iv:AA==,tag:AA==,type:str]"), is_encrypted("plain")
    (True, False)
    """
    return isinstance(value, str) and _ENC.match(value) is not None


def parse_encrypted(value: str, where: str) -> EncryptedValue:
    """Split an ``ENC[...]`` string; anything else is not SOPS ciphertext.

    >>> parse_encrypted("ENC[AES256_GCM,data:YWI=,iv:AA==,tag:AA==,type:int]", "k").type
    'int'
    """
    match = _ENC.match(value)
    if match is None:
        raise SopsFormatError(
            f"value at {where!r} is not SOPS ciphertext (plaintext in an encrypted file?); "
            "re-encrypt the file instead of editing it by hand"
        )
    try:
        data, iv, tag = (base64.b64decode(match.group(i), validate=True) for i in (1, 2, 3))
    except (binascii.Error, ValueError) as exc:
        raise SopsFormatError(f"value at {where!r} has bad base64 in its ENC[...] fields") from exc
    return EncryptedValue(data, iv, tag, match.group(4))


def rfc3339(moment: datetime) -> str:
    """Go's ``time.Format(time.RFC3339)``: whole seconds, ``Z`` for a zero offset.

    >>> from datetime import timedelta, timezone
    >>> rfc3339(datetime(2026, 5, 22, 20, 16, 18, 500, tzinfo=UTC))
    '2026-05-22T20:16:18Z'
    >>> rfc3339(datetime(2026, 5, 22, 22, 16, 18, tzinfo=timezone(timedelta(hours=2))))
    '2026-05-22T22:16:18+02:00'
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    offset = moment.utcoffset()
    base = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if not offset:
        return base + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{base}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def parse_rfc3339(text: object, field: str) -> datetime:
    """Parse a metadata timestamp (``lastmodified``, ``created_at``).

    >>> rfc3339(parse_rfc3339("2026-05-22T20:16:18Z", "lastmodified"))
    '2026-05-22T20:16:18Z'
    """
    if not isinstance(text, str):
        raise SopsFormatError(f"sops.{field} must be an RFC 3339 timestamp string; the file is corrupt")
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError as exc:
        raise SopsFormatError(f"sops.{field} {text!r} is not an RFC 3339 timestamp; the file is corrupt") from exc
    if moment.tzinfo is None:
        raise SopsFormatError(f"sops.{field} {text!r} has no time zone; the file is corrupt")
    return moment


def env_string(value: Scalar) -> str:
    """A scalar as sops' ``stores.ValToString`` renders it for dotenv and ``exec-env``.

    Floats use ``FormatFloat(v, 'G', -1, 64)`` (exponent past 6 digits) and keep one decimal.

    >>> [env_string(v) for v in ("x", 3, True, 5.0, 0.25, 1234567.0, 1e-5)]
    ['x', '3', 'true', '5.0', '0.25', '1.234567E+06', '1E-05']
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise SopsFormatError(f"cannot render the non-finite number {value!r}")
    sign, digit_tuple, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple))
    point = exponent + len(digits)  # position of the decimal point in `digits`
    exp10 = point - 1
    prefix = "-" if sign else ""
    if value != 0 and (exp10 < -4 or exp10 >= 6):
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{prefix}{mantissa}E{'+' if exp10 >= 0 else '-'}{abs(exp10):02d}"
    text = format_float(value)
    return text if "." in text else f"{text}.0"
