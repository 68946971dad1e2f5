"""GET /ent/v2/tasks: filters and paging over one account's tasks, newest first.

Query parameters (vidu-upstream.md names `state`, a time range and a `pager`; the exact
spelling is the emulator's choice):
- `state`: one of created, queueing, processing, success, failed;
- `created_at_from`, `created_at_to`: ISO-8601 instants (`Z` or an offset; a naive value
  is UTC) or unix seconds; both bounds inclusive;
- `task_ids`: comma-separated ids;
- `pager.page_size`: 1..100, default 20; `pager.page_token`: the previous answer's
  `next_page_token`, opaque.

The answer is `{"tasks": [...], "next_page_token": "..."}`, with `""` on the last page. Each
item is the status document plus `model`, `prompt`, `type` (the endpoint) and
`created_at`; `payload` is there too, which is how a caller finds a task whose create
answer was lost. Tokens are positions (the last task's sequence number), so tasks created
while paging never shift later pages.
"""

from __future__ import annotations

import base64
import binascii
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from vidugate.emulator.accounts import Account
from vidugate.emulator.errors import field_invalid
from vidugate.emulator.tasks import State, Task

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class ListQuery:
    state: State | None = None
    created_from: float | None = None
    created_to: float | None = None
    task_ids: frozenset[str] | None = None
    page_size: int = DEFAULT_PAGE_SIZE
    before_seq: int | None = None  # from the page token: only tasks older than this


def _instant(name: str, value: str) -> float:
    text = value.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise field_invalid(f"{name}: not an ISO-8601 time: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def encode_token(seq: int) -> str:
    return base64.urlsafe_b64encode(f"p1:{seq}".encode()).decode().rstrip("=")


def _decode_token(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix != "p1" or not number.isdigit():
            raise ValueError(text)
        return int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise field_invalid("pager.page_token: not a token from a previous answer") from None


def parse_list_query(params: Mapping[str, str]) -> ListQuery:
    state: State | None = None
    if raw_state := params.get("state"):
        try:
            state = State(raw_state)
        except ValueError:
            allowed = ", ".join(s.value for s in State)
            raise field_invalid(f"state: {raw_state!r} is not one of {allowed}") from None
    size_text = params.get("pager.page_size") or str(DEFAULT_PAGE_SIZE)
    if not size_text.isdigit() or not 1 <= int(size_text) <= MAX_PAGE_SIZE:
        raise field_invalid(f"pager.page_size: must be an integer from 1 to {MAX_PAGE_SIZE}")
    ids = params.get("task_ids")
    token = params.get("pager.page_token")
    start = params.get("created_at_from")
    end = params.get("created_at_to")
    return ListQuery(
        state=state,
        created_from=_instant("created_at_from", start) if start else None,
        created_to=_instant("created_at_to", end) if end else None,
        task_ids=frozenset(i.strip() for i in ids.split(",") if i.strip()) if ids else None,
        page_size=int(size_text),
        before_seq=_decode_token(token) if token else None,
    )


def page(account: Account, query: ListQuery, now: float) -> tuple[list[Task], str]:
    """One page of matching tasks, newest first, and the token for the next ("" if none).
    The account must have been advanced to `now`."""
    tasks = account.tasks
    index = len(tasks)
    if query.before_seq is not None:
        index = bisect_left(tasks, query.before_seq, key=lambda t: t.seq)
    found: list[Task] = []
    for i in range(index - 1, -1, -1):
        task = tasks[i]
        if query.created_from is not None and task.created_at < query.created_from:
            break  # creation times only fall from here on
        if query.created_to is not None and task.created_at > query.created_to:
            continue
        if query.task_ids is not None and task.id not in query.task_ids:
            continue
        if query.state is not None and task.state(now) is not query.state:
            continue
        if len(found) == query.page_size:
            return found, encode_token(found[-1].seq)
        found.append(task)
    return found, ""
