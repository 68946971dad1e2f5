"""Scheduling of task rows (part of TaskRepository): which worker looks at a task, and when.

A worker leases due tasks (`claim_due`, urgent ones first, `FOR UPDATE SKIP LOCKED` so
workers never wait on each other), renews the leases of the steps it is running, and hands
tasks back in batches (`release_many`: one executemany per batch, which is what lets one
process keep thousands of tasks in flight). A task whose job lives in one process's memory
stays held for that process between looks. A poke makes a task due before any other.
None of this changes a task's state: that is `TaskRepository.apply`'s alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from sqlalchemy import (
    Boolean,
    Float,
    Integer,
    Row,
    String,
    Table,
    and_,
    bindparam,
    case,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from vidugate.domain.tasks import ACTIVE, VideoTask
from vidugate.store.db import Database
from vidugate.store.effects import ProgressEffect
from vidugate.store.tables import TaskRow

T = cast(Table, TaskRow.__table__)

# next_poll_at of a task to look at before every merely due one (new, poked, stopped):
# the lowest time there is, so the claim's ORDER BY next_poll_at puts it first.
URGENT = 0.0


@dataclass(frozen=True, slots=True)
class Release:
    task_id: str
    next_at: float | None
    progress: int | None = None
    keep_lease: bool = False  # held for this owner alone until its next look (+ a lease)


def held(owner: str) -> str:
    """The lease owner of a task an owner holds between looks: not in its hands now (so
    not renewed, nor due for it until next_poll_at), but no other worker may take it until
    the hold runs out."""
    return f"held:{owner}"


class TaskLeases:
    """Mixed into TaskRepository, which provides the database, the columns to read and the
    row-to-task conversion."""

    db: Database
    columns: ClassVar[Sequence[Any]]
    progress_effects: tuple[ProgressEffect, ...]

    def _task(self, row: Row[Any]) -> VideoTask:
        raise NotImplementedError

    async def claim_due(
        self, owner: str, *, now: float, lease_until: float, limit: int
    ) -> list[VideoTask]:
        """Lease up to `limit` tasks whose next look is due and whose lease is free, the
        urgent ones (new, poked, stopped) first."""
        due = (
            select(T.c.id)
            .where(
                # Any status: a stopped task is due once more so a worker can clean up after it.
                T.c.next_poll_at <= now,
                or_(
                    T.c.lease_until.is_(None),
                    T.c.lease_until < now,
                    T.c.lease_owner == held(owner),
                ),
            )
            .order_by(T.c.next_poll_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        stmt = (
            update(T)
            .where(T.c.id.in_(due.scalar_subquery()))
            # Claiming consumes urgency: a poke while leased shows as URGENT again.
            .values(lease_owner=owner, lease_until=lease_until, next_poll_at=now)
            .returning(*self.columns)
        )
        return [self._task(row) for row in await self.db.returning(stmt)]

    async def release_many(
        self, owner: str, items: Sequence[Release], *, now: float, hold_seconds: float = 0.0
    ) -> None:
        """Hand tasks back in one transaction: due again at their next time (unless a poke,
        e.g. a callback or a cancel, came while the lease was held: then at once), with a
        higher progress recorded for the ones still active. Those marked keep_lease stay
        held for this owner until hold_seconds past their next time."""
        if not items:
            return
        # No IN (...) here: an executemany statement cannot expand one.
        active = or_(*(T.c.status == s.value for s in ACTIVE))
        # Typed, so PostgreSQL knows each parameter's type where it stands alone.
        b_next = bindparam("b_next", type_=Float)
        b_progress = bindparam("b_progress", type_=Integer)
        b_keep = bindparam("b_keep", type_=Boolean)
        raised = and_(active, b_progress.is_not(None))
        # A poke outranks even "never again": a cancel or delete that came during a task's
        # last step still gets its clean-up step.
        due = case(
            (T.c.next_poll_at == URGENT, URGENT),
            (b_next.is_(None), None),
            else_=b_next,
        )
        stmt = (
            update(T)
            .where(T.c.id == bindparam("b_id", type_=String), T.c.lease_owner == owner)
            .values(
                lease_owner=case((b_keep, held(owner)), else_=None),
                lease_until=case((b_keep, b_next + hold_seconds), else_=None),
                next_poll_at=due,
                progress=case((raised, b_progress), else_=T.c.progress),
                updated_at=case((raised, now), else_=T.c.updated_at),
            )
        )
        rows = [
            {
                "b_id": item.task_id,
                "b_next": item.next_at,
                "b_progress": item.progress,
                "b_keep": item.keep_lease and item.next_at is not None,
            }
            for item in items
        ]
        raised_ids = [item.task_id for item in items if item.progress is not None]
        if not (self.progress_effects and raised_ids):
            await self.db.run(stmt, rows)
            return

        async def write(conn: AsyncConnection) -> None:
            await conn.execute(stmt, rows)
            found = await conn.execute(select(*self.columns).where(T.c.id.in_(raised_ids), active))
            tasks = [self._task(row) for row in found]
            for effect in self.progress_effects:
                await effect(conn, tasks, now)

        await self.db.write(write)

    async def poke(self, task_id: str) -> bool:
        """Make an active task due before any other (an upstream said it changed)."""
        stmt = (
            update(T)
            .where(T.c.id == task_id, T.c.status.in_([s.value for s in ACTIVE]))
            .values(next_poll_at=URGENT)
        )
        return await self.db.run(stmt) > 0

    async def poke_upstream(self, account: str, upstream_id: str) -> str | None:
        """Make the active task that follows this upstream job due before any other, in
        one statement (a callback's find and poke); its id, or None when no active task
        follows that job."""
        stmt = (
            update(T)
            .where(
                T.c.upstream_id == upstream_id,
                T.c.upstream_account == account,
                T.c.status.in_([s.value for s in ACTIVE]),
            )
            .values(next_poll_at=URGENT)
            .returning(T.c.id)
        )
        rows = await self.db.returning(stmt)
        return str(rows[0][0]) if rows else None

    async def renew(self, owner: str, task_ids: list[str], *, lease_until: float) -> None:
        stmt = (
            update(T)
            .where(T.c.lease_owner == owner, T.c.id.in_(task_ids))
            .values(lease_until=lease_until)
        )
        await self.db.run(stmt)

    async def release_owners(self, owners: Sequence[str]) -> int:
        """Hand back the leases of workers known to be dead."""
        if not owners:
            return 0
        every = [*owners, *(held(owner) for owner in owners)]
        stmt = (
            update(T).where(T.c.lease_owner.in_(every)).values(lease_owner=None, lease_until=None)
        )
        return await self.db.run(stmt)

    async def lease_owners(self) -> list[str]:
        stmt = select(T.c.lease_owner).where(T.c.lease_owner.is_not(None)).distinct()
        async with self.db.read() as conn:
            return [row[0] for row in (await conn.execute(stmt)).all()]
