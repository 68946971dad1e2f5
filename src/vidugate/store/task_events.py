"""Task events (domain/task_events.py) in and out: the task effect that writes one row per
transition, in the transition's own transaction (one INSERT, the database's prepared one on
SQLite's writer, as the webhook outbox writes its messages), the read of a task's events,
and their delete with the task's row (TaskRepository.purge)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from vidugate.domain.task_events import ADMITTED, TaskEvent, event_detail
from vidugate.domain.tasks import TaskStatus, VideoTask
from vidugate.store.db import Database
from vidugate.store.effects import Applied
from vidugate.store.tables import TaskEventRow

E = cast(Table, TaskEventRow.__table__)


class TaskEvents:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def effect(self, conn: AsyncConnection, applied: Applied) -> VideoTask | None:
        """The task effect: this change's event. Registered last (services/limits.py), so
        it sees the row as every other effect left it."""
        transition, task = applied.transition, applied.task
        before = transition.left(task)
        await self.db.insert(
            conn,
            E,
            {
                "task_id": task.id,
                "at": applied.now,
                "event": transition.event,
                "status_before": None if before is None else before.value,
                "status_after": task.status.value,
                "detail": event_detail(transition, task),
            },
        )
        return None

    async def of_task(self, task_id: str, limit: int) -> tuple[list[TaskEvent], bool]:
        """The task's newest `limit` events in the order they were written, and whether
        older ones were left out."""
        stmt = select(E).where(E.c.task_id == task_id).order_by(E.c.id.desc()).limit(limit + 1)
        async with self.db.read() as conn:
            rows = (await conn.execute(stmt)).all()
        events = [
            TaskEvent(
                id=row.id,
                task_id=row.task_id,
                at=row.at,
                event=row.event,
                status_before=None if row.status_before is None else TaskStatus(row.status_before),
                status_after=TaskStatus(row.status_after),
                detail=dict(row.detail or {}),
            )
            for row in rows[:limit]
        ]
        return events[::-1], len(rows) > limit


async def delete_events(conn: AsyncConnection, task_ids: Sequence[str]) -> None:
    """The events of these tasks, within the write that deletes their rows."""
    if task_ids:
        await conn.execute(delete(E).where(E.c.task_id.in_(list(task_ids))))


async def admitted_events(
    conn: AsyncConnection, admitted: Sequence[tuple[str, str, float]]
) -> None:
    """`task.admitted` for each (task id, slot pool, time) fair scheduling just gave a slot: not a
    transition (the task stays queued), but the end of its wait in the gateway's queue,
    which is what an operator looks for in a slow task's timeline."""
    if admitted:
        await conn.execute(
            insert(E),
            [
                {
                    "task_id": task_id,
                    "at": at,
                    "event": ADMITTED,
                    "status_before": TaskStatus.QUEUED.value,
                    "status_after": TaskStatus.QUEUED.value,
                    "detail": {"slot": slot},
                }
                for task_id, slot, at in admitted
            ],
        )
