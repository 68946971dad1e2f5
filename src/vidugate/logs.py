"""Log set-up: structured events (structlog), one line each, written by the stdlib handler
of the `vidugate` logger (uvicorn's loggers write through it too).

Code logs an event name and fields: `log.info("task.created", task_id=..., model=...)`.
Each line carries the request id, and the key and tenant ids of the request it belongs to
(bound here by the API's middleware and key check). Two renderings (`VIDUGATE_LOG_FORMAT`):

- json: one JSON object a line (`ts`, `level`, `logger`, `event`, `request_id`, then the
  fields); a traceback is the `exception` field. JSON's own escapes, ASCII only, so no
  value can break a line or hide a character.
- console: `TIME LEVEL LOGGER request_id=ID event key=value ...` for people. Values come
  from requests (ids, headers, upstream documents), so one with a line break could start
  a forged line: every control character (C0 and C1, DEL, U+2028/U+2029) is written as an
  escape (`\\n`, `\\x1b`, `\\u2028`), a value with a space or quote is quoted, and the
  lines of a traceback are indented, so every line at column 0 is a real record's.

`auto` (the default) is console on a terminal and json otherwise. Keys and upstream API
keys are never logged: code logs ids and account names only."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from types import TracebackType
from typing import Any, TextIO

import structlog

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
# The key (and its tenant) a request was made with, once its key check passed.
caller: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "caller", default=None
)

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_CONTROLS = [*range(0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029]
_ESCAPES = {
    code: _NAMED.get(chr(code)) or (f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")
    for code in _CONTROLS
}
# Traceback text keeps its line breaks (indented below), and only those.
_ESCAPES_BUT_NEWLINE = {code: text for code, text in _ESCAPES.items() if code != 0x0A}
_INDENT = "    "
_ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]
_FIELDS = "vidugate_fields"
# Loggers of others whose records are written as the gateway's own (asyncio's: a task's
# exception nobody retrieved). uvicorn's children, `uvicorn.error` and (with `serve
# --access-log`) `uvicorn.access`, reach it through their parent: uvicorn silences its
# access logger itself when the access log is off, whichever is set up first.
_FOREIGN = ("uvicorn", "asyncio")


class Logger(structlog.stdlib.BoundLogger):
    """structlog's stdlib logger that asks the level first: an event its logger would drop
    costs one cached stdlib check, not the event built, processed and dropped by an
    exception (filter_by_level's way: ~3 us, paid by every request's `http.request`
    event when the level is warning)."""

    def debug(self, event: str | None = None, *args: Any, **kw: Any) -> Any:
        if self._logger.isEnabledFor(logging.DEBUG):
            return super().debug(event, *args, **kw)
        return None

    def info(self, event: str | None = None, *args: Any, **kw: Any) -> Any:
        if self._logger.isEnabledFor(logging.INFO):
            return super().info(event, *args, **kw)
        return None

    def warning(self, event: str | None = None, *args: Any, **kw: Any) -> Any:
        if self._logger.isEnabledFor(logging.WARNING):
            return super().warning(event, *args, **kw)
        return None


def get_logger(name: str) -> Logger:
    """The structured logger of one part of the gateway (`vidugate.<part>`): its events go
    to the stdlib logger of that name, so they are written (or not) as set up below,
    whether or not anything has been set up (the CLI's commands log through it too)."""
    return Logger(logging.getLogger(name), [structlog.stdlib.filter_by_level, _to_stdlib], {})


def escape(text: str) -> str:
    """`text` on one line: every control character written as an escape."""
    return text.translate(_ESCAPES)


def _indented(text: str) -> str:
    return "\n".join(_INDENT + line for line in text.translate(_ESCAPES_BUT_NEWLINE).split("\n"))


def _to_stdlib(
    _logger: Any, _method: str, event_dict: Any
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """structlog's last step: the event as a stdlib record, its fields kept whole."""
    event = event_dict.pop("event", "")
    kwargs: dict[str, Any] = {"extra": {_FIELDS: event_dict}}
    exc_info = event_dict.pop("exc_info", None)
    if exc_info:
        kwargs["exc_info"] = exc_info
    return (event,), kwargs


class _Second:
    """The last record's second, formatted: most lines fall in the same second as the one
    before, and formatting a time is a good part of a line's cost. One tuple, replaced
    whole, so a thread never reads one second's number with another's text."""

    last: tuple[int, str] = (-1, "")


def _timestamp(created: float) -> str:
    second, text = _Second.last
    if int(created) != second:
        second = int(created)
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _Second.last = (second, text)
    return f"{text}.{int(created * 1000) % 1000:03d}Z"


class _EventFormatter(logging.Formatter):
    """What both renderings share: the event, its fields and the request's context."""

    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        out: dict[str, Any] = {"request_id": request_id.get()}
        who = caller.get()
        if who is not None:
            out["key_id"], out["tenant_id"] = who
        given = getattr(record, _FIELDS, None)
        if given:
            out.update(given)
        return out

    def traceback(self, record: logging.LogRecord) -> str | None:
        if record.exc_info:
            return super().formatException(record.exc_info)
        if record.exc_text:
            return record.exc_text
        return None


class JsonFormatter(_EventFormatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        line.update(self.fields(record))
        trace = self.traceback(record)
        if trace is not None:
            line["exception"] = trace
        return json.dumps(line, default=str, separators=(",", ":"))


def _plain(value: Any) -> str:
    """A value as written after `key=`: as it is, or quoted if it has a space, a quote, a
    backslash or an `=` (its control characters are escaped with the whole line)."""
    text = value if isinstance(value, str) else str(value)
    if text and not any(c in text for c in ' "=\\'):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ConsoleFormatter(_EventFormatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = self.fields(record)
        rid = fields.pop("request_id")
        head = (
            f"{_timestamp(record.created)} {record.levelname} {record.name} "
            f"request_id={rid} {record.getMessage()}"
        )
        pairs = "".join(f" {k}={_plain(v)}" for k, v in fields.items())
        line = escape(head + pairs)
        trace = self.traceback(record)
        return line if trace is None else f"{line}\n{_indented(trace)}"


def formatter_for(fmt: str, stream: TextIO) -> logging.Formatter:
    if fmt == "json" or (fmt == "auto" and not _is_terminal(stream)):
        return JsonFormatter()
    return ConsoleFormatter()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def configure(level: str, fmt: str = "auto") -> None:
    """The process's logging: the `vidugate` logger (and uvicorn's) to stderr, rendered
    as `fmt` says."""
    # No file, line, function or process is written, so none is looked up for each record
    # (the logging HOWTO's "Optimization": the file a walk up the stack, a fifth of a
    # line's cost). Thread names stay: the in-process test tier sorts records by them.
    logging._srcfile = None
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter_for(fmt, sys.stderr))
    for name in ("vidugate", *_FOREIGN):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.propagate = False
    logging.getLogger("vidugate").setLevel(level.upper())
    logging.getLogger("uvicorn").setLevel(level.upper())
    if logging.getLogger("asyncio").level == logging.NOTSET:
        logging.getLogger("asyncio").setLevel(level.upper())
    # uvicorn's server lines at the gateway's level, through its parent (a uvicorn set up
    # earlier in the process, with a handler and a level of its own, is overridden).
    server = logging.getLogger("uvicorn.error")
    server.handlers.clear()
    server.propagate = True
    server.setLevel(logging.NOTSET)
