"""The admission on a real database (store/admission.py, domain/scheduling.py): free slots
go to the tenant with the lowest use for its weight, the oldest task first, off_peak last;
a pool is never filled past its capacity, not even by admissions racing each other; a
waiting task past its deadline is made due."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import pytest
import pytest_asyncio
from sqlalchemy import Table, update

from dblib import fresh_database_url, query
from lifelib import a_task
from vidugate.domain.ledger import DEFAULT_TENANT
from vidugate.domain.scheduling import SlotPool
from vidugate.domain.tasks import TaskStatus
from vidugate.store.db import Database, open_database
from vidugate.store.tables import TaskRow, TenantRow
from vidugate.store.tasks import URGENT, TaskRepository

pytestmark = pytest.mark.asyncio

POOL = SlotPool("fake:pool", 3)
T = cast(Table, TaskRow.__table__)


@pytest_asyncio.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    async with open_database(fresh_database_url(tmp_path)) as database:
        yield database


async def tenant(database: Database, tenant_id: str, weight: int = 1) -> None:
    await database.run(
        cast(Table, TenantRow.__table__)
        .insert()
        .values(
            id=tenant_id, name=tenant_id, balance_micros=0, created_at=time.time(), weight=weight
        )
    )


async def make(
    repo: TaskRepository, tenant_id: str | None, count: int, *, off_peak: bool = False
) -> list[str]:
    ids = []
    for _ in range(count):
        task = a_task(time.time())
        request = dataclasses.replace(task.request, off_peak=off_peak)
        task = dataclasses.replace(task, tenant_id=tenant_id, request=request)
        await repo.create(task)
        ids.append(task.id)
        await asyncio.sleep(0.001)  # distinct created_at
    return ids


async def finish(database: Database, task_ids: list[str]) -> None:
    """End tasks (their slots free up), as if they had completed just now."""
    await database.run(
        update(T)
        .where(T.c.id.in_(task_ids))
        .values(status=TaskStatus.COMPLETED.value, completed_at=time.time())
    )


async def admit(repo: TaskRepository, pool: SlotPool = POOL) -> list[str]:
    pairs = await repo.admit("fake", [pool], owner="w", now=time.time(), hold_seconds=30)
    return [task_id for task_id, _pool in pairs]


async def test_new_tasks_of_a_waiting_provider_are_not_due(database: Database) -> None:
    repo = TaskRepository(database, waiting_providers=frozenset({"fake"}))
    (task_id,) = await make(repo, "tenant_a", 1)
    assert await repo.claim_due("w", now=time.time(), lease_until=time.time() + 30, limit=10) == []
    admitted = await admit(repo)
    assert admitted == [task_id]
    claimed = await repo.claim_due("w", now=time.time(), lease_until=time.time() + 30, limit=10)
    assert [t.id for t in claimed] == [task_id]
    assert claimed[0].slot == POOL.id


async def test_a_light_tenant_goes_before_a_flood(database: Database) -> None:
    repo = TaskRepository(database, waiting_providers=frozenset({"fake"}))
    flood = await make(repo, "tenant_a", 40)
    first = await admit(repo)
    assert first == flood[:3]  # alone, the flood takes every slot, oldest first
    light = await make(repo, "tenant_b", 2)
    await finish(database, first[:1])
    assert await admit(repo) == light[:1]  # the first slot to free goes to B
    await finish(database, first[1:2])
    assert await admit(repo) == light[1:2]


async def test_a_pool_is_never_filled_past_its_capacity(database: Database) -> None:
    repo = TaskRepository(database, waiting_providers=frozenset({"fake"}))
    await make(repo, "tenant_a", 30)
    # Ten admissions at once (on PostgreSQL, each its own transaction under the lock).
    results = await asyncio.gather(*(admit(repo) for _ in range(10)))
    assert sum(len(r) for r in results) == POOL.capacity
    rows = await query(database.url, "SELECT count(*) FROM tasks WHERE slot IS NOT NULL")
    assert rows[0][0] == POOL.capacity


async def test_weights_share_the_slots(database: Database) -> None:
    await tenant(database, "tenant_a", weight=2)
    await tenant(database, "tenant_b", weight=1)
    repo = TaskRepository(database, waiting_providers=frozenset({"fake"}))
    a = set(await make(repo, "tenant_a", 40))
    b = set(await make(repo, "tenant_b", 40))
    pool = SlotPool("fake:pool", 2)
    order: list[str] = []
    running = await admit(repo, pool)
    order += running
    while len(order) < 30:
        await finish(database, running[:1])  # one slot frees at a time
        running = running[1:]
        new = await admit(repo, pool)
        order += new
        running += new
    assert sum(1 for t in order if t in a) == 20
    assert sum(1 for t in order if t in b) == 10


async def test_off_peak_goes_after_every_normal_task(database: Database) -> None:
    repo = TaskRepository(database, waiting_providers=frozenset({"fake"}))
    late = await make(repo, "tenant_a", 3, off_peak=True)
    normal = await make(repo, "tenant_b", 3) + await make(repo, "tenant_a", 2)
    admitted = await admit(repo, SlotPool("fake:pool", 8))
    assert set(admitted[:5]) == set(normal)
    assert admitted[5:] == late


async def test_tasks_made_before_tenants_count_as_the_default_tenant(database: Database) -> None:
    repo = TaskRepository(database, waiting_providers=frozenset({"fake"}))
    old = await make(repo, None, 2)
    new = await make(repo, DEFAULT_TENANT, 2)
    other = await make(repo, "tenant_b", 1)
    admitted = await admit(repo, SlotPool("fake:pool", 3))
    # The default tenant's two oldest (one of them NULL), then B: use 0 for B beats 1.
    assert admitted == [old[0], other[0], old[1]]
    assert new[0] not in admitted


async def test_a_waiting_task_past_its_deadline_is_made_due(database: Database) -> None:
    repo = TaskRepository(database, waiting_providers=frozenset({"fake"}))
    (task_id,) = await make(repo, "tenant_a", 1)
    await database.run(update(T).where(T.c.id == task_id).values(deadline_at=time.time() - 1))
    assert await repo.wake_overdue("fake", time.time()) == 1
    rows = await query(database.url, "SELECT next_poll_at FROM tasks")
    assert rows[0][0] == URGENT
