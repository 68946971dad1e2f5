"""Log lines: nothing a request brings in can break a record's line or start a new one."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from vidugate import logs

HOSTILE = "a\nFORGED line\r\x00\x1b[2J\x7f\x85\x9b\u2028\u2029\t\v\f\x1c|"
ESCAPED = "a\\nFORGED line\\r\\x00\\x1b[2J\\x7f\\x85\\x9b\\u2028\\u2029\\t\\x0b\\x0c\\x1c|"


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The gateway's own log set-up, writing into a buffer."""
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    logs.configure("info")
    yield stream
    logging.getLogger("vidugate").handlers.clear()


def _lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().split("\n")[:-1]


def test_a_value_cannot_start_a_line_of_its_own(captured: io.StringIO) -> None:
    logging.getLogger("vidugate.callbacks").info("callback.unknown_task upstream_id=%s", HOSTILE)
    (line,) = _lines(captured)
    assert line.endswith(f"upstream_id={ESCAPED}")
    assert line.isprintable()


def test_a_traceback_stays_indented_under_its_record(captured: io.StringIO) -> None:
    try:
        raise ValueError(f"bad id {HOSTILE}")
    except ValueError:
        logging.getLogger("vidugate.worker").exception("worker.loop_error id=%s", HOSTILE)
    first, *rest = _lines(captured)
    assert "worker.loop_error id=a\\nFORGED" in first
    assert rest[0] == "    Traceback (most recent call last):"
    assert any(line.startswith("    ValueError: bad id a") for line in rest)
    # The message's line break stays a line break of the traceback, indented like the rest.
    assert "    " + ESCAPED.split("\\n", 1)[1] in rest
    assert all(line.startswith("    ") and line.isprintable() for line in rest)


def test_uvicorns_records_get_their_values_escaped(captured: io.StringIO) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    access = logging.getLogger("uvicorn.access")
    level = access.level
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:1", "GET", "/x\nFORGED", "1.1", 404)
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
    assert stream.getvalue() == '127.0.0.1:1 - "GET /x\\nFORGED HTTP/1.1" 404\n'
