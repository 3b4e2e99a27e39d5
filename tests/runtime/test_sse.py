"""The push channel's reader: server-sent event framing and the contract's typed events."""

from __future__ import annotations

from jupyter_aml.runtime.sse import SSEMessage, parse_event, parse_sse


def lines(text: str) -> list[bytes]:
    return [line.encode() for line in text.splitlines(keepends=True)]


def test_frames_comments_fields_and_multiline_data() -> None:
    stream = lines(
        ": connected\n\n"
        "data: {\"type\": \"log\",\n"
        "data:  \"run_id\": \"r\", \"lines\": []}\n\n"
        ": keep-alive\n\n"
        "event: custom\r\nid: 7\r\ndata:x\r\n\r\n"
        "data: unterminated"
    )
    assert list(parse_sse(iter(stream))) == [
        SSEMessage('{"type": "log",\n "run_id": "r", "lines": []}'),
        SSEMessage("x", "custom", "7"),
    ]


def test_only_known_events_are_typed() -> None:
    assert parse_event('{"type": "run", "run": {"id": "r"}}') == {"type": "run", "run": {"id": "r"}}
    assert parse_event(b'{"type": "metric", "run_id": "r", "name": "m", "total": 1, "steps": [0.0],'
                       b' "values": [1.0], "times": [1.0]}')["type"] == "metric"  # type: ignore[index]
    for junk in ("not json", "[1, 2]", '{"type": "reconnect"}', '{"no": "type"}'):
        assert parse_event(junk) is None
