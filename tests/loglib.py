"""Reading a gateway's log as its operator's tools would: one JSON object a line (the
format whenever stderr is not a terminal, as under the tests), other lines skipped (the
start banner that `serve` prints for people)."""

from __future__ import annotations

import json
from typing import Any


def events(text: str, event: str | None = None, **fields: Any) -> list[dict[str, Any]]:
    """The log's events, those named `event` with these field values if given."""
    found = []
    for line in text.splitlines():
        if not line.startswith("{"):
            continue
        record: dict[str, Any] = json.loads(line)
        if event is not None and record.get("event") != event:
            continue
        if all(record.get(name) == value for name, value in fields.items()):
            found.append(record)
    return found


def count_events(text: str, event: str, **fields: Any) -> int:
    return len(events(text, event, **fields))
