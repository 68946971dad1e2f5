"""Log lines: one JSON object a line off a terminal, `event key=value` lines on one, and in
either nothing a request brings in can break a record's line or start a new one. One event
per request and per task change, with the ids an operator follows a task by; never a key."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest

from gatewaylib import Gateway, wait_final
from loglib import events
from vidugate import logs
from waiting import wait_until

HOSTILE = "a\nFORGED line\r\x00\x1b[2J\x7f\x85\x9b\u2028\u2029\t\v\f\x1c|"
ESCAPED = "a\\nFORGED line\\r\\x00\\x1b[2J\\x7f\\x85\\x9b\\u2028\\u2029\\t\\x0b\\x0c\\x1c|"


# The loggers logs.configure sets up, and what of each it changes.
CONFIGURED = ("vidugate", "uvicorn", "uvicorn.error", "asyncio")


@contextlib.contextmanager
def _configured(fmt: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The gateway's own log set-up writing into a buffer; the loggers as they were after
    (a served gateway of the session writes its file through them)."""
    saved = [
        (logger, list(logger.handlers), logger.propagate, logger.level)
        for logger in map(logging.getLogger, CONFIGURED)
    ]
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    logs.configure("info", fmt)
    try:
        yield stream
    finally:
        for logger, handlers, propagate, level in saved:
            logger.handlers[:] = handlers
            logger.propagate = propagate
            logger.setLevel(level)


@pytest.fixture(params=["json", "console"])
def captured(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[io.StringIO]:
    """The gateway's own log set-up, in each format, writing into a buffer."""
    with _configured(request.param, monkeypatch) as stream:
        yield stream


def _lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().split("\n")[:-1]


def _is_json(stream: io.StringIO) -> bool:
    return stream.getvalue().startswith("{")


def test_a_value_cannot_start_a_line_of_its_own(captured: io.StringIO) -> None:
    logs.get_logger("vidugate.callbacks").info("callback.unknown_task", upstream_id=HOSTILE)
    (line,) = _lines(captured)
    assert line.isprintable()
    if _is_json(captured):
        record = json.loads(line)
        assert (record["event"], record["upstream_id"]) == ("callback.unknown_task", HOSTILE)
        assert line.isascii()
    else:
        assert line.endswith(f'callback.unknown_task upstream_id="{ESCAPED}"')


def test_the_console_writes_a_plain_value_as_it_is_and_quotes_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with _configured("console", monkeypatch) as stream:
        logs.get_logger("vidugate.x").info("upstream.credits", account="poor", reason="no credit")
    assert stream.getvalue().endswith(' upstream.credits account=poor reason="no credit"\n')


def test_a_traceback_stays_with_its_record(captured: io.StringIO) -> None:
    try:
        raise ValueError(f"bad id {HOSTILE}")
    except ValueError:
        logs.get_logger("vidugate.worker").exception("worker.loop_error", id=HOSTILE)
    first, *rest = _lines(captured)
    if _is_json(captured):
        assert rest == []
        record = json.loads(first)
        assert record["exception"].startswith("Traceback (most recent call last):")
        assert f"ValueError: bad id {HOSTILE}" in record["exception"]
        return
    assert "worker.loop_error id=" in first
    assert rest[0] == "    Traceback (most recent call last):"
    assert any(line.startswith("    ValueError: bad id a") for line in rest)
    # The message's line break stays a line break of the traceback, indented like the rest.
    assert "    " + ESCAPED.split("\\n", 1)[1] in rest
    assert all(line.startswith("    ") and line.isprintable() for line in rest)


def test_uvicorns_records_are_written_as_the_gateways(captured: io.StringIO) -> None:
    logging.getLogger("uvicorn.error").info("Invalid HTTP request received: %s", "/x\nFORGED")
    (line,) = _lines(captured)
    assert line.isprintable()
    if _is_json(captured):
        record = json.loads(line)
        assert record["logger"] == "uvicorn.error"
        assert record["event"] == "Invalid HTTP request received: /x\nFORGED"
    else:
        expected = "uvicorn.error request_id=- Invalid HTTP request received: /x\\nFORGED"
        assert line.endswith(expected)


def test_an_event_below_the_level_is_not_built_and_one_at_it_is_written(
    captured: io.StringIO,
) -> None:
    """The level is asked before the event is made (logs.Logger): at warning, an info or
    debug event never enters the processors (structlog's filter_by_level would drop it only
    after building it, by an exception, on every request)."""
    logging.getLogger("vidugate").setLevel(logging.WARNING)
    log = logs.get_logger("vidugate.test")
    entered: list[str] = []

    def spy(_logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> Any:
        entered.append(method)
        return event_dict

    log._processors = [spy, *log._processors]
    log.debug("test.dropped", value=1)
    log.info("test.dropped", value=2)
    log.warning("test.kept", value=3)
    log.error("test.kept", value=4)
    assert entered == ["warning", "error"]
    written = [line for line in _lines(captured) if "test." in line]
    assert len(written) == 2, written
    assert all("test.kept" in line for line in written)


def test_auto_is_json_off_a_terminal(captured: io.StringIO) -> None:
    assert isinstance(logs.formatter_for("auto", io.StringIO()), logs.JsonFormatter)


def test_each_change_of_a_task_is_one_event_with_its_ids(gateway: Gateway) -> None:
    with gateway.client() as client:
        made = client.post(
            "/v1/videos", json={"model": "viduq2-turbo", "prompt": "logged", "duration": 1}
        )
        assert made.status_code == 200, made.text
        video_id = made.json()["id"]
        assert wait_final(client, video_id)["status"] == "completed"
    ((key_id,),) = gateway.sql("SELECT key_id FROM tasks WHERE id = $1", video_id)
    changes = [e for e in events(gateway.log(), task_id=video_id) if "from" in e]
    assert [(e["event"], e["from"], e["to"]) for e in changes] == [
        ("task.created", None, "queued"),
        ("task.submitted", "queued", "processing"),
        ("task.completed", "processing", "completed"),
    ]
    for event in changes:
        assert event["key_id"] == key_id
        assert event["tenant_id"]
        assert (event["provider"], event["model"]) == ("sandbox", "viduq2-turbo")
        assert event["request_id"]
        assert "upstream_account" in event  # none for the sandbox, a name for Vidu's


def test_each_request_is_one_event_with_its_ids_and_never_its_key(gateway: Gateway) -> None:
    with gateway.client() as client:
        answer = client.get("/v1/videos/video_absent", headers={"X-Request-ID": "trace-me-1"})
    assert answer.status_code == 404
    # Written once the answer is sent: it may come just after the client has it.
    (event,) = wait_until(lambda: events(gateway.log(), "http.request", request_id="trace-me-1"))
    assert event["route"] == "/v1/videos/{video_id}"
    assert (event["method"], event["path"]) == ("GET", "/v1/videos/video_absent")
    assert event["status"] == 404
    assert event["key_id"]
    assert event["tenant_id"]
    assert event["duration_ms"] >= 0
    assert gateway.key not in gateway.log()
