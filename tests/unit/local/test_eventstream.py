import json

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer

from local.bedrock_double.eventstream import encode_event, encode_exception, encode_headers, encode_message
from local.bedrock_double.reply import PromptCache, chunk_text, converse_reply, stream_events


def decode(data: bytes):
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return list(buffer)


def test_event_decodes_with_botocore():
    [message] = decode(encode_event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "héllo"}}))
    assert message.headers == {
        ":event-type": "contentBlockDelta",
        ":content-type": "application/json",
        ":message-type": "event",
    }
    assert json.loads(message.payload) == {"contentBlockIndex": 0, "delta": {"text": "héllo"}}


def test_exception_message_decodes():
    [message] = decode(encode_exception("throttlingException", "slow down"))
    assert message.headers[":message-type"] == "exception"
    assert message.headers[":exception-type"] == "throttlingException"
    assert json.loads(message.payload) == {"message": "slow down"}


@pytest.mark.parametrize("where", ["prelude", "message"])
def test_wrong_crc_is_rejected_by_botocore(where):
    data = bytearray(encode_event("messageStop", {"stopReason": "end_turn"}))
    index = 8 if where == "prelude" else len(data) - 1
    data[index] ^= 0xFF
    with pytest.raises(ChecksumMismatch):
        decode(bytes(data))


def test_corrupt_payload_is_rejected_by_botocore():
    data = bytearray(encode_event("messageStop", {"stopReason": "end_turn"}))
    data[-6] ^= 0x01  # a payload byte: the message CRC no longer matches
    with pytest.raises(ChecksumMismatch):
        decode(bytes(data))


@pytest.mark.parametrize(
    ("headers", "payload", "hex_prefix"),
    [({}, b"{}", "0000001200000000"), ({":a": "b"}, b"", "0000001700000007")],
)
def test_encode_message_lengths(headers, payload, hex_prefix):
    assert encode_message(headers, payload)[:8].hex() == hex_prefix


def test_encode_headers_example():
    assert encode_headers({":event-type": "x"}).hex() == "0b3a6576656e742d7479706507000178"


def test_stream_events_sequence_and_text():
    body = {"messages": [{"role": "user", "content": [{"text": "tell me a story please"}]}]}
    reply = converse_reply("us.m", body, PromptCache())
    messages = decode(b"".join(stream_events(reply)))
    types = [m.headers[":event-type"] for m in messages]
    assert types[0] == "messageStart"
    assert types[-3:] == ["contentBlockStop", "messageStop", "metadata"]
    deltas = [
        json.loads(m.payload)["delta"]["text"] for m in messages if m.headers[":event-type"] == "contentBlockDelta"
    ]
    assert len(deltas) >= 3
    assert "".join(deltas) == "Hello from us.m: tell me a story please"
    metadata = json.loads(messages[-1].payload)
    assert metadata["usage"] == reply["usage"]
    assert "latencyMs" in metadata["metrics"]
    assert json.loads(messages[-2].payload) == {"stopReason": "end_turn"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Hello from m: a b", ["Hello from ", "m: a ", "b"]), ("one", ["one"]), ("a  b", ["a  b"])],
)
def test_chunk_text(text, expected):
    assert chunk_text(text) == expected
    assert "".join(chunk_text(text)) == text
