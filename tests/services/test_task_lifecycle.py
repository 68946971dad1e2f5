"""The task lifecycle in the test process, against a scripted provider at the `Provider`
interface, on a real database (both backends: VIDUGATE_TEST_BACKEND) and a real file
store, with time moved by a ManualClock: every transition a worker makes, and what it does
when the upstream fails, answers nothing, or loses the job."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from fakeprovider import SUCCEEDED, FakeProvider, RecoverableFake, running
from lifelib import DEADLINE, LEASE, RETENTION, World, open_world
from vidugate.domain.tasks import TaskError, TaskStatus
from vidugate.errors import (
    DatabaseUnavailableError,
    UpstreamOutcomeUnknownError,
    UpstreamRejectedError,
    UpstreamUnavailableError,
)
from vidugate.providers.base import JobState, JobStatus, Submission
from vidugate.services.lifecycle import Next, backoff

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(tmp_path) as world:
        yield world


async def submitted(world: World, *, images: int = 1, deadline: float = DEADLINE) -> str:
    """A task whose create the upstream accepted, due for its first look."""
    task = await world.new_task(images=images, deadline=deadline)
    assert (await world.step())[task.id].at is not None
    assert (await world.row(task.id)).status is TaskStatus.PROCESSING
    world.clock.advance(world.provider.poll_interval)
    return task.id


async def test_a_task_is_submitted_followed_and_completed(world: World) -> None:
    provider = world.provider
    task = await world.new_task()
    provider.script(task.id, running(40), SUCCEEDED)
    started = world.clock.now()
    assert await world.step() == {task.id: Next(started + provider.poll_interval)}
    row = await world.row(task.id)
    assert (row.status, row.upstream_id, row.started_at) == (
        TaskStatus.PROCESSING,
        f"up_{task.id}",
        started,
    )
    # The create is the one call given the input images.
    assert [job.image_paths for job in provider.calls.submits] == [(world.media / task.images[0],)]
    world.clock.advance(provider.poll_interval - 1)
    assert await world.step() == {}  # not due before its poll interval
    world.clock.advance(1)
    assert (await world.step())[task.id].progress == 40
    assert (await world.row(task.id)).progress == 40
    cached = await world.tasks.get(task.id)  # the writer's cache shows its own hand-back
    assert cached is not None
    assert cached.progress == 40
    world.clock.advance(provider.poll_interval)
    finished_at = world.clock.now()
    assert await world.step() == {task.id: Next(None)}
    row = await world.row(task.id)
    assert (row.status, row.progress, row.completed_at, row.expires_at) == (
        TaskStatus.COMPLETED,
        100,
        finished_at,
        finished_at + RETENTION,
    )
    assert row.size == "160x90"  # probed from the stored file
    assert row.video_key is not None
    # Named beside the video, made when first asked for (services/content.py).
    assert row.spritesheet_key == row.video_key.replace("video.mp4", "spritesheet.jpg")
    names = sorted(path.name for path in world.result_files(task.id))
    assert names == ["thumbnail.jpg", "video.mp4"]
    assert world.input_files(task.id) == []  # finished: what made it is gone
    assert all(job.image_paths == () for job in provider.calls.looks + provider.calls.fetches)
    assert await world.step() == {}  # never looked at again


async def test_polls_and_the_result_copy_never_read_the_input_images(world: World) -> None:
    task_id = await submitted(world)
    world.provider.script(task_id, running(50), SUCCEEDED)
    # Gone from storage after the create: a look that read them would fail.
    for path in world.input_files(task_id):
        path.unlink()
    assert (await world.step())[task_id].progress == 50
    world.clock.advance(world.provider.poll_interval)
    await world.step()
    assert (await world.row(task_id)).status is TaskStatus.COMPLETED


@pytest.mark.parametrize(
    ("answer", "code", "message"),
    [
        (
            JobStatus(JobState.FAILED, error=TaskError("content_policy", "refused")),
            "content_policy",
            "refused",
        ),
        (JobStatus(JobState.FAILED), "generation_failed", "The provider reported"),
        (JobStatus(JobState.CANCELLED), "cancelled", "cancelled upstream"),
    ],
    ids=["failed", "failed-silently", "cancelled-upstream"],
)
async def test_an_upstream_end_fails_the_task(
    world: World, answer: JobStatus, code: str, message: str
) -> None:
    task_id = await submitted(world)
    world.provider.script(task_id, answer)
    assert await world.step() == {task_id: Next(None)}
    row = await world.row(task_id)
    assert row.status is TaskStatus.FAILED
    assert row.error is not None
    assert row.error.code == code
    assert message in row.error.message
    assert row.completed_at == world.clock.now()
    assert world.input_files(task_id) == []
    assert world.provider.calls.cancels == []  # nothing upstream to take back


async def test_a_stuck_task_fails_at_its_deadline_and_its_job_is_taken_back(
    world: World,
) -> None:
    task_id = await submitted(world, deadline=60)
    world.provider.script(task_id, running(20))
    while world.clock.now() < (await world.row(task_id)).deadline_at:
        assert (await world.row(task_id)).status is TaskStatus.PROCESSING
        await world.step()
        world.clock.advance(world.provider.poll_interval)
    assert await world.step() == {task_id: Next(None)}
    row = await world.row(task_id)
    assert row.status is TaskStatus.FAILED
    assert row.error is not None
    assert row.error.code == "timeout"
    assert "deadline (60 s after creation)" in row.error.message
    assert [job.upstream_id for job in world.provider.calls.cancels] == [f"up_{task_id}"]
    assert world.provider.jobs == set()
    assert world.input_files(task_id) == []


async def test_an_unavailable_upstream_is_looked_at_again_with_backoff(world: World) -> None:
    task_id = await submitted(world)
    busy = UpstreamUnavailableError("busy")
    world.provider.script(
        task_id, busy, busy, UpstreamUnavailableError("throttled", retry_after=17), running(30)
    )
    for attempts, wait in [(1, backoff(1)), (2, backoff(2)), (3, 17.0)]:
        now = world.clock.now()
        assert await world.step() == {task_id: Next(now + wait)}
        assert (await world.row(task_id)).attempts == attempts
        world.clock.advance(wait)
    assert (await world.step())[task_id].progress == 30
    assert (await world.row(task_id)).attempts == 0  # a look that worked ends the run


async def test_a_result_that_cannot_be_copied_fails_the_task_after_its_attempts(
    world: World,
) -> None:
    task_id = await submitted(world)
    world.provider.script(task_id, SUCCEEDED)
    for attempt in range(1, 9):
        world.provider.fail_next("fetch_result", task_id, UpstreamUnavailableError("link down"))
        outcome = (await world.step())[task_id]
        if attempt < 8:
            assert outcome.at == world.clock.now() + backoff(attempt)
            world.clock.advance(backoff(attempt))
    assert outcome == Next(None)
    row = await world.row(task_id)
    assert row.status is TaskStatus.FAILED
    assert row.error is not None
    assert row.error.code == "result_unavailable"
    assert "after 8 attempts" in row.error.message
    assert world.result_files(task_id) == []


async def test_an_unexpected_error_is_looked_at_again_later(world: World) -> None:
    task_id = await submitted(world)
    (task,) = await world.tasks.claim("w1", lease_seconds=LEASE, limit=1)
    error = RuntimeError("a bug")
    assert await world.lifecycle.step_failed(task, "w1", error) == world.clock.now() + backoff(1)
    assert (await world.row(task_id)).attempts == 1
    # A database that is away is no fault of the task's: no attempt is counted.
    away = DatabaseUnavailableError()
    assert await world.lifecycle.step_failed(task, "w1", away) == world.clock.now() + 2.0
    assert (await world.row(task_id)).attempts == 1


async def test_a_rejected_create_fails_the_task_and_forgets_its_account(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path, RecoverableFake()) as world:
        task = await world.new_task()
        world.provider.fail_next("submit", task.id, UpstreamRejectedError("no", code="refused"))
        assert await world.step() == {task.id: Next(None)}
        row = await world.row(task.id)
        assert row.status is TaskStatus.FAILED
        assert row.error is not None
        assert row.error.code == "refused"
        assert (row.upstream_account, row.submitted_at) == (None, None)


async def test_a_create_whose_answer_was_lost_is_looked_up_not_sent_again(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path, RecoverableFake()) as world:
        provider = world.provider
        assert isinstance(provider, RecoverableFake)
        task = await world.new_task()
        provider.fail_next("submit", task.id, UpstreamOutcomeUnknownError("timed out"))
        sent_at = world.clock.now()
        assert await world.step() == {task.id: Next(sent_at + backoff(1))}
        row = await world.row(task.id)
        # The intent stays: which account, and when, with no upstream id.
        assert (row.status, row.upstream_account, row.submitted_at, row.upstream_id) == (
            TaskStatus.QUEUED,
            "acct-1",
            sent_at,
            None,
        )
        provider.found[task.id] = Submission("up-found", "acct-1")
        world.clock.advance(backoff(1))
        await world.step()
        row = await world.row(task.id)
        assert (row.status, row.upstream_id, row.attempts) == (
            TaskStatus.PROCESSING,
            "up-found",
            0,
        )
        assert len(provider.calls.submits) == 1  # never sent twice
        assert [job.task_id for job in provider.calls.finds] == [task.id]


async def test_a_create_the_upstream_provably_never_got_is_sent_again(tmp_path: Path) -> None:
    async with open_world(tmp_path, RecoverableFake()) as world:
        task = await world.new_task()
        world.provider.fail_next("submit", task.id, UpstreamOutcomeUnknownError("timed out"))
        await world.step()
        world.clock.advance(backoff(1))
        await world.step()  # found nothing upstream: sent again
        assert len(world.provider.calls.submits) == 2
        assert (await world.row(task.id)).upstream_id == f"up_{task.id}"


async def test_a_job_lost_with_its_process_is_started_again_with_its_images(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path, FakeProvider(jobs_in_process=True)) as world:
        task_id = await submitted(world)
        world.provider.forget()  # a restart: the job was in the old process's memory
        outcome = (await world.step())[task_id]
        assert outcome == Next(world.clock.now() + world.provider.poll_interval, keep_lease=True)
        again = world.provider.calls.submits[-1]
        assert len(world.provider.calls.submits) == 2
        assert again.image_paths == (world.media / (await world.row(task_id)).images[0],)
        assert again.upstream_id == f"up_{task_id}"
        assert (await world.row(task_id)).status is TaskStatus.PROCESSING
