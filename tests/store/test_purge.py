"""The sweeper's purge of finished task rows on a real database (both backends: run with
VIDUGATE_TEST_BACKEND=postgres too) and real files: what it removes, what it must leave,
and how much one sweep does. Time is an input: rows get old timestamps, `now` is passed."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from dblib import fresh_database_url, write_row
from lifelib import a_task
from vidugate.clock import SystemClock
from vidugate.domain.tasks import TaskStatus, VideoTask
from vidugate.files.local import LocalFileStore
from vidugate.services.cached_tasks import CachedTasks
from vidugate.services.lifecycle import input_prefix, result_prefix
from vidugate.services.retention import purge_finished
from vidugate.store.db import open_database
from vidugate.store.tasks import URGENT, TaskRepository

pytestmark = pytest.mark.asyncio

DAY = 24 * 3600.0
RETENTION = 30 * DAY


@dataclass
class World:
    tasks: CachedTasks
    files: LocalFileStore
    media: Path


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with open_database(fresh_database_url(tmp_path)) as database:
        media = tmp_path / "media"
        tasks = CachedTasks(TaskRepository(database), shared=True, clock=SystemClock())
        yield World(tasks, LocalFileStore(media), media)


async def _task(world: World, *, finished_days_ago: float | None, **values: object) -> VideoTask:
    """A task with an input image and a result file; finished that long ago (None: still
    running), as the row says (written past the store: its times are the test's input)."""
    task = a_task(time.time())
    await world.tasks.create(task)
    for key in (f"{input_prefix(task.id)}/image0", f"{result_prefix(task.id)}/a/video.mp4"):
        path = world.media / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    changes: dict[str, object] = {"next_poll_at": None}
    if finished_days_ago is not None:
        done = time.time() - finished_days_ago * DAY
        changes |= {"status": TaskStatus.COMPLETED.value, "completed_at": done}
    changes |= values
    assert await write_row(world.tasks.repo.db.url, "tasks", task.id, changes) == 1
    updated = await world.tasks.repo.get(task.id)
    assert updated is not None
    return updated


def _has_files(world: World, task: VideoTask) -> bool:
    return any(
        (world.media / prefix).exists()
        for prefix in (input_prefix(task.id), result_prefix(task.id))
    )


async def test_an_old_finished_row_is_purged_with_its_files(world: World) -> None:
    old = await _task(world, finished_days_ago=31)
    failed = await _task(world, finished_days_ago=40, status=TaskStatus.FAILED.value)
    recent = await _task(world, finished_days_ago=29)
    running = await _task(world, finished_days_ago=None)
    # A stopped task whose clean-up step has not run yet: a worker still needs the row.
    pending = await _task(world, finished_days_ago=60, next_poll_at=URGENT)
    purged = await purge_finished(world.tasks, world.files, now=time.time(), retention=RETENTION)
    assert purged == 2
    for gone in (old, failed):
        assert await world.tasks.repo.get(gone.id) is None
        assert await world.tasks.get(gone.id) is None  # not answered from the cache either
        assert not _has_files(world, gone)
    for kept in (recent, running, pending):
        assert await world.tasks.repo.get(kept.id) is not None
        assert _has_files(world, kept)


async def test_its_idempotency_key_goes_with_the_row(world: World) -> None:
    task = a_task(time.time())
    await world.tasks.create(task, idempotency_key="order-42", request_hash="h")
    done = {"status": "completed", "completed_at": time.time() - 31 * DAY, "next_poll_at": None}
    assert await write_row(world.tasks.repo.db.url, "tasks", task.id, done) == 1
    assert await world.tasks.repo.find_idempotent(task.key_id, "order-42") is not None
    await purge_finished(world.tasks, world.files, now=time.time(), retention=RETENTION)
    assert await world.tasks.repo.find_idempotent(task.key_id, "order-42") is None
    await world.tasks.create(a_task(time.time()), idempotency_key="order-42", request_hash="h")


async def test_one_sweep_purges_a_bounded_batch_oldest_first(world: World) -> None:
    tasks = [await _task(world, finished_days_ago=31 + i) for i in range(5)]
    now = time.time()
    assert (
        await purge_finished(world.tasks, world.files, now=now, retention=RETENTION, limit=2) == 2
    )
    left = {t.id for t in tasks if await world.tasks.repo.get(t.id) is not None}
    assert left == {t.id for t in tasks[:3]}  # the two finished longest ago went first
    assert (
        await purge_finished(world.tasks, world.files, now=now, retention=RETENTION, limit=2) == 2
    )
    assert (
        await purge_finished(world.tasks, world.files, now=now, retention=RETENTION, limit=2) == 1
    )
    assert (
        await purge_finished(world.tasks, world.files, now=now, retention=RETENTION, limit=2) == 0
    )
