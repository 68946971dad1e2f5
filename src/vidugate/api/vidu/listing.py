"""GET /vidu/ent/v2/tasks: Vidu's filters (state, created_at range, task ids) over the
caller's tasks, newest first, in pages whose token is the last task id of the page. A page
ends early, with a token, once its tasks hold about VIDUGATE_LIST_PAGE_BYTES.

The store lists a key's tasks by id only, so the filters are applied here while paging
through them; task ids are ULIDs (domain/tasks.py new_id), so created_at_to turns into a
starting cursor and the scan stops soon after created_at_from. A filtered query in the
store would do better once lists get long."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from vidugate.api.vidu.render import STATE_FILTERS
from vidugate.domain.keys import ApiKey
from vidugate.domain.tasks import TaskStatus, VideoTask
from vidugate.errors import InvalidRequestError, NotFoundError
from vidugate.services.videos import VideoService

MAX_TASK_IDS = 100
# Pages of PAGE tasks are read, at most SCAN_PAGES per request; a request that reads them
# all without filling its page answers what it found and a token to go on from.
PAGE = 100
SCAN_PAGES = 20
# An id is made before the images are fetched, created_at after: id order and created_at
# order can differ by that long (image fetches are time-limited well below it).
CREATE_SPREAD = 3600.0
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_NUMBER = re.compile(r"^\s*\d{1,12}(\.\d{1,9})?\s*$")
MAX_TIME = (2**48 - 2) / 1000  # the last millisecond an id can hold
ID_LENGTH = len("video_") + 26


@dataclass(frozen=True, slots=True)
class TaskQuery:
    """What the list keeps; None means any."""

    statuses: frozenset[TaskStatus] | None = None
    ids: tuple[str, ...] | None = None
    created_from: float | None = None  # unix seconds, inclusive
    created_to: float | None = None  # unix seconds, inclusive

    def keeps(self, task: VideoTask) -> bool:
        if self.statuses is not None and task.status not in self.statuses:
            return False
        if self.created_from is not None and task.created_at < self.created_from:
            return False
        return self.created_to is None or task.created_at <= self.created_to


def parse_query(
    state: str | None,
    created_at_from: str | None,
    created_at_to: str | None,
    task_ids: list[str] | None,
) -> TaskQuery:
    statuses = None
    if state:
        statuses = STATE_FILTERS.get(state)
        if statuses is None:
            raise InvalidRequestError(
                f"state {state!r} is not a task state; allowed: {', '.join(STATE_FILTERS)}.",
                param="state",
            )
    ids = None
    if task_ids:
        # Repeated (task_ids=a&task_ids=b) or comma-separated (task_ids=a,b).
        parts = (part.strip() for item in task_ids for part in item.split(","))
        ids = tuple(dict.fromkeys(part for part in parts if part))
        if len(ids) > MAX_TASK_IDS:
            raise InvalidRequestError(
                f"task_ids has {len(ids)} ids; at most {MAX_TASK_IDS}.", param="task_ids"
            )
    return TaskQuery(
        statuses=statuses,
        ids=ids,
        created_from=_moment(created_at_from, "created_at_from"),
        created_to=_moment(created_at_to, "created_at_to"),
    )


async def find(
    videos: VideoService, key: ApiKey, query: TaskQuery, *, after: str | None, limit: int
) -> tuple[list[VideoTask], str | None]:
    """A page of the key's tasks that the query keeps, and the token of the next page."""
    if query.created_to is not None:
        bound = _first_id_at("video_", int(query.created_to * 1000) + 1)
        after = bound if after is None else min(after, bound)
    page = _Page(limit, videos.page_bytes)
    if query.ids is not None:
        # Newest first is id order: ids are sorted before any task is read, and read one at
        # a time, so a page never holds more than it answers.
        for task_id in sorted(query.ids, reverse=True):
            if len(task_id) != ID_LENGTH or (after is not None and task_id >= after):
                continue  # not an id the gateway makes, or on an earlier page
            try:
                task = await videos.get(key, task_id)
            except NotFoundError:
                continue  # another key's or no task: the list just does not have it
            if query.keeps(task) and not page.add(task):
                return page.tasks, page.tasks[-1].id
        return page.tasks, None
    for _ in range(SCAN_PAGES):
        found, more = await videos.list(key, after=after, limit=PAGE, newest_first=True)
        for task in found:
            if query.created_from is not None and (
                task.created_at < query.created_from - CREATE_SPREAD
            ):
                return page.tasks, None
            if query.keeps(task) and not page.add(task):
                return page.tasks, page.tasks[-1].id
        if not more:
            return page.tasks, None
        after = found[-1].id
    return page.tasks, after


class _Page:
    """The tasks of one answer: up to limit of them, and once one is in, no more than
    max_bytes of their data."""

    def __init__(self, limit: int, max_bytes: int) -> None:
        self.limit = limit
        self.max_bytes = max_bytes
        self.tasks: list[VideoTask] = []
        self.size = 0

    def add(self, task: VideoTask) -> bool:
        """False, leaving the task out, when the page is full."""
        size = task.request.approx_bytes()
        if len(self.tasks) == self.limit or (self.tasks and self.size + size > self.max_bytes):
            return False
        self.tasks.append(task)
        self.size += size
        return True


def _moment(text: str | None, param: str) -> float | None:
    """ISO-8601 (UTC unless it says otherwise) or unix seconds, as seconds in 0..MAX_TIME."""
    if not text:
        return None
    try:
        seconds = float(text) if _NUMBER.match(text) else _iso_seconds(text)
    except (ValueError, OverflowError):
        raise InvalidRequestError(
            f"{param} must be an ISO-8601 time (e.g. 2026-01-01T15:41:31Z) or unix seconds.",
            param=param,
        ) from None
    return min(max(seconds, 0.0), MAX_TIME)


def _iso_seconds(text: str) -> float:
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _first_id_at(prefix: str, ms: int) -> str:
    """The smallest id new_id() makes in millisecond ms: 10 characters of time, then 16
    random ones."""
    chars = []
    for _ in range(10):
        chars.append(_CROCKFORD[ms & 31])
        ms >>= 5
    return prefix + "".join(reversed(chars)) + "0" * 16
