"""The task cache lets go of entries that can answer no read any more: a burst of creates
leaves behind only the tasks whose time to live has not run out, not LIMIT stale ones (the
gateway's memory after a load, bench/api_bench.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dblib import fresh_database_url
from lifelib import a_task
from vidugate.clock import ManualClock
from vidugate.services.cached_tasks import ACTIVE_TTL, TERMINAL_TTL_ALONE, CachedTasks
from vidugate.store.db import open_database
from vidugate.store.tasks import TaskRepository

pytestmark = pytest.mark.asyncio


async def test_expired_entries_go_as_new_ones_come(tmp_path: Path) -> None:
    clock = ManualClock()
    async with open_database(fresh_database_url(tmp_path)) as database:
        tasks = CachedTasks(TaskRepository(database), shared=False, clock=clock)
        burst = [a_task(clock.now()) for _ in range(5)]
        for task in burst:
            await tasks.create(task)
        assert tasks.size[0] == 5
        clock.advance(ACTIVE_TTL + 0.01)
        later = a_task(clock.now())
        await tasks.create(later)
        assert tasks.size[0] == 1  # the burst's entries had expired
        # Still read right: from the database, and kept again.
        found = await tasks.get(burst[0].id)
        assert found is not None
        assert found.id == burst[0].id
        assert tasks.size[0] == 2


async def test_an_entry_still_alive_is_kept(tmp_path: Path) -> None:
    clock = ManualClock()
    async with open_database(fresh_database_url(tmp_path)) as database:
        tasks = CachedTasks(TaskRepository(database), shared=False, clock=clock)
        await tasks.create(a_task(clock.now()))
        clock.advance(min(ACTIVE_TTL, TERMINAL_TTL_ALONE) / 2)
        await tasks.create(a_task(clock.now()))
        assert tasks.size[0] == 2
