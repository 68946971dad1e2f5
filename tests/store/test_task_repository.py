"""The task store on a real database: transitions applied in one conditional write, the
effects that commit or roll back with them, claims, batched hand-backs, pokes, races."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from dblib import fresh_database_url, query
from lifelib import EffectLog, a_task, logged
from vidugate.domain.tasks import TaskStatus
from vidugate.domain.transitions import (
    AttemptsCounted,
    Cancelled,
    Completed,
    Created,
    Deleted,
    Expired,
    Failed,
    IntentRecorded,
    Submitted,
)
from vidugate.store.db import Database, open_database
from vidugate.store.tasks import URGENT, Release, TaskRepository

pytestmark = pytest.mark.asyncio

DONE = Completed(
    video_key="videos/v/a/video.mp4",
    thumbnail_key=None,
    watermarked_key=None,
    spritesheet_key=None,
    has_audio=False,
    width=960,
    height=540,
    keep_seconds=100,
)


@pytest_asyncio.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    async with open_database(fresh_database_url(tmp_path)) as database:
        yield database


@pytest_asyncio.fixture
async def repo(database: Database) -> TaskRepository:
    return TaskRepository(database)


async def leased(repo: TaskRepository, owner: str = "w") -> str:
    """A new task, claimed by `owner`."""
    now = time.time()
    task = a_task(now)
    await repo.create(task)
    assert [t.id for t in await repo.claim_due(owner, now=now, lease_until=now + 60, limit=1)] == [
        task.id
    ]
    return task.id


async def test_a_transition_leaves_only_the_states_it_names(repo: TaskRepository) -> None:
    task_id = await leased(repo)
    now = time.time()
    # Completed leaves processing only: a queued task cannot complete.
    assert await repo.apply(task_id, DONE, owner="w", now=now) is None
    submitted = await repo.apply(task_id, Submitted("up-1", "acct"), owner="w", now=now)
    assert submitted is not None
    assert (submitted.status, submitted.upstream_id, submitted.upstream_account) == (
        TaskStatus.PROCESSING,
        "up-1",
        "acct",
    )
    assert submitted.started_at == now
    assert submitted.updated_at == now
    done = await repo.apply(task_id, DONE, owner="w", now=now + 5)
    assert done is not None
    assert (done.status, done.progress, done.completed_at, done.expires_at) == (
        TaskStatus.COMPLETED,
        100,
        now + 5,
        now + 105,
    )
    # Finished: neither a failure nor a cancel applies any more; a delete and an expiry do.
    assert await repo.apply(task_id, Failed("x", "y"), owner="w", now=now) is None
    assert await repo.apply(task_id, Cancelled(), now=now) is None
    expired = await repo.apply(task_id, Expired(), now=now + 200)
    assert expired is not None
    assert (expired.status, expired.video_key) == (TaskStatus.COMPLETED, None)
    deleted = await repo.apply(task_id, Deleted(), now=now + 300)
    assert deleted is not None
    assert (deleted.status, deleted.deleted_at) == (TaskStatus.COMPLETED, now + 300)


async def test_a_leased_transition_needs_the_lease(repo: TaskRepository) -> None:
    task_id = await leased(repo, "w1")
    now = time.time()
    with pytest.raises(ValueError, match="lease"):
        await repo.apply(task_id, AttemptsCounted(1), now=now)
    assert await repo.apply(task_id, IntentRecorded("acct"), owner="w2", now=now) is None
    recorded = await repo.apply(task_id, IntentRecorded("acct"), owner="w1", now=now)
    assert recorded is not None
    assert (recorded.upstream_account, recorded.submitted_at) == ("acct", now)


async def test_a_cancel_and_a_completion_racing_one_wins(repo: TaskRepository) -> None:
    task_id = await leased(repo)
    now = time.time()
    assert await repo.apply(task_id, Submitted("up-1"), owner="w", now=now) is not None
    results = await asyncio.gather(
        repo.apply(task_id, DONE, owner="w", now=now), repo.apply(task_id, Cancelled(), now=now)
    )
    assert sum(result is not None for result in results) == 1
    final = await repo.get(task_id)
    assert final is not None
    assert final.status in (TaskStatus.COMPLETED, TaskStatus.CANCELLED)


async def test_a_cancel_pokes_the_task_and_records_a_delete(repo: TaskRepository) -> None:
    task_id = await leased(repo)
    now = time.time()
    stopped = await repo.apply(task_id, Cancelled(deleted=True), now=now)
    assert stopped is not None
    assert stopped.error is not None
    assert (stopped.status, stopped.error.code, stopped.deleted_at) == (
        TaskStatus.CANCELLED,
        "cancelled",
        now,
    )
    rows = await query(repo.db.url, "SELECT next_poll_at FROM tasks WHERE id = $1", task_id)
    assert rows == [(URGENT,)]


async def test_a_task_is_created_queued_only(repo: TaskRepository) -> None:
    task = a_task(time.time())
    with pytest.raises(ValueError, match="queued"):
        await repo.create(dataclasses.replace(task, status=TaskStatus.COMPLETED))


async def test_effects_commit_with_the_change(database: Database) -> None:
    log = EffectLog()
    await log.create_table(database)
    repo = TaskRepository(database, effects=[log])
    task_id = await leased(repo)
    now = time.time()
    await repo.apply(task_id, Submitted("up-1"), owner="w", now=now)
    await repo.apply(task_id, Failed("boom", "it broke"), owner="w", now=now)
    assert await repo.apply(task_id, Cancelled(), now=now) is None  # lost: no effect
    assert await logged(database) == [
        (task_id, "Created:queued"),
        (task_id, "Submitted:processing"),
        (task_id, "Failed:failed"),
    ]


async def test_an_effect_that_fails_undoes_its_change_and_nothing_else(
    database: Database,
) -> None:
    log = EffectLog(refuse=Cancelled)
    await log.create_table(database)
    repo = TaskRepository(database, effects=[log])
    first, second = await leased(repo), await leased(repo)
    now = time.time()
    # Written together (on SQLite, one group commit): the refused one fails alone.
    results = await asyncio.gather(
        repo.apply(first, Cancelled(), now=now),
        repo.apply(second, Failed("boom", "it broke"), owner="w", now=now),
        return_exceptions=True,
    )
    assert isinstance(results[0], RuntimeError)
    unchanged = await repo.get(first)
    failed = await repo.get(second)
    assert unchanged is not None
    assert failed is not None
    assert (unchanged.status, failed.status) == (TaskStatus.QUEUED, TaskStatus.FAILED)
    assert sorted(await logged(database)) == sorted(
        [(first, "Created:queued"), (second, "Created:queued"), (second, "Failed:failed")]
    )


async def test_a_create_refused_by_an_effect_stores_nothing(database: Database) -> None:
    log = EffectLog(refuse=Created)
    await log.create_table(database)
    repo = TaskRepository(database, effects=[log])
    task = a_task(time.time())
    with pytest.raises(RuntimeError):
        await repo.create(task)
    assert await repo.get(task.id) is None
    assert await logged(database) == []


async def test_a_due_task_is_claimed_once(repo: TaskRepository) -> None:
    now = time.time()
    task = a_task(now)
    await repo.create(task)
    first = await repo.claim_due("w1", now=now, lease_until=now + 10, limit=10)
    second = await repo.claim_due("w2", now=now, lease_until=now + 10, limit=10)
    assert [t.id for t in first] == [task.id]
    assert second == []
    later = now + 11  # the lease has run out: another worker takes over
    assert [
        t.id for t in await repo.claim_due("w2", now=later, lease_until=later + 10, limit=10)
    ] == [task.id]


async def test_release_many_sets_next_time_and_progress(repo: TaskRepository) -> None:
    now = time.time()
    tasks = [a_task(now) for _ in range(3)]
    for task in tasks:
        await repo.create(task)
    await repo.claim_due("w", now=now, lease_until=now + 10, limit=10)
    await repo.release_many(
        "w",
        [
            Release(tasks[0].id, now + 100, 40),
            Release(tasks[1].id, None, None),
            Release(tasks[2].id, now + 100, None),
        ],
        now=now + 1,
    )
    got = {t.id: t for t in [await repo.get(t.id) for t in tasks] if t is not None}
    assert (got[tasks[0].id].progress, got[tasks[0].id].updated_at) == (40, now + 1)
    assert (got[tasks[2].id].progress, got[tasks[2].id].updated_at) == (0, now)
    # Nothing due now; the first and last are due later, the middle one never.
    assert await repo.claim_due("w", now=now + 1, lease_until=now + 10, limit=10) == []
    due = await repo.claim_due("w", now=now + 101, lease_until=now + 200, limit=10)
    assert sorted(t.id for t in due) == sorted([tasks[0].id, tasks[2].id])


@pytest.mark.parametrize("next_at", [1000.0, None], ids=["later", "never"])
async def test_a_poke_during_the_lease_wins_over_the_next_time(
    repo: TaskRepository, next_at: float | None
) -> None:
    claimed_at = time.time()
    task = a_task(claimed_at)
    await repo.create(task)
    await repo.claim_due("w", now=claimed_at, lease_until=claimed_at + 10, limit=1)
    assert await repo.poke(task.id)  # e.g. a cancel while the step ran, even its last one
    later = None if next_at is None else claimed_at + next_at
    await repo.release_many("w", [Release(task.id, later, None)], now=claimed_at)
    now = time.time()
    assert [t.id for t in await repo.claim_due("w", now=now, lease_until=now + 10, limit=1)] == [
        task.id
    ]


async def test_progress_of_a_stopped_task_is_left_alone(repo: TaskRepository) -> None:
    now = time.time()
    task = a_task(now)
    await repo.create(task)
    await repo.claim_due("w", now=now, lease_until=now + 10, limit=1)
    assert await repo.apply(task.id, Cancelled(), now=now) is not None
    await repo.release_many("w", [Release(task.id, now + 1, 70)], now=now)
    after = await repo.get(task.id)
    assert after is not None
    assert after.progress == 0


async def test_a_callback_pokes_the_active_task_of_its_upstream_job(repo: TaskRepository) -> None:
    task_id = await leased(repo)
    now = time.time()
    await repo.apply(task_id, Submitted("123", "a"), owner="w", now=now)
    assert await repo.poke_upstream("b", "123") is None  # another account's job
    assert await repo.poke_upstream("a", "124") is None
    assert await repo.poke_upstream("a", "123") == task_id
    rows = await query(repo.db.url, "SELECT next_poll_at FROM tasks WHERE id = $1", task_id)
    assert rows == [(URGENT,)]
    assert await repo.apply(task_id, Failed("x", "y"), owner="w", now=now) is not None
    assert await repo.poke_upstream("a", "123") is None  # finished: nothing to look at


async def test_urgent_tasks_are_claimed_before_overdue_ones(repo: TaskRepository) -> None:
    now = time.time()
    old = [a_task(now) for _ in range(3)]
    for task in old:
        await repo.create(task)
    await repo.claim_due("w", now=now, lease_until=now + 10, limit=10)
    # Three long-overdue polls, then a poke and a brand-new task: those two come first.
    await repo.release_many("w", [Release(t.id, now - 100, None) for t in old], now=now)
    assert await repo.poke(old[2].id)
    new = a_task(now)
    await repo.create(new)
    first = await repo.claim_due("w", now=now + 1, lease_until=now + 20, limit=2)
    assert sorted(t.id for t in first) == sorted([old[2].id, new.id])


async def test_a_held_task_is_claimed_only_by_its_holder(repo: TaskRepository) -> None:
    now = time.time()
    task = a_task(now)
    await repo.create(task)
    await repo.claim_due("w1", now=now, lease_until=now + 10, limit=10)
    # The job lives in w1's memory (a sandbox render): w1 keeps the task between looks.
    await repo.release_many(
        "w1", [Release(task.id, now + 1, keep_lease=True)], now=now, hold_seconds=10
    )
    later = now + 2
    assert await repo.claim_due("w2", now=later, lease_until=later + 10, limit=10) == []
    mine = await repo.claim_due("w1", now=later, lease_until=later + 10, limit=10)
    assert [t.id for t in mine] == [task.id]
    await repo.release_many(
        "w1", [Release(task.id, later + 1, keep_lease=True)], now=later, hold_seconds=10
    )
    # Once w1 is gone (its hold released, or run out), anyone may take it.
    assert await repo.release_owners(["w1"]) == 1
    taken = await repo.claim_due("w2", now=later + 2, lease_until=later + 12, limit=10)
    assert [t.id for t in taken] == [task.id]
