"""The database's limits: unfinished videos at once and spend per UTC day, per key and per
tenant, exact because they move in the transaction of the task's own change (a task effect,
store/effects.py).

`Created` raises the tenant's and the key's `active_videos` each in a conditional UPDATE
against its limit (the key's own or the settings' default), then, for a priced task, the
day's spend of both in a conditional upsert of `spend_days`; a refusal raises
RateLimitError, which rolls the whole create back: nothing is stored. A task's end
(Completed, Failed, Cancelled: each a conditional transition only one caller wins, so it
runs once) lowers both counts and gives back to the day it was created on what the ledger
gives back (store/ledger.py's final_charge, the same rule).

Registered before the ledger: a create over a limit is refused before the balance is read,
so a burst against a full quota takes no lock on the tenant's balance. Rows are locked in
the ledger's order (task, tenant, key), so the two never wait on each other."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import cast

from sqlalchemy import Table, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from vidugate.domain.ledger import CancelPolicy, ChargeState
from vidugate.domain.limits import LimitKind, Limits, seconds_to_next_day, utc_day
from vidugate.domain.money import from_micros, to_micros
from vidugate.domain.tasks import TaskStatus, VideoTask
from vidugate.domain.transitions import Cancelled, Completed, Created, Failed
from vidugate.errors import RateLimitError
from vidugate.store.db import Database, dialect_insert
from vidugate.store.effects import Applied
from vidugate.store.ledger import final_charge
from vidugate.store.tables import ApiKeyRow, SpendDayRow, TaskRow, TenantRow

K = cast(Table, ApiKeyRow.__table__)
TN = cast(Table, TenantRow.__table__)
S = cast(Table, SpendDayRow.__table__)
T = cast(Table, TaskRow.__table__)
ENDS = (Completed, Failed, Cancelled)
# A refused create cannot know when a video will finish: a few seconds is a fair first try.
ACTIVE_RETRY_SECONDS = 5.0


class LimitCounts:
    """The task effect, and the counts' read side."""

    def __init__(self, defaults: Limits, policy: CancelPolicy | None = None) -> None:
        self.defaults = defaults
        self.policy = policy or CancelPolicy()

    async def effect(self, conn: AsyncConnection, applied: Applied) -> VideoTask | None:
        task = applied.task
        if isinstance(applied.transition, Created):
            await self._start(conn, task, applied.now)
        elif isinstance(applied.transition, ENDS):
            await self._end(conn, task, applied)
        return None

    async def _start(self, conn: AsyncConnection, task: VideoTask, now: float) -> None:
        spend_limits: list[tuple[str, str, int | None]] = []
        for table, row_id, whose in (
            (TN, task.tenant_id, "this key's tenant"),
            (K, task.key_id, "this key"),
        ):
            if row_id is None:
                continue  # a task of before tenants: the key's count only
            default = self.defaults.active_videos
            column = table.c.limit_active_videos
            bound = (
                or_(column.is_(None), table.c.active_videos < column)
                if default is None
                else table.c.active_videos < func.coalesce(column, default)
            )
            moved = (
                await conn.execute(
                    update(table)
                    .where(table.c.id == row_id, bound)
                    .values(active_videos=table.c.active_videos + 1)
                    .returning(table.c.limit_spend_per_day_micros)
                )
            ).first()
            if moved is None:
                limit = await self._limit(conn, table, row_id, default)
                if limit is None:
                    continue  # no such row (a key of a deleted tenant): nothing to hold it to
                raise RateLimitError(
                    f"Limit reached: {LimitKind.ACTIVE_VIDEOS.words} for {whose}: {limit}. "
                    "Wait for one to finish (or cancel one) and try again.",
                    retry_after=ACTIVE_RETRY_SECONDS,
                    limit=LimitKind.ACTIVE_VIDEOS.value,
                    scope="tenant" if table is TN else "key",
                )
            day_limit = moved[0]
            if day_limit is None and self.defaults.spend_per_day is not None:
                day_limit = to_micros(self.defaults.spend_per_day)
            prefix = "tenant" if table is TN else "key"
            spend_limits.append((f"{prefix}:{row_id}", whose, day_limit))
        if task.charge is None:
            return  # no price: nothing to count against a day's spend
        price = to_micros(task.charge.price)
        day = utc_day(now)
        for scope, whose, limit in spend_limits:
            if not await self._spend(conn, scope, day, price, limit):
                assert limit is not None
                raise RateLimitError(
                    f"Limit reached: {LimitKind.SPEND_PER_DAY.words} for {whose}: "
                    f"{from_micros(limit)} {task.charge.currency} (UTC day {day}); this video "
                    f"costs {task.charge.price}. It starts again at 00:00 UTC.",
                    retry_after=seconds_to_next_day(now),
                    limit=LimitKind.SPEND_PER_DAY.value,
                    scope=scope.split(":", 1)[0],
                )

    async def _spend(
        self, conn: AsyncConnection, scope: str, day: str, price: int, limit: int | None
    ) -> bool:
        """Add the price to the day's spend if it stays within the limit (one statement:
        the row's lock makes concurrent creates queue on it, each seeing the sum before)."""
        if limit is not None and price > limit:
            return False
        insert = dialect_insert(conn, S).values(scope=scope, day=day, micros=price)
        stmt = insert.on_conflict_do_update(
            index_elements=[S.c.scope, S.c.day],
            set_={"micros": S.c.micros + price},
            where=None if limit is None else S.c.micros + price <= limit,
        ).returning(S.c.micros)
        return (await conn.execute(stmt)).first() is not None

    async def _limit(
        self, conn: AsyncConnection, table: Table, row_id: str, default: int | None
    ) -> int | None:
        row = (
            await conn.execute(select(table.c.limit_active_videos).where(table.c.id == row_id))
        ).first()
        if row is None:
            return None
        return row[0] if row[0] is not None else default

    async def _end(self, conn: AsyncConnection, task: VideoTask, applied: Applied) -> None:
        for table, row_id in ((TN, task.tenant_id), (K, task.key_id)):
            if row_id is None:
                continue
            # Never below 0: tasks unfinished when the counts were added were counted by
            # the migration, but a row restored by hand must not go negative.
            await conn.execute(
                update(table)
                .where(table.c.id == row_id, table.c.active_videos > 0)
                .values(active_videos=table.c.active_videos - 1)
            )
        if task.charge is None or task.charge.state is not ChargeState.RESERVED:
            return
        charged = final_charge(task, applied.transition, self.policy)
        if charged is None:
            return
        back = to_micros(task.charge.price) - to_micros(charged)
        if not back:
            return
        day = utc_day(task.created_at)
        for scope in (f"tenant:{task.tenant_id}", f"key:{task.key_id}"):
            await conn.execute(
                update(S)
                .where(and_(S.c.scope == scope, S.c.day == day))
                .values(micros=S.c.micros - back)
            )

    async def queued_of(self, conn: AsyncConnection, key_id: str) -> list[str]:
        """The key's queued tasks (a revoke cancels them)."""
        stmt = select(T.c.id).where(T.c.key_id == key_id, T.c.status == TaskStatus.QUEUED.value)
        return [row[0] for row in (await conn.execute(stmt)).all()]

    async def spent_today(self, conn: AsyncConnection, scope: str, now: float) -> Decimal:
        row = (
            await conn.execute(
                select(S.c.micros).where(S.c.scope == scope, S.c.day == utc_day(now))
            )
        ).first()
        return from_micros(row[0] if row else 0)


def queued_reader(db: Database, counts: LimitCounts) -> Callable[[str], Awaitable[list[str]]]:
    """A key's queued task ids, each call in a read of its own."""

    async def read(key_id: str) -> list[str]:
        async with db.read() as conn:
            return await counts.queued_of(conn, key_id)

    return read
