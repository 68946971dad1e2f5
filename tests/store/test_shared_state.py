"""What several processes share through the database: claims split without overlap, used
nonces, account health. Run on both backends (VIDUGATE_TEST_BACKEND)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from dblib import fresh_database_url
from lifelib import a_task
from vidugate.domain.accounts import AccountHealth, AccountState
from vidugate.store.accounts import AccountRepository
from vidugate.store.db import Database, open_database
from vidugate.store.nonces import NonceRepository
from vidugate.store.tasks import TaskRepository

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def url(tmp_path: Path) -> AsyncIterator[str]:
    url = fresh_database_url(tmp_path)
    async with open_database(url):  # migrated once, then used by several "processes"
        pass
    yield url


async def test_concurrent_claimers_never_share_a_task(url: str) -> None:
    # Each claimer has its own engine (its own connections), as separate processes would.
    databases = [Database(url) for _ in range(6)]
    try:
        repos = [TaskRepository(db) for db in databases]
        now = time.time()
        tasks = [a_task(now) for _ in range(300)]
        for task in tasks:
            await repos[0].create(task)

        async def claim_all(index: int) -> list[str]:
            got: list[str] = []
            while True:
                batch = await repos[index].claim_due(
                    f"w{index}", now=now, lease_until=now + 60, limit=7
                )
                if not batch:
                    return got
                got.extend(t.id for t in batch)

        claims = await asyncio.gather(*(claim_all(i) for i in range(len(repos))))
        every = [task_id for claimed in claims for task_id in claimed]
        assert sorted(every) == sorted(t.id for t in tasks)  # each exactly once
        assert sum(1 for claimed in claims if claimed) > 1  # and the work was split
    finally:
        for db in databases:
            await db.dispose()


async def test_a_nonce_is_used_once_across_processes(url: str) -> None:
    first, second = Database(url), Database(url)
    try:
        until = time.time() + 600
        results = await asyncio.gather(
            NonceRepository(first).use("vidu:n-1", until),
            NonceRepository(second).use("vidu:n-1", until),
        )
        assert sorted(results) == [False, True]
        assert await NonceRepository(first).use("vidu:n-2", until)
        # Purged once past its keep-until time, a nonce's Date alone refuses it.
        assert await NonceRepository(first).purge(until + 1) == 2
    finally:
        await first.dispose()
        await second.dispose()


async def test_account_health_saved_by_two_processes_at_once(url: str) -> None:
    first, second = Database(url), Database(url)
    try:
        now = time.time()
        states = [
            AccountState("acc", "vidu", AccountHealth.THROTTLED, "429", now + 5, now),
            AccountState("acc", "vidu", AccountHealth.DISABLED, "401", None, now),
        ]
        await asyncio.gather(
            AccountRepository(first).save(states[0]), AccountRepository(second).save(states[1])
        )
        saved = await AccountRepository(first).all("vidu")
        assert len(saved) == 1
        assert saved[0] in states
    finally:
        await first.dispose()
        await second.dispose()
