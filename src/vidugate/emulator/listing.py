"""GET /ent/v2/tasks: filters and paging over one account's tasks, newest first.

Query parameters exactly as Vidu's "tasks-list" page names them; any other name is 400
`FieldInvalid` naming it (a caller's misspelling is heard, rather than silently widening
the search to every task of the last week):
- `created_at.from`, `created_at.to`: ISO-8601 instants (`Z` or an offset; a naive value
  is UTC) or unix seconds, both bounds inclusive; `created_at.from` defaults to 7 days ago;
- `task_ids`, `states` (created, queueing, processing, success, failed), `model_versions`
  (`q2-pro`, `2.0`, ...: the model without its `vidu` prefix; the full name works too),
  `resolutions`, `templates`: arrays, as repeated parameters or comma-separated; tasks made
  by the emulator have no template, so any `templates` filter matches none;
- `paper.page` (from 0, default 0) and `paper.pagesz` (1..100, default 10), spelled
  `paper` as on that page; `pager.page_token`: the previous answer's `next_page_token`,
  opaque (with a token, `paper.page` is not applied again).

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
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from vidugate.emulator.accounts import Account
from vidugate.emulator.errors import field_invalid
from vidugate.emulator.tasks import State, Task

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
DEFAULT_WINDOW = 7 * 24 * 3600.0
NAMES = (
    "created_at.from",
    "created_at.to",
    "task_ids",
    "states",
    "model_versions",
    "resolutions",
    "templates",
    "paper.page",
    "paper.pagesz",
    "pager.page_token",
)


class Params(Protocol):
    """A query string's parameters, names possibly repeated (Starlette's QueryParams)."""

    def __iter__(self) -> Iterator[str]: ...

    def getlist(self, key: str) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class ListQuery:
    created_from: float
    created_to: float | None = None
    task_ids: frozenset[str] | None = None
    states: frozenset[State] | None = None
    model_versions: frozenset[str] | None = None
    resolutions: frozenset[str] | None = None
    templates: frozenset[str] | None = None
    page: int = 0
    page_size: int = DEFAULT_PAGE_SIZE
    before_seq: int | None = None  # from the page token: only tasks older than this

    def matches(self, task: Task, state: State) -> bool:
        model = task.request.model
        return (
            (self.task_ids is None or task.id in self.task_ids)
            and (self.states is None or state in self.states)
            and (
                self.model_versions is None
                or model in self.model_versions
                or model.removeprefix("vidu") in self.model_versions
            )
            and (self.resolutions is None or task.request.resolution in self.resolutions)
            and self.templates is None
        )


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


def _single(params: Params, name: str) -> str | None:
    values = params.getlist(name)
    if len(values) > 1:
        raise field_invalid(f"{name}: given {len(values)} times; give it once")
    return values[0] if values else None


def _array(params: Params, name: str) -> frozenset[str] | None:
    items = {item.strip() for value in params.getlist(name) for item in value.split(",")}
    items.discard("")
    return frozenset(items) if items else None


def _count(params: Params, name: str, default: int, low: int, high: int) -> int:
    text = _single(params, name)
    if text is None:
        return default
    if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
        raise field_invalid(f"{name}: must be an integer from {low} to {high}")
    return int(text)


def parse_list_query(params: Params, now: float) -> ListQuery:
    for name in params:
        if name not in NAMES:
            raise field_invalid(f"{name}: not a parameter of the task list; use {', '.join(NAMES)}")
    states: frozenset[State] | None = None
    if (raw_states := _array(params, "states")) is not None:
        allowed = {s.value: s for s in State}
        wrong = sorted(raw_states - allowed.keys())
        if wrong:
            raise field_invalid(f"states: {wrong[0]!r} is not one of {', '.join(allowed)}")
        states = frozenset(allowed[value] for value in raw_states)
    start = _single(params, "created_at.from")
    end = _single(params, "created_at.to")
    token = _single(params, "pager.page_token")
    return ListQuery(
        created_from=_instant("created_at.from", start) if start else now - DEFAULT_WINDOW,
        created_to=_instant("created_at.to", end) if end else None,
        task_ids=_array(params, "task_ids"),
        states=states,
        model_versions=_array(params, "model_versions"),
        resolutions=_array(params, "resolutions"),
        templates=_array(params, "templates"),
        page=_count(params, "paper.page", 0, 0, 1_000_000),
        page_size=_count(params, "paper.pagesz", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE),
        before_seq=_decode_token(token) if token else None,
    )


def page(account: Account, query: ListQuery, now: float) -> tuple[list[Task], str]:
    """One page of matching tasks, newest first, and the token for the next ("" if none).
    The account must have been advanced to `now`."""
    tasks = account.tasks
    index = len(tasks)
    if query.before_seq is not None:
        index = bisect_left(tasks, query.before_seq, key=lambda t: t.seq)
    skip = query.page * query.page_size if query.before_seq is None else 0
    found: list[Task] = []
    for i in range(index - 1, -1, -1):
        task = tasks[i]
        if task.created_at < query.created_from:
            break  # creation times only fall from here on
        if query.created_to is not None and task.created_at > query.created_to:
            continue
        if not query.matches(task, task.state(now)):
            continue
        if skip:
            skip -= 1
            continue
        if len(found) == query.page_size:
            return found, encode_token(found[-1].seq)
        found.append(task)
    return found, ""
