"""Races between a worker's step and everything else that may change the task meanwhile,
staged inside the scripted provider's calls (tests/fakeprovider.py): a cancel or a delete
while the create is on its way or the result is being copied, the deadline passing, two
workers on one task. The database decides each; the loser undoes what it did, and every
task records exactly one end (an effect logged with each change, as money will be)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from fakeprovider import SUCCEEDED, RecoverableFake, running
from lifelib import KEY, LEASE, EffectLog, World, logged, open_world
from vidugate.domain.tasks import TaskStatus
from vidugate.errors import NotFoundError
from vidugate.providers.base import ProviderJob
from vidugate.services.lifecycle import Next

pytestmark = pytest.mark.asyncio

ENDS = ("Completed", "Failed", "Cancelled")


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(tmp_path, effects=[EffectLog()]) as world:
        yield world


async def ends(world: World, task_id: str) -> list[str]:
    """The end transitions the task went through, as its effects recorded them."""
    changes = [change for tid, change in await logged(world.database) if tid == task_id]
    return [change for change in changes if change.startswith(ENDS)]


async def processing(world: World) -> str:
    task = await world.new_task()
    await world.step()
    world.clock.advance(world.provider.poll_interval)
    return task.id


async def test_a_cancel_and_the_result_copy_racing_the_cancel_wins(world: World) -> None:
    task_id = await processing(world)
    world.provider.script(task_id, SUCCEEDED)

    async def cancel(_job: ProviderJob) -> None:
        await world.videos.cancel(KEY, task_id)

    world.provider.hooks["fetch_result"] = cancel
    assert await world.step() == {task_id: Next(None)}
    row = await world.row(task_id)
    assert (row.status, row.video_key) == (TaskStatus.CANCELLED, None)
    assert world.result_files(task_id) == []  # the copy made meanwhile is removed
    assert await ends(world, task_id) == ["Cancelled:cancelled"]
    # The cancel poked it: its clean-up step still comes, and takes the job back.
    del world.provider.hooks["fetch_result"]
    assert await world.step() == {task_id: Next(None)}
    assert world.provider.calls.cancels[-1].upstream_id == f"up_{task_id}"
    assert world.input_files(task_id) == []


async def test_a_delete_during_the_result_copy_leaves_nothing(world: World) -> None:
    task_id = await processing(world)
    world.provider.script(task_id, SUCCEEDED)

    async def delete(_job: ProviderJob) -> None:
        await world.videos.delete(KEY, task_id)

    world.provider.hooks["fetch_result"] = delete
    await world.step()
    del world.provider.hooks["fetch_result"]
    await world.step()  # the delete's clean-up step
    with pytest.raises(NotFoundError):
        await world.videos.get(KEY, task_id)
    row = await world.row(task_id)
    assert row.status is TaskStatus.CANCELLED
    assert row.deleted_at == world.clock.now()
    assert world.result_files(task_id) == []
    assert world.input_files(task_id) == []
    assert await ends(world, task_id) == ["Cancelled:cancelled"]


async def test_a_delete_of_a_finished_task_keeps_its_end(world: World) -> None:
    task_id = await processing(world)
    world.provider.script(task_id, SUCCEEDED)
    await world.step()
    assert world.result_files(task_id)
    await world.videos.delete(KEY, task_id)
    row = await world.row(task_id)
    assert (row.status, row.deleted_at) == (TaskStatus.COMPLETED, world.clock.now())
    assert world.result_files(task_id) == []
    assert await ends(world, task_id) == ["Completed:completed"]


async def test_a_cancel_before_the_create_is_sent_sends_nothing(tmp_path: Path) -> None:
    async with open_world(tmp_path, RecoverableFake()) as world:
        task = await world.new_task()
        (claimed,) = await world.tasks.claim("w1", lease_seconds=LEASE, limit=1)
        await world.videos.cancel(KEY, task.id)
        # The step began with the task queued; its intent is refused: nothing is sent.
        assert await world.lifecycle.step(claimed, "w1") == Next(None)
        assert world.provider.calls.submits == []
        assert (await world.row(task.id)).upstream_account is None


async def test_a_cancel_while_the_create_is_on_its_way_takes_the_job_back(
    world: World,
) -> None:
    task = await world.new_task()

    async def cancel(_job: ProviderJob) -> None:
        await world.videos.cancel(KEY, task.id)

    world.provider.hooks["submit"] = cancel
    assert await world.step() == {task.id: Next(None)}
    row = await world.row(task.id)
    assert (row.status, row.upstream_id) == (TaskStatus.CANCELLED, None)
    # Accepted upstream after the cancel won: cancelled there at once.
    assert [job.upstream_id for job in world.provider.calls.cancels] == [f"up_{task.id}"]
    assert world.provider.jobs == set()
    assert await ends(world, task.id) == ["Cancelled:cancelled"]


async def test_past_its_deadline_a_task_fails_even_if_the_upstream_succeeded(
    world: World,
) -> None:
    task_id = await processing(world)
    world.provider.script(task_id, SUCCEEDED)
    world.clock.advance((await world.row(task_id)).deadline_at - world.clock.now())
    await world.step()
    row = await world.row(task_id)
    assert row.status is TaskStatus.FAILED
    assert row.error is not None
    assert row.error.code == "timeout"
    assert world.provider.calls.fetches == []
    assert world.result_files(task_id) == []
    assert await ends(world, task_id) == ["Failed:failed"]


async def test_a_deadline_passing_during_the_copy_does_not_undo_the_result(
    world: World,
) -> None:
    task_id = await processing(world)
    world.provider.script(task_id, SUCCEEDED)
    deadline = (await world.row(task_id)).deadline_at

    async def late(_job: ProviderJob) -> None:
        world.clock.advance(deadline - world.clock.now() + 1)

    world.provider.hooks["fetch_result"] = late
    await world.step()
    row = await world.row(task_id)
    assert row.status is TaskStatus.COMPLETED
    assert row.completed_at is not None
    assert row.completed_at > deadline
    assert await ends(world, task_id) == ["Completed:completed"]


async def test_two_workers_on_one_task_only_the_lease_holder_finishes_it(
    world: World,
) -> None:
    task_id = await processing(world)
    world.provider.script(task_id, SUCCEEDED)
    entered, release = asyncio.Event(), asyncio.Event()

    async def stall_the_first(_job: ProviderJob) -> None:
        if not entered.is_set():
            entered.set()
            await release.wait()  # worker 1 stalls here, past its lease

    world.provider.hooks["fetch_result"] = stall_the_first
    (first,) = await world.tasks.claim("w1", lease_seconds=LEASE, limit=1)
    stalled = asyncio.create_task(world.lifecycle.step(first, "w1"))
    await entered.wait()
    # Not taken while the lease holds; taken by another worker once it has run out.
    assert await world.step("w2") == {}
    world.clock.advance(LEASE + 1)
    assert await world.step("w2") == {task_id: Next(None)}
    winner = await world.row(task_id)
    assert winner.status is TaskStatus.COMPLETED
    release.set()
    assert await stalled == Next(None)
    # The late worker's copy is gone; the winner's files are untouched.
    row = await world.row(task_id)
    assert row.video_key == winner.video_key
    stored = world.result_files(task_id)
    assert {path.parent.name for path in stored} == {Path(winner.video_key or "").parent.name}
    assert await ends(world, task_id) == ["Completed:completed"]


async def test_a_cancel_racing_the_completion_write_records_one_end(world: World) -> None:
    """Cancel and completion sent to the database at the same moment (no hook in between):
    whichever it takes first, the task has one end, and files only if it completed."""
    task_id = await processing(world)
    world.provider.script(task_id, running(90), SUCCEEDED)
    await world.step()
    world.clock.advance(world.provider.poll_interval)
    results = await asyncio.gather(
        world.step(), world.videos.cancel(KEY, task_id), return_exceptions=True
    )
    await world.step()  # the clean-up, if the cancel won
    row = await world.row(task_id)
    assert row.status in (TaskStatus.COMPLETED, TaskStatus.CANCELLED)
    assert (await ends(world, task_id)) == [
        f"{'Completed' if row.status is TaskStatus.COMPLETED else 'Cancelled'}:{row.status}"
    ]
    assert bool(world.result_files(task_id)) is (row.status is TaskStatus.COMPLETED)
    assert results[0] == {task_id: Next(None)}
