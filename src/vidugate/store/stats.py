"""The database's side of /metrics: four grouped reads (tasks by state, model and provider;
each tenant's waiting tasks; ledger totals by kind; tenants' balances), in one connection.
Each returns a row a group, never a row a task: the queue's read is on the admission
index (status first), the others scan their tables once."""

from __future__ import annotations

from typing import cast

from sqlalchemy import BigInteger, Table, func, select
from sqlalchemy import cast as cast_to

from vidugate.domain.tasks import TaskStatus
from vidugate.metrics import (
    NO_TENANT,
    LedgerTotal,
    StateSnapshot,
    TaskCount,
    TenantBalance,
    TenantQueue,
)
from vidugate.store.db import Database
from vidugate.store.tables import LedgerRow, TaskRow, TenantRow

T = cast(Table, TaskRow.__table__)
L = cast(Table, LedgerRow.__table__)
TN = cast(Table, TenantRow.__table__)
MICROS = 1_000_000


async def read_state(db: Database, now: float) -> StateSnapshot:
    """The figures as the database has them now (`read_seconds` is left for the caller)."""
    by_state = select(T.c.status, T.c.model, T.c.provider, func.count()).group_by(
        T.c.status, T.c.model, T.c.provider
    )
    queues = (
        select(T.c.tenant_id, func.count(), func.min(T.c.created_at))
        .where(T.c.status == TaskStatus.QUEUED.value)
        .group_by(T.c.tenant_id)
    )
    # Summed as integers (micros): exact on both backends, turned into currency units once.
    ledger = select(
        L.c.kind, func.count(), func.coalesce(func.sum(cast_to(L.c.amount_micros, BigInteger)), 0)
    ).group_by(L.c.kind)
    balances = select(TN.c.id, TN.c.balance_micros)
    async with db.read() as conn:
        task_rows = (await conn.execute(by_state)).all()
        queue_rows = (await conn.execute(queues)).all()
        ledger_rows = (await conn.execute(ledger)).all()
        balance_rows = (await conn.execute(balances)).all()
    return StateSnapshot(
        tasks=tuple(TaskCount(s, m, p, int(n)) for s, m, p, n in task_rows),
        queues=tuple(
            TenantQueue(tenant or NO_TENANT, int(n), max(0.0, now - float(oldest)))
            for tenant, n, oldest in queue_rows
        ),
        ledger=tuple(LedgerTotal(k, int(n), int(total) / MICROS) for k, n, total in ledger_rows),
        balances=tuple(TenantBalance(tid, int(micros) / MICROS) for tid, micros in balance_rows),
    )
