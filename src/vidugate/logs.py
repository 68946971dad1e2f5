"""Log set-up: one line per event, `event key=value ...`, with the request id bound in.

Values in log lines come from requests (ids, headers, upstream documents), so one with a
line break could start a forged line. `EscapingFormatter` writes every control character
(C0 and C1, DEL, U+2028/U+2029) of a record's line as an escape (`\\n`, `\\x1b`,
`\\u2028`), and indents the lines of a traceback, so every line that starts at column 0 is
the start of a real record. uvicorn's own records (its access log carries the request
path, decoded) get their arguments escaped the same way by a filter on its loggers.
"""

from __future__ import annotations

import contextvars
import logging
import sys
from collections.abc import Mapping
from types import TracebackType

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

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


def escape(text: str) -> str:
    """`text` on one line: every control character written as an escape."""
    return text.translate(_ESCAPES)


class EscapingFormatter(logging.Formatter):
    """A Formatter whose records each start one line that nothing in them can break."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return escape(super().formatMessage(record))

    def formatException(self, ei: _ExcInfo) -> str:
        return _indented(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return _indented(super().formatStack(stack_info))


def _indented(text: str) -> str:
    return "\n".join(_INDENT + line for line in text.translate(_ESCAPES_BUT_NEWLINE).split("\n"))


class EscapeArgs(logging.Filter):
    """Escapes the string arguments of records formatted by someone else's formatter."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(escape(a) if isinstance(a, str) else a for a in args)
        elif isinstance(args, Mapping):
            record.args = {k: escape(v) if isinstance(v, str) else v for k, v in args.items()}
        return True


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


def configure(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(
        EscapingFormatter(
            "%(asctime)s %(levelname)s %(name)s request_id=%(request_id)s %(message)s"
        )
    )
    root = logging.getLogger("vidugate")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, EscapeArgs) for f in logger.filters):
            logger.addFilter(EscapeArgs())
