"""Pages of one key's tasks, filtered in SQL (part of TaskRepository).

A page is chosen by the sizes of the tasks' stored requests before any is read whole, so it
ends early, with more to come, once it would pass a byte budget. Created-at ranges also
bound the id range: ids are ULIDs (domain/tasks.py new_id), so the (key_id, id) index
narrows the scan to the window instead of the filter reading the key's every task."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, cast

from sqlalchemy import ColumnElement, Row, Table, Text, func, select
from sqlalchemy import cast as cast_to

from vidugate.domain.listing import EVERYTHING, TaskFilter
from vidugate.domain.tasks import VideoTask
from vidugate.store.db import Database
from vidugate.store.tables import TaskRow

T = cast(Table, TaskRow.__table__)
# A task's id is made before its images are fetched and its created_at after, so the time
# in its id is at most this much earlier than its created_at (fetches are time-limited
# well below it).
CREATE_SPREAD = 3600.0
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_MAX_MS = 2**48 - 1


def first_id_at(ms: int) -> str:
    """The smallest id new_id() makes in millisecond ms: 10 characters of time, then 16
    random ones."""
    ms = min(max(ms, 0), _MAX_MS)
    chars = []
    for _ in range(10):
        chars.append(_CROCKFORD[ms & 31])
        ms >>= 5
    return "video_" + "".join(reversed(chars)) + "0" * 16


def conditions(where: TaskFilter) -> list[ColumnElement[bool]]:
    """The filter as SQL conditions on the tasks table."""
    found: list[ColumnElement[bool]] = []
    if where.statuses is not None:
        found.append(T.c.status.in_(sorted(status.value for status in where.statuses)))
    if where.ids is not None:
        found.append(T.c.id.in_(sorted(where.ids)))
    if where.models is not None:
        found.append(T.c.model.in_(sorted(where.models)))
    if where.resolutions is not None:
        found.append(T.c.params["resolution"].as_string().in_(sorted(where.resolutions)))
    if where.created_from is not None:
        found.append(T.c.created_at >= where.created_from)
        found.append(T.c.id >= first_id_at(int((where.created_from - CREATE_SPREAD) * 1000)))
    if where.created_to is not None:
        found.append(T.c.created_at <= where.created_to)
        found.append(T.c.id < first_id_at(int(where.created_to * 1000) + 1))
    return found


class TaskPages:
    """Mixed into TaskRepository, which provides the database, the columns to read and the
    row-to-task conversion (with its cache of parsed requests)."""

    db: Database
    columns: ClassVar[Sequence[Any]]

    def _task(self, row: Row[Any]) -> VideoTask:
        raise NotImplementedError

    async def page_for_key(
        self,
        key_id: str,
        *,
        after: str | None,
        limit: int,
        newest_first: bool,
        max_bytes: int,
        where: TaskFilter = EVERYTHING,
        offset: int = 0,
    ) -> tuple[list[VideoTask], bool]:
        """Up to limit of the key's tasks that the filter keeps, after the cursor and past
        the first offset of them, ending before the one that would take the page's stored
        request text past max_bytes (one at least, whatever its size); and whether more
        follow."""
        if where.keeps_nothing:
            return [], False
        clauses = [T.c.key_id == key_id, T.c.deleted_at.is_(None), *conditions(where)]
        if after is not None:
            clauses.append(T.c.id < after if newest_first else T.c.id > after)
        order = T.c.id.desc() if newest_first else T.c.id.asc()
        sizes = select(T.c.id, func.length(cast_to(T.c.params, Text))).where(*clauses)
        async with self.db.read() as conn:
            found = (
                await conn.execute(sizes.order_by(order).offset(offset).limit(limit + 1))
            ).all()
            chosen: list[str] = []
            total = 0
            for task_id, size in found[:limit]:
                total += size or 0
                if chosen and total > max_bytes:
                    break
                chosen.append(task_id)
            rows: Sequence[Row[Any]] = []
            if chosen:
                stmt = select(*self.columns).where(T.c.id.in_(chosen)).order_by(order)
                rows = (await conn.execute(stmt)).all()
        return [self._task(row) for row in rows], len(found) > len(chosen)
