"""The sweeper on a ManualClock, on a real database (both backends) and a real file store:
a finished task's content expires at its keep-until time (the `Expired` transition, its
files removed, content then 410), rows finished longer ago than the row retention are
purged with every file under them, used nonces go, and a full batch brings the next
sweep forward. Time is moved, never waited out."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from dblib import query
from fakeprovider import SUCCEEDED
from lifelib import KEY, RETENTION, World, eventually, open_world
from vidugate.domain.tasks import TaskStatus
from vidugate.errors import GoneError, NotFoundError
from vidugate.services.content import Variant
from vidugate.services.retention import Retention
from vidugate.store.nonces import NonceRepository
from vidugate.workers.sweeper import CATCH_UP_SECONDS, Sweeper

pytestmark = pytest.mark.asyncio

DAY = 24 * 3600.0
INTERVAL = 60.0
ROWS_KEPT = 30 * DAY


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(tmp_path) as world:
        yield world


@contextlib.asynccontextmanager
async def sweeping(world: World, *, batch: int = 500) -> AsyncIterator[Sweeper]:
    retention = Retention(
        world.tasks,
        world.files,
        NonceRepository(world.database),
        row_retention=ROWS_KEPT,
        batch=batch,
    )
    sweeper = Sweeper(retention, clock=world.clock, interval=INTERVAL)
    await sweeper.start()
    try:
        yield sweeper
    finally:
        await sweeper.stop()


async def completed(world: World) -> str:
    task = await world.new_task()
    world.provider.script(task.id, SUCCEEDED)
    await world.step()
    world.clock.advance(world.provider.poll_interval)
    await world.step()
    assert (await world.row(task.id)).status is TaskStatus.COMPLETED
    return task.id


async def asleep(world: World) -> bool:
    """The sweeper has finished its sweep and sleeps until the next."""
    return bool(world.clock.sleeping())


async def test_content_expires_at_its_keep_until_time(world: World) -> None:
    task_id = await completed(world)
    expires_at = (await world.row(task_id)).expires_at
    assert expires_at == world.clock.now() + RETENTION
    async with sweeping(world):
        await eventually(lambda: asleep(world), "the first sweep")
        # Sweeps before the keep-until time leave it alone.
        world.clock.advance(RETENTION - INTERVAL)
        await eventually(lambda: asleep(world), "a sweep before expiry")
        task = await world.videos.get(KEY, task_id)
        assert (await world.videos.content(task, Variant.VIDEO)).size > 0
        assert world.result_files(task_id)
        world.clock.advance(INTERVAL)  # the keep-until time has come: so has a sweep

        async def expired() -> bool:
            return (await world.row(task_id)).video_key is None

        await eventually(expired, "the content expired")
    row = await world.row(task_id)
    assert row.status is TaskStatus.COMPLETED  # the task itself stays as it ended
    assert (row.thumbnail_key, row.spritesheet_key) == (None, None)
    assert world.result_files(task_id) == []
    task = await world.videos.get(KEY, task_id)
    with pytest.raises(GoneError, match="expired"):
        await world.videos.content(task, Variant.VIDEO)


async def test_content_answers_gone_from_its_keep_until_time_even_before_a_sweep(
    world: World,
) -> None:
    task_id = await completed(world)
    world.clock.advance(RETENTION)
    task = await world.videos.get(KEY, task_id)
    assert world.result_files(task_id)  # still on disk: no sweep has run
    with pytest.raises(GoneError, match="expired"):
        await world.videos.content(task, Variant.VIDEO)


async def test_old_finished_rows_are_purged_with_their_files(world: World) -> None:
    old = await completed(world)
    world.clock.advance(2 * DAY)
    recent = await completed(world)
    running = await world.new_task()
    async with sweeping(world):
        await eventually(lambda: asleep(world), "the first sweep")
        world.clock.advance(ROWS_KEPT - DAY)  # 31 days after the first, 29 after the second

        async def purged() -> bool:
            return await world.repo.get(old) is None

        await eventually(purged, "the old row purged")
    assert await world.tasks.get(old) is None  # nor answered from the cache
    with pytest.raises(NotFoundError):
        await world.videos.get(KEY, old)
    assert world.result_files(old) == []
    assert world.input_files(old) == []
    assert await world.repo.get(recent) is not None
    assert (await world.row(running.id)).status is TaskStatus.QUEUED
    assert world.input_files(running.id)


async def test_a_full_batch_brings_the_next_sweep_forward(world: World) -> None:
    ids = [await completed(world) for _ in range(5)]
    world.clock.advance(RETENTION)

    async def left() -> int:
        return sum([(await world.row(task_id)).video_key is not None for task_id in ids])

    async with sweeping(world, batch=2):

        async def swept(count: int) -> bool:
            return await left() == count and await asleep(world)

        await eventually(lambda: swept(3), "the first batch")
        assert world.clock.sleeping() == [CATCH_UP_SECONDS]
        world.clock.advance(CATCH_UP_SECONDS)
        await eventually(lambda: swept(1), "the second batch")
        world.clock.advance(CATCH_UP_SECONDS)
        await eventually(lambda: swept(0), "the last one")
        assert world.clock.sleeping() == [INTERVAL]  # no more: back to the interval


async def test_used_nonces_are_forgotten_once_they_cannot_be_replayed(world: World) -> None:
    nonces = NonceRepository(world.database)
    keep_until = world.clock.now() + 600
    assert await nonces.use("vidu:n-1", keep_until)
    async with sweeping(world):
        await eventually(lambda: asleep(world), "the first sweep")
        assert not await nonces.use("vidu:n-1", keep_until)  # still a replay
        world.clock.advance(600 + INTERVAL)

        async def forgotten() -> bool:
            return await query(world.url, "SELECT count(*) FROM callback_nonces") == [(0,)]

        await eventually(forgotten, "the nonce purged")
    assert await nonces.use("vidu:n-1", world.clock.now() + 600)
