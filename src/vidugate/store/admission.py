"""The admission of waiting tasks into free slots (fair scheduling, docs/scheduling.md).

Under fair scheduling a new task is stored with no next look: no worker takes it. The
admission, run by each worker before it claims, counts the slots each pool of the
provider holds (active tasks carrying the pool's id in `slot`), reads each waiting
tenant's oldest tasks, the tenants' use of the slots (held now, or given back lately) and
their weights, lets domain/scheduling.py choose, and marks the chosen tasks with their
pool and as due at once (URGENT), with a `task.admitted` event each (the timeline's), all
in one transaction: under `pg_advisory_xact_lock`
on PostgreSQL (one lock per provider, so two processes never fill the same slot twice),
through the single writer on SQLite. A slot is given back by the task ending: nothing
else to write. Waiting tasks whose deadline has passed are made due too, so the
lifecycle fails them (a waiting task is never starved of its deadline check)."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, case, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from vidugate.domain.scheduling import DEFAULT_TENANT, USAGE_WINDOW, SlotPool, Waiting, choose
from vidugate.domain.tasks import ACTIVE, TaskStatus
from vidugate.store.db import Database, is_sqlite
from vidugate.store.leases import URGENT, held
from vidugate.store.tables import TaskRow, TenantRow
from vidugate.store.task_events import admitted_events

T = cast(Table, TaskRow.__table__)
TN = cast(Table, TenantRow.__table__)
_ACTIVE = sorted(s.value for s in ACTIVE)
_QUEUED = TaskStatus.QUEUED.value


def _lock_key(provider: str) -> int:
    # A stable signed 64-bit key per provider for pg_advisory_xact_lock.
    return zlib.crc32(f"vidugate.admission.{provider}".encode()) - 2**31


def _waiting(provider: str, now: float) -> list[Any]:
    """A task waiting for a slot: queued, in no pool, never sent (nor being sent), not
    leased (a lease means a worker is looking at it now: a stop's clean-up, a deadline)."""
    return [
        T.c.status == _QUEUED,
        T.c.slot.is_(None),
        T.c.provider == provider,
        T.c.upstream_id.is_(None),
        T.c.upstream_account.is_(None),
        or_(T.c.lease_until.is_(None), T.c.lease_until < now),
    ]


def _tenant_is(tenant: str) -> Any:
    if tenant == DEFAULT_TENANT:
        return or_(T.c.tenant_id == tenant, T.c.tenant_id.is_(None))
    return T.c.tenant_id == tenant


_admit = (
    update(T)
    .where(T.c.id == bindparam("b_id"), T.c.slot.is_(None), T.c.status == _QUEUED)
    .values(
        slot=bindparam("b_slot"),
        next_poll_at=URGENT,
        lease_owner=bindparam("b_owner"),
        lease_until=bindparam("b_until"),
    )
)


class TaskAdmission:
    """Mixed into TaskRepository (as TaskLeases is), which provides the database."""

    db: Database

    async def admit(
        self,
        provider: str,
        pools: Sequence[SlotPool],
        *,
        owner: str,
        now: float,
        hold_seconds: float,
    ) -> list[tuple[str, str]]:
        """Fill the free slots of these pools with the fairest waiting tasks; the (task id,
        pool id) pairs admitted. A task admitted to a local pool is held for `owner` (its
        worker takes it; no other process may) for hold_seconds."""
        if not pools:
            return []
        # Most looks find nothing waiting: a read says so without a write or the lock.
        async with self.db.read() as conn:
            first = select(T.c.id).where(*_waiting(provider, now)).limit(1)
            if (await conn.execute(first)).first() is None:
                return []

        async def write(conn: AsyncConnection) -> list[tuple[str, str]]:
            if not is_sqlite(self.db.url):
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(provider)}
                )
            return await self._admit(conn, provider, pools, owner, now, hold_seconds)

        return await self.db.write(write)

    async def _admit(
        self,
        conn: AsyncConnection,
        provider: str,
        pools: Sequence[SlotPool],
        owner: str,
        now: float,
        hold_seconds: float,
    ) -> list[tuple[str, str]]:
        # A task counts in the pool of the account it was sent to (its provider may have
        # sent it elsewhere than its slot's account), else in its slot's.
        pool_of = case(
            (T.c.upstream_account.is_not(None), T.c.provider + ":" + T.c.upstream_account),
            else_=T.c.slot,
        )
        held_now: dict[str, int] = {
            pool: int(count)
            for pool, count in await conn.execute(
                select(pool_of, func.count())
                .where(T.c.status.in_(_ACTIVE), T.c.slot.is_not(None), T.c.provider == provider)
                .group_by(pool_of)
            )
        }
        room = {p.id: p.capacity - held_now.get(p.id, 0) for p in pools}
        free = sum(max(0, n) for n in room.values())
        if free <= 0:
            return []
        waiting = _waiting(provider, now)
        tenants = {
            row[0] or DEFAULT_TENANT
            for row in (await conn.execute(select(T.c.tenant_id).where(*waiting).distinct()))
        }
        if not tenants:
            return []
        heads: dict[str, list[Waiting]] = {}
        for tenant in sorted(tenants):
            rows = await conn.execute(
                select(T.c.id, T.c.priority, T.c.created_at)
                .where(*waiting, _tenant_is(tenant))
                .order_by(T.c.priority, T.c.created_at, T.c.id)
                .limit(free)
            )
            heads[tenant] = [Waiting(r.id, tenant, r.priority, r.created_at) for r in rows]
        use: dict[str, int] = {}
        holding = and_(T.c.status.in_(_ACTIVE), T.c.slot.is_not(None))
        lately = and_(T.c.completed_at > now - USAGE_WINDOW, T.c.slot.is_not(None))
        for where in (holding, lately):
            for tenant_id, count in await conn.execute(
                select(T.c.tenant_id, func.count())
                .where(where, T.c.provider == provider)
                .group_by(T.c.tenant_id)
            ):
                key = tenant_id or DEFAULT_TENANT
                use[key] = use.get(key, 0) + int(count)
        weights = {
            row.id: int(row.weight)
            for row in await conn.execute(
                select(TN.c.id, TN.c.weight).where(TN.c.id.in_(sorted(tenants)))
            )
        }
        chosen = choose(free, use, weights, heads)
        # Each to the pool with the most room for its weight (spreads a burst over the
        # accounts as the provider's own choice would).
        pairs: list[tuple[str, SlotPool]] = []
        by_id = {p.id: p for p in pools}
        for task in chosen:
            pool_id = max(room, key=lambda pid: (room[pid] > 0, room[pid] * by_id[pid].weight))
            if room[pool_id] <= 0:
                break
            room[pool_id] -= 1
            pairs.append((task.id, by_id[pool_id]))
        if not pairs:
            return []
        await conn.execute(
            _admit,
            [
                {
                    "b_id": task_id,
                    "b_slot": pool.id,
                    "b_owner": held(owner) if pool.local else None,
                    "b_until": now + hold_seconds if pool.local else None,
                }
                for task_id, pool in pairs
            ],
        )
        # The timeline's `task.admitted`, for the tasks the update did take (one cancelled
        # since the read above kept no slot), in this same transaction.
        ids = [task_id for task_id, _pool in pairs]
        taken = await conn.execute(
            select(T.c.id, T.c.slot, T.c.created_at).where(T.c.id.in_(ids), T.c.slot.is_not(None))
        )
        # Never before its creation: the worker's `now` was read before this look began.
        await admitted_events(conn, [(row.id, row.slot, max(now, row.created_at)) for row in taken])
        return [(task_id, pool.id) for task_id, pool in pairs]

    async def wake_overdue(self, provider: str, now: float) -> int:
        """Make waiting tasks past their deadline due, so a worker fails them."""
        stmt = (
            update(T)
            .where(*_waiting(provider, now), T.c.deadline_at <= now, T.c.next_poll_at.is_(None))
            .values(next_poll_at=URGENT)
        )
        return await self.db.run(stmt)


__all__ = ["TaskAdmission"]
