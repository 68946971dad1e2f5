"""Group commit: writes queued together are committed in one transaction, each under a
savepoint of its own, so one that fails (a taken Idempotency-Key, an effect refusing) fails
alone while the others commit with their effects. On SQLite it is always on; here it is
forced on PostgreSQL too, so the same tests hold there."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection

from dblib import fresh_database_url
from lifelib import EffectLog, a_task, logged
from vidugate.domain.tasks import VideoTask
from vidugate.domain.transitions import Created
from vidugate.store.db import Database, open_database, sqlite_file
from vidugate.store.effects import Applied
from vidugate.store.tasks import DuplicateIdempotencyKeyError, TaskRepository

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    async with open_database(fresh_database_url(tmp_path), group_commit=True) as database:
        yield database


def count_commits(database: Database) -> list[int]:
    """A one-item list counting the transactions the engine commits from now on."""
    commits = [0]

    def on_commit(_conn: Any) -> None:
        commits[0] += 1

    event.listen(database.writer_engine.sync_engine, "commit", on_commit)
    return commits


class RefuseOne(EffectLog):
    """Logs every change; refuses (after writing its row) the creation of one task."""

    def __init__(self, task_id: str) -> None:
        super().__init__()
        self.task_id = task_id

    async def __call__(self, conn: AsyncConnection, applied: Applied) -> None:
        await super().__call__(conn, applied)
        if applied.task.id == self.task_id and isinstance(applied.transition, Created):
            raise RuntimeError("refused")


def tasks(count: int) -> list[VideoTask]:
    now = time.time()
    return [a_task(now) for _ in range(count)]


async def stored(repo: TaskRepository, batch: list[VideoTask]) -> list[bool]:
    return [await repo.get(task.id) is not None for task in batch]


async def test_concurrent_creates_commit_together_and_a_taken_key_fails_alone(
    database: Database,
) -> None:
    log = EffectLog()
    await log.create_table(database)
    repo = TaskRepository(database, effects=[log])
    first = a_task(time.time())
    await repo.create(first, idempotency_key="same", request_hash="h")
    batch = tasks(5)
    commits = count_commits(database)
    results = await asyncio.gather(
        *(
            repo.create(task, idempotency_key="same" if i == 2 else f"k{i}", request_hash="h")
            for i, task in enumerate(batch)
        ),
        return_exceptions=True,
    )
    assert commits == [1]  # one transaction for all five
    assert isinstance(results[2], DuplicateIdempotencyKeyError)
    assert [r for i, r in enumerate(results) if i != 2] == [None] * 4
    assert await stored(repo, batch) == [True, True, False, True, True]
    # Each create's effect is in the transaction with its insert; the refused one's is not.
    expected = [first, *batch[:2], *batch[3:]]
    assert sorted(await logged(database)) == sorted((t.id, "Created:queued") for t in expected)


async def test_an_effect_refusing_one_create_leaves_the_others_committed(
    database: Database,
) -> None:
    batch = tasks(4)
    log = RefuseOne(batch[1].id)
    await log.create_table(database)
    repo = TaskRepository(database, effects=[log])
    commits = count_commits(database)
    results = await asyncio.gather(*(repo.create(t) for t in batch), return_exceptions=True)
    assert commits == [1]
    assert isinstance(results[1], RuntimeError)
    assert [results[0], results[2], results[3]] == [None, None, None]
    assert await stored(repo, batch) == [True, False, True, True]
    # The refusing effect had written its row: it went with the savepoint.
    assert sorted(await logged(database)) == sorted(
        (t.id, "Created:queued") for t in (batch[0], batch[2], batch[3])
    )


async def test_a_failed_transaction_fails_every_write_in_it(database: Database) -> None:
    """When the transaction itself cannot commit, no caller is told its write stands."""
    repo = TaskRepository(database)
    batch = tasks(3)

    async def broken(conn: AsyncConnection) -> None:
        # Not a refusal of one statement: the database cannot be written at all (what a
        # full disk or a lost connection looks like to the writer).
        raise ConnectionResetError("the database went away")

    results = await asyncio.gather(
        *(repo.create(t) for t in batch), database.write(broken), return_exceptions=True
    )
    assert all(isinstance(r, Exception) for r in results), results
    assert await stored(repo, batch) == [False, False, False]


async def test_writes_after_a_failed_one_still_see_the_earlier_ones(database: Database) -> None:
    """The savepoint undoes only the failed write: a later write in the same transaction
    reads what the earlier ones wrote."""

    async def make(conn: AsyncConnection) -> None:
        await conn.execute(text("CREATE TABLE counter (n INTEGER)"))

    await database.write(make)

    async def add(conn: AsyncConnection) -> int:
        await conn.execute(text("INSERT INTO counter VALUES (1)"))
        return int((await conn.execute(text("SELECT count(*) FROM counter"))).scalar() or 0)

    async def refuse(conn: AsyncConnection) -> None:
        await conn.execute(text("INSERT INTO counter VALUES (1)"))
        raise ValueError("no")

    results = await asyncio.gather(
        database.write(add), database.write(refuse), database.write(add), return_exceptions=True
    )
    assert results[0] == 1
    assert isinstance(results[1], ValueError)
    assert results[2] == 2


async def test_a_lock_held_by_another_process_is_waited_for_off_the_event_loop(
    tmp_path: Path,
) -> None:
    """Another process (the CLI, a second server on the file) holding SQLite's write lock
    delays the batch, not the event loop: other coroutines run meanwhile."""
    url = fresh_database_url(tmp_path)
    path = sqlite_file(url)
    if path is None:
        pytest.skip("SQLite's own lock")
    async with open_database(url) as database:
        repo = TaskRepository(database)
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # as another process would hold it
        task = a_task(time.time())
        create = asyncio.create_task(repo.create(task))
        ticks = 0
        while ticks < 20:  # the loop keeps turning while the create waits for the lock
            await asyncio.sleep(0.01)
            ticks += 1
        assert not create.done()
        other.execute("COMMIT")
        other.close()
        await asyncio.wait_for(create, 30)
        assert await repo.get(task.id) is not None
