"""The worker loop in the test process, on a real database (both backends) and a
ManualClock: it claims what is due, runs the steps, renews the leases of steps that take
long, writes hand-backs in batches, hands its leases back when it stops, and reclaims
those of its own dead process. Nothing waits on real time: the clock is moved."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import event

from fakeprovider import SUCCEEDED, FakeProvider, running
from lifelib import LEASE, World, eventually, open_world
from vidugate.domain.tasks import TaskStatus
from vidugate.providers.base import ProviderJob
from vidugate.store.tasks import held
from vidugate.workers.runner import FLUSH_EVERY, IDLE_TICK, Worker

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(tmp_path, FakeProvider(poll_interval=1.0)) as world:
        yield world


@contextlib.asynccontextmanager
async def working(world: World, *, grace: float = 0.0) -> AsyncIterator[Worker]:
    worker = Worker(
        world.lifecycle,
        world.tasks,
        clock=world.clock,
        concurrency=50,
        lease_seconds=LEASE,
        shutdown_grace=grace,
    )
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop()


class Gate:
    """Holds the provider's calls of one kind until opened; says when one is held."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.opened = asyncio.Event()

    async def __call__(self, _job: ProviderJob) -> None:
        self.entered.set()
        await self.opened.wait()


async def test_a_task_is_run_to_its_end(world: World) -> None:
    task = await world.new_task()
    world.provider.script(task.id, running(30), running(60), SUCCEEDED)
    async with working(world) as worker:
        worker.wake()

        async def completed() -> bool:
            return (await world.row(task.id)).status is TaskStatus.COMPLETED

        await eventually(completed, "completed", clock=world.clock, advance=0.25)
    assert len(world.provider.calls.looks) == 3
    assert (await world.lease(task.id))[0] is None


async def test_hand_backs_are_written_in_one_batch(world: World) -> None:
    tasks = [await world.new_task(images=0) for _ in range(20)]
    batches: list[int] = []

    def count(_conn: Any, _cursor: Any, statement: str, params: Any, _ctx: Any, many: bool) -> None:
        if many and statement.lstrip().upper().startswith("UPDATE TASKS"):
            batches.append(len(params))

    engine = world.database.writer_engine.sync_engine  # where the queued writes run
    event.listen(engine, "before_cursor_execute", count)
    try:
        async with working(world) as worker:
            worker.wake()

            async def all_stepped() -> bool:
                return worker.running == 0 and worker.unwritten == len(tasks)

            await eventually(all_stepped, "every create stepped")
            # Nothing is written per step: all twenty are still leased, until a flush.
            assert [(await world.lease(t.id))[0] for t in tasks] == [worker.owner] * len(tasks)
            stepped_at = world.clock.now()
            world.clock.advance(FLUSH_EVERY)

            async def written() -> bool:
                return worker.unwritten == 0 and batches == [len(tasks)]

            await eventually(written, "one batch written")

            # The batch counted above is sent, not yet committed (a commit takes a while on
            # a loaded PostgreSQL): its rows are read once it is.
            async def committed() -> bool:
                return [(await world.lease(t.id))[0] for t in tasks] == [None] * len(tasks)

            await eventually(committed, "the batch committed")
            for task in tasks:
                owner, _until, next_at = await world.lease(task.id)
                assert (owner, next_at) == (None, stepped_at + world.provider.poll_interval)
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_the_lease_of_a_long_step_is_renewed(world: World) -> None:
    task = await world.new_task()
    gate = Gate()
    world.provider.hooks["submit"] = gate
    async with working(world) as worker:
        worker.wake()
        await gate.entered.wait()
        claimed_at = world.clock.now()
        assert (await world.lease(task.id))[1] == claimed_at + LEASE
        world.clock.advance(LEASE / 3 + IDLE_TICK)

        async def renewed() -> bool:
            return (await world.lease(task.id))[1] == world.clock.now() + LEASE

        await eventually(renewed, "the lease renewed")
        # Past the first lease's end, nobody else may take the task.
        world.clock.advance(LEASE * 2 / 3)
        assert await world.tasks.claim("other", lease_seconds=LEASE, limit=10) == []
        gate.opened.set()


async def test_a_stopping_worker_hands_its_leases_back_at_once(world: World) -> None:
    task = await world.new_task()
    gate = Gate()
    world.provider.hooks["submit"] = gate
    async with working(world) as worker:
        worker.wake()
        await gate.entered.wait()
    # The step was cancelled; the task is due now, for whoever is next.
    owner, until, next_at = await world.lease(task.id)
    assert (owner, until, next_at) == (None, None, world.clock.now())
    taken = await world.tasks.claim("next", lease_seconds=LEASE, limit=10)
    assert [t.id for t in taken] == [task.id]


async def test_a_stopping_worker_lets_a_step_end_within_its_grace(world: World) -> None:
    task = await world.new_task()
    gate = Gate()
    world.provider.hooks["submit"] = gate
    async with working(world, grace=10) as worker:
        worker.wake()
        await gate.entered.wait()
        stopping = asyncio.create_task(worker.stop())
        world.clock.advance(5)  # half the grace: still waiting for the step
        await asyncio.sleep(0.05)
        assert not stopping.done()
        gate.opened.set()
        await stopping
    assert (await world.row(task.id)).status is TaskStatus.PROCESSING  # the step ended
    assert (await world.lease(task.id))[0] is None


async def test_a_step_past_the_grace_is_cancelled(world: World) -> None:
    task = await world.new_task()
    gate = Gate()
    world.provider.hooks["submit"] = gate
    async with working(world, grace=10) as worker:
        worker.wake()
        await gate.entered.wait()
        stopping = asyncio.create_task(worker.stop())
        await asyncio.sleep(0.01)
        world.clock.advance(10)
        await stopping
    assert (await world.row(task.id)).status is TaskStatus.QUEUED
    assert (await world.lease(task.id))[:2] == (None, None)


async def test_a_job_in_this_process_keeps_its_task_held_between_looks(tmp_path: Path) -> None:
    async with open_world(tmp_path, FakeProvider(poll_interval=1.0, jobs_in_process=True)) as w:
        task = await w.new_task()
        async with working(w) as worker:
            worker.wake()

            async def held_between_looks() -> bool:
                return (await w.lease(task.id))[0] == held(worker.owner)

            await eventually(held_between_looks, "held", clock=w.clock, advance=FLUSH_EVERY)
            w.clock.advance(2.0)  # due again, but only for its holder
            assert await w.tasks.claim("other", lease_seconds=LEASE, limit=10) == []


def _dead_pid() -> int:
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid += 1


async def test_leases_of_a_dead_local_process_are_taken_back_at_start(world: World) -> None:
    task = await world.new_task()
    dead = f"{socket.gethostname()}:{_dead_pid()}:0bad"
    assert await world.tasks.claim(dead, lease_seconds=3600, limit=10) != []
    world.provider.script(task.id, SUCCEEDED)
    async with working(world) as worker:
        worker.wake()

        async def completed() -> bool:
            return (await world.row(task.id)).status is TaskStatus.COMPLETED

        # Well inside the dead owner's hour-long lease.
        await eventually(completed, "completed", clock=world.clock, advance=0.25)
    assert world.clock.now() - (await world.row(task.id)).created_at < 3600
