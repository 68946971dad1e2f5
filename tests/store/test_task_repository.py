"""The task store on a real database: claims, batched hand-backs, pokes, races."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from dblib import fresh_database_url
from vidugate.domain.models import Mode
from vidugate.domain.request import VideoFields, build_request
from vidugate.domain.tasks import Surface, TaskStatus, VideoTask, new_id
from vidugate.store.db import open_database
from vidugate.store.tasks import Release, TaskRepository

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def repo(tmp_path: Path) -> AsyncIterator[TaskRepository]:
    async with open_database(fresh_database_url(tmp_path)) as database:
        yield TaskRepository(database)


def a_task(status: TaskStatus = TaskStatus.QUEUED) -> VideoTask:
    request = (
        build_request(VideoFields(model="viduq3-pro", prompt="x"), mode=Mode.TEXT, image_count=0)
        .with_seed()
        .with_frame(None)
    )
    now = time.time() - 1
    return VideoTask(
        id=new_id("video_"),
        key_id="key_1",
        surface=Surface.OPENAI,
        provider="sandbox",
        status=status,
        progress=0,
        request=request,
        created_at=now,
        updated_at=now,
        deadline_at=now + 60,
    )


async def test_a_due_task_is_claimed_once(repo: TaskRepository) -> None:
    task = a_task()
    await repo.insert(task)
    now = time.time()
    first = await repo.claim_due("w1", now=now, lease_until=now + 10, limit=10)
    second = await repo.claim_due("w2", now=now, lease_until=now + 10, limit=10)
    assert [t.id for t in first] == [task.id]
    assert second == []
    later = now + 11  # the lease has run out: another worker takes over
    assert [
        t.id for t in await repo.claim_due("w2", now=later, lease_until=later + 10, limit=10)
    ] == [task.id]


async def test_release_many_sets_next_time_and_progress(repo: TaskRepository) -> None:
    tasks = [a_task() for _ in range(3)]
    for task in tasks:
        await repo.insert(task)
    now = time.time()
    await repo.claim_due("w", now=now, lease_until=now + 10, limit=10)
    await repo.release_many(
        "w",
        [
            Release(tasks[0].id, now + 100, 40),
            Release(tasks[1].id, None, None),
            Release(tasks[2].id, now + 100, None),
        ],
    )
    got = {t.id: t for t in [await repo.get(t.id) for t in tasks] if t is not None}
    assert got[tasks[0].id].progress == 40
    assert got[tasks[2].id].progress == 0
    # Nothing due now; the first and last are due later, the middle one never.
    assert await repo.claim_due("w", now=now + 1, lease_until=now + 10, limit=10) == []
    due = await repo.claim_due("w", now=now + 101, lease_until=now + 200, limit=10)
    assert sorted(t.id for t in due) == sorted([tasks[0].id, tasks[2].id])


@pytest.mark.parametrize("next_at", [1000.0, None], ids=["later", "never"])
async def test_a_poke_during_the_lease_wins_over_the_next_time(
    repo: TaskRepository, next_at: float | None
) -> None:
    task = a_task()
    await repo.insert(task)
    claimed_at = time.time()
    await repo.claim_due("w", now=claimed_at, lease_until=claimed_at + 10, limit=1)
    assert await repo.poke(task.id)  # e.g. a cancel while the step ran, even its last one
    later = None if next_at is None else claimed_at + next_at
    await repo.release_many("w", [Release(task.id, later, None)])
    now = time.time()
    assert [t.id for t in await repo.claim_due("w", now=now, lease_until=now + 10, limit=1)] == [
        task.id
    ]


async def test_progress_of_a_stopped_task_is_left_alone(repo: TaskRepository) -> None:
    task = a_task()
    await repo.insert(task)
    now = time.time()
    await repo.claim_due("w", now=now, lease_until=now + 10, limit=1)
    stopped = await repo.update(
        task.id, expect={TaskStatus.QUEUED}, values={"status": TaskStatus.CANCELLED.value}
    )
    assert stopped is not None
    await repo.release_many("w", [Release(task.id, now + 1, 70)])
    after = await repo.get(task.id)
    assert after is not None
    assert after.progress == 0


async def test_conditional_update_loses_to_a_cancel(repo: TaskRepository) -> None:
    task = a_task(TaskStatus.PROCESSING)
    await repo.insert(task)
    await repo.update(task.id, values={"status": TaskStatus.CANCELLED.value})
    completed = await repo.update(
        task.id, expect={TaskStatus.PROCESSING}, values={"status": TaskStatus.COMPLETED.value}
    )
    assert completed is None


async def test_a_task_is_found_by_its_upstream_id(repo: TaskRepository) -> None:
    task = a_task()
    await repo.insert(task)
    await repo.update(task.id, values={"upstream_id": "123", "upstream_account": "a"})
    assert await repo.find_by_upstream("a", "123") == task.id
    assert await repo.find_by_upstream("b", "123") is None


async def test_urgent_tasks_are_claimed_before_overdue_ones(repo: TaskRepository) -> None:
    old = [a_task() for _ in range(3)]
    for task in old:
        await repo.insert(task)
    now = time.time()
    await repo.claim_due("w", now=now, lease_until=now + 10, limit=10)
    # Three long-overdue polls, then a poke and a brand-new task: those two come first.
    await repo.release_many("w", [Release(t.id, now - 100, None) for t in old])
    assert await repo.poke(old[2].id)
    new = a_task()
    await repo.insert(new)
    first = await repo.claim_due("w", now=now + 1, lease_until=now + 20, limit=2)
    assert sorted(t.id for t in first) == sorted([old[2].id, new.id])


async def test_a_held_task_is_claimed_only_by_its_holder(repo: TaskRepository) -> None:
    task = a_task()
    await repo.insert(task)
    now = time.time()
    await repo.claim_due("w1", now=now, lease_until=now + 10, limit=10)
    # The job lives in w1's memory (a sandbox render): w1 keeps the task between looks.
    await repo.release_many("w1", [Release(task.id, now + 1, keep_lease=True)], hold_seconds=10)
    later = now + 2
    assert await repo.claim_due("w2", now=later, lease_until=later + 10, limit=10) == []
    mine = await repo.claim_due("w1", now=later, lease_until=later + 10, limit=10)
    assert [t.id for t in mine] == [task.id]
    await repo.release_many("w1", [Release(task.id, later + 1, keep_lease=True)], hold_seconds=10)
    # Once w1 is gone (its hold released, or run out), anyone may take it.
    assert await repo.release_owners(["w1"]) == 1
    taken = await repo.claim_due("w2", now=later + 2, lease_until=later + 12, limit=10)
    assert [t.id for t in taken] == [task.id]
