"""Task lists filtered in the database (store/listing.py), on the run's backend: each filter,
paging by offset and cursor, and the created-at window, whose id-range bounds must keep a
task whose id was made well before its created_at (its images took a while to fetch)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from dblib import fresh_database_url, write_row
from vidugate.domain.listing import TaskFilter
from vidugate.domain.models import Mode
from vidugate.domain.request import VideoFields, build_request
from vidugate.domain.tasks import Surface, TaskStatus, VideoTask, new_id
from vidugate.store.db import open_database
from vidugate.store.listing import first_id_at
from vidugate.store.tasks import TaskRepository

pytestmark = pytest.mark.asyncio
EVERY = 1 << 30


@pytest_asyncio.fixture
async def repo(tmp_path: Path) -> AsyncIterator[TaskRepository]:
    async with open_database(fresh_database_url(tmp_path)) as database:
        yield TaskRepository(database)


def a_task(
    *,
    key: str = "key_1",
    model: str = "viduq2-pro",
    resolution: str = "540p",
    status: TaskStatus = TaskStatus.QUEUED,
    created_at: float | None = None,
) -> VideoTask:
    fields = VideoFields(model=model, prompt="x", resolution=resolution, duration=1)
    request = build_request(fields, mode=Mode.TEXT, image_count=0).with_seed().with_frame(None)
    now = time.time() if created_at is None else created_at
    return VideoTask(
        id=new_id("video_", now) if created_at is None else id_at(created_at),
        key_id=key,
        surface=Surface.VIDU,
        provider="sandbox",
        status=status,
        progress=0,
        request=request,
        created_at=now,
        updated_at=now,
        deadline_at=now + 60,
    )


def id_at(seconds: float) -> str:
    """An id as new_id() makes it at that time."""
    random_part = new_id("", seconds)[10:]
    return first_id_at(int(seconds * 1000))[: -len(random_part)] + random_part


async def put(repo: TaskRepository, task: VideoTask) -> None:
    """Store the task as it is, its status written past the store (which creates every
    task queued, and changes it only by a transition)."""
    await repo.create(dataclasses.replace(task, status=TaskStatus.QUEUED))
    if task.status is not TaskStatus.QUEUED:
        assert await write_row(repo.db.url, "tasks", task.id, {"status": task.status.value}) == 1


def in_order(*tasks: VideoTask) -> list[str]:
    """Their ids as a list answers them: newest first, which is id order."""
    return sorted((task.id for task in tasks), reverse=True)


async def listed(
    repo: TaskRepository,
    where: TaskFilter,
    *,
    after: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[str], bool]:
    tasks, more = await repo.page_for_key(
        "key_1",
        after=after,
        limit=limit,
        newest_first=True,
        max_bytes=EVERY,
        where=where,
        offset=offset,
    )
    return [task.id for task in tasks], more


async def test_each_filter_is_applied_in_the_query(repo: TaskRepository) -> None:
    done = a_task(status=TaskStatus.COMPLETED)
    fast = a_task(model="viduq2-turbo", resolution="1080p", status=TaskStatus.CANCELLED)
    q2 = a_task(model="viduq2", resolution="720p")
    stranger = a_task(key="key_2", status=TaskStatus.COMPLETED)
    for task in (done, fast, q2, stranger):
        await put(repo, task)
    # Newest first is id order (ids made in one millisecond differ in their random part).
    newest_first = sorted([done.id, fast.id, q2.id], reverse=True)

    assert await listed(repo, TaskFilter()) == (newest_first, False)
    completed = frozenset({TaskStatus.COMPLETED})
    assert await listed(repo, TaskFilter(statuses=completed)) == ([done.id], False)
    ended = frozenset({TaskStatus.FAILED, TaskStatus.CANCELLED})
    assert await listed(repo, TaskFilter(statuses=ended)) == ([fast.id], False)
    wanted = (done.id, q2.id, stranger.id, "video_NOSUCHTASK0000000000000000")
    assert await listed(repo, TaskFilter(ids=wanted)) == (in_order(q2, done), False)
    both = frozenset({"viduq2", "viduq2-turbo"})
    assert await listed(repo, TaskFilter(models=both)) == (in_order(q2, fast), False)
    sharp = frozenset({"1080p", "720p"})
    assert await listed(repo, TaskFilter(resolutions=sharp)) == (in_order(q2, fast), False)
    assert await listed(repo, TaskFilter(ids=())) == ([], False)
    assert await listed(repo, TaskFilter(models=both, statuses=completed)) == ([], False)


async def test_pages_by_offset_and_by_cursor(repo: TaskRepository) -> None:
    tasks = [a_task() for _ in range(5)]
    for task in tasks:
        await put(repo, task)
    newest_first = in_order(*tasks)
    assert await listed(repo, TaskFilter(), limit=2) == (newest_first[:2], True)
    assert await listed(repo, TaskFilter(), offset=2, limit=2) == (newest_first[2:4], True)
    assert await listed(repo, TaskFilter(), offset=4, limit=2) == (newest_first[4:], False)
    cursor = newest_first[1]
    assert await listed(repo, TaskFilter(), after=cursor, limit=2) == (newest_first[2:4], True)
    assert await listed(repo, TaskFilter(), after=cursor, offset=2) == (newest_first[4:], False)


async def test_the_window_keeps_tasks_whose_id_is_older_than_their_created_at(
    repo: TaskRepository,
) -> None:
    now = time.time()
    week_old = a_task(created_at=now - 7 * 24 * 3600)
    # Its id made half an hour before the task was stored (slow image fetches).
    slow = dataclasses.replace(a_task(created_at=now - 1800), created_at=now)
    assert slow.id < first_id_at(int((now - 1799) * 1000))
    recent = a_task(created_at=now)
    for task in (week_old, slow, recent):
        await put(repo, task)
    assert slow.id < recent.id  # ids are in time order, older first

    since = TaskFilter(created_from=now - 60)
    assert sorted((await listed(repo, since))[0]) == sorted([slow.id, recent.id])
    until = TaskFilter(created_to=now - 3600)
    assert await listed(repo, until) == ([week_old.id], False)
    window = TaskFilter(created_from=now - 8 * 24 * 3600, created_to=now - 24 * 3600)
    assert await listed(repo, window) == ([week_old.id], False)
    assert await listed(repo, TaskFilter(created_from=now + 1, created_to=now)) == ([], False)
