"""AWS event-stream binary framing (``application/vnd.amazon.eventstream``), the encoder half.

A message is: total length (u32), headers length (u32), CRC32 of those 8 bytes (u32), the
headers, the payload, and a CRC32 of everything before it (u32), all big-endian. Each header is
name length (u8), name, value type (u8; 7 = string), value length (u16), value.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Mapping
from typing import Any

CONTENT_TYPE = "application/vnd.amazon.eventstream"
_STRING = 7
_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")


def encode_headers(headers: Mapping[str, str]) -> bytes:
    """Encode string-valued headers.

    >>> encode_headers({":event-type": "x"}).hex()
    '0b3a6576656e742d7479706507000178'
    """
    out = bytearray()
    for name, value in headers.items():
        raw_name, raw_value = name.encode("utf-8"), value.encode("utf-8")
        out += struct.pack(">B", len(raw_name)) + raw_name
        out += struct.pack(">BH", _STRING, len(raw_value)) + raw_value
    return bytes(out)


def encode_message(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One framed message with correct prelude and message CRCs.

    >>> message = encode_message({}, b"{}")
    >>> len(message), message[:8].hex()
    (18, '0000001200000000')
    """
    raw_headers = encode_headers(headers)
    total = _PRELUDE.size + _CRC.size + len(raw_headers) + len(payload) + _CRC.size
    prelude = _PRELUDE.pack(total, len(raw_headers))
    head = prelude + _CRC.pack(zlib.crc32(prelude)) + raw_headers + payload
    return head + _CRC.pack(zlib.crc32(head))


def encode_event(event_type: str, payload: Mapping[str, Any]) -> bytes:
    """A Bedrock ConverseStream event: JSON payload, ``:message-type event``."""
    headers = {
        ":event-type": event_type,
        ":content-type": "application/json",
        ":message-type": "event",
    }
    return encode_message(headers, json.dumps(payload, separators=(",", ":")).encode("utf-8"))


def encode_exception(exception_type: str, message: str) -> bytes:
    """A modelled error sent inside the stream, as Bedrock does for mid-stream failures."""
    headers = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return encode_message(headers, json.dumps({"message": message}).encode("utf-8"))
