"""Task events on a real database (both backends: VIDUGATE_TEST_BACKEND): one row per
transition, `Created` included, written in the transition's own transaction (an effect that
fails after it takes the event back with the change), with a small bounded detail and no
secret; deleted with the task's row by the purge, and none else. The webhook trail a
timeline reads is bounded to the newest messages and tries."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from dblib import fresh_database_url, write_row
from lifelib import a_task
from vidugate.clock import SystemClock
from vidugate.domain.task_events import MAX_TEXT, TaskEvent
from vidugate.domain.tasks import TaskStatus, VideoTask
from vidugate.domain.transitions import (
    AttemptsCounted,
    Cancelled,
    Failed,
    IntentRecorded,
    Submitted,
)
from vidugate.files.local import LocalFileStore
from vidugate.services.cached_tasks import CachedTasks
from vidugate.services.retention import purge_finished
from vidugate.store.db import Database, open_database
from vidugate.store.effects import Applied
from vidugate.store.task_events import TaskEvents
from vidugate.store.tasks import TaskRepository
from vidugate.store.webhook_log import WebhookLog

pytestmark = pytest.mark.asyncio

OWNER = "worker-1"
DAY = 86_400.0


@pytest_asyncio.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    async with open_database(fresh_database_url(tmp_path)) as database:
        yield database


async def _leased(repo: TaskRepository) -> VideoTask:
    """A new task, leased by OWNER (as a worker's claim leaves it)."""
    task = a_task(time.time())
    await repo.create(task)
    assert await write_row(repo.db.url, "tasks", task.id, {"lease_owner": OWNER}) == 1
    return task


async def test_every_transition_writes_one_event(database: Database) -> None:
    events = TaskEvents(database)
    repo = TaskRepository(database, effects=[events.effect])
    task = await _leased(repo)
    long = "upstream said: " + "x" * 5000
    await repo.apply(task.id, IntentRecorded("acct"), owner=OWNER, now=task.created_at + 1)
    fault = AttemptsCounted(1, "upstream_unavailable", "Vidu answered HTTP 503")
    await repo.apply(task.id, fault, owner=OWNER, now=task.created_at + 2)
    submitted = Submitted("up-1", "acct", Decimal("20"))
    await repo.apply(task.id, submitted, owner=OWNER, now=task.created_at + 3)
    await repo.apply(task.id, Failed("boom", long), owner=OWNER, now=task.created_at + 4)

    found, cut = await events.of_task(task.id, limit=100)
    assert not cut
    assert [(e.event, e.status_before, e.status_after) for e in found] == [
        ("task.created", None, TaskStatus.QUEUED),
        ("task.intent_recorded", TaskStatus.QUEUED, TaskStatus.QUEUED),
        ("task.attempts_counted", TaskStatus.QUEUED, TaskStatus.QUEUED),
        ("task.submitted", TaskStatus.QUEUED, TaskStatus.PROCESSING),
        ("task.failed", TaskStatus.PROCESSING, TaskStatus.FAILED),
    ]
    assert [e.at - task.created_at for e in found] == [0, 1, 2, 3, 4]
    created, intent, tried, accepted, failed = (e.detail for e in found)
    assert created["model"] == "viduq3-pro"
    assert created["key_id"] == task.key_id
    assert "prompt" not in created
    assert "callback_url" not in created
    assert intent == {"account": "acct"}
    assert tried == {
        "attempts": 1,
        "code": "upstream_unavailable",
        "message": "Vidu answered HTTP 503",
        "account": "acct",
    }
    assert accepted == {"upstream_id": "up-1", "account": "acct", "credits": "20"}
    assert failed["code"] == "boom"
    assert len(failed["message"]) == MAX_TEXT
    assert failed["message"].startswith("upstream said: xxx")
    assert failed["upstream_id"] == "up-1"


async def test_an_effect_that_fails_takes_the_event_back_with_the_change(
    database: Database,
) -> None:
    events = TaskEvents(database)

    async def refuse(conn: AsyncConnection, applied: Applied) -> VideoTask | None:
        if isinstance(applied.transition, Cancelled):
            raise RuntimeError("refused")
        return None

    repo = TaskRepository(database, effects=[events.effect, refuse])
    task = a_task(time.time())
    await repo.create(task)
    with pytest.raises(RuntimeError):
        await repo.apply(task.id, Cancelled(), now=time.time())
    found, _cut = await events.of_task(task.id, limit=100)
    assert [e.event for e in found] == ["task.created"]
    current = await repo.get(task.id)
    assert current is not None
    assert current.status is TaskStatus.QUEUED


async def test_the_newest_events_are_kept_when_there_are_more(database: Database) -> None:
    events = TaskEvents(database)
    repo = TaskRepository(database, effects=[events.effect])
    task = await _leased(repo)
    for attempt in range(1, 6):
        await repo.apply(task.id, AttemptsCounted(attempt), owner=OWNER, now=time.time())
    found, cut = await events.of_task(task.id, limit=3)
    assert cut
    assert [e.detail["attempts"] for e in found] == [3, 4, 5]


async def _events_of(database: Database, task_id: str) -> list[TaskEvent]:
    found, _cut = await TaskEvents(database).of_task(task_id, limit=100)
    return found


async def test_the_purge_deletes_a_tasks_events_with_its_row(
    database: Database, tmp_path: Path
) -> None:
    repo = TaskRepository(database, effects=[TaskEvents(database).effect])
    tasks = CachedTasks(repo, shared=True, clock=SystemClock())
    old, kept = a_task(time.time()), a_task(time.time())
    for task in (old, kept):
        await tasks.create(task)
        await tasks.apply(task.id, Cancelled())
        finished = time.time() - (40 * DAY if task is old else 0)
        changes = {"next_poll_at": None, "completed_at": finished}
        assert await write_row(database.url, "tasks", task.id, changes) == 1
    purged = await purge_finished(
        tasks, LocalFileStore(tmp_path / "media"), now=time.time(), retention=30 * DAY
    )
    assert purged == 1
    assert await _events_of(database, old.id) == []
    assert [e.event for e in await _events_of(database, kept.id)] == [
        "task.created",
        "task.cancelled",
    ]


async def test_the_webhook_trail_is_the_newest_messages_and_tries(database: Database) -> None:
    task_id = "video_trail"

    async def write(conn: AsyncConnection) -> None:
        for n in range(1, 6):
            await conn.execute(
                text(
                    "INSERT INTO webhook_messages (id, task_id, event, endpoint_id, destination,"
                    " url, payload, state, attempts, created_at) VALUES (:id, :task, "
                    "'video.progress', NULL, 'url:x', 'https://h.test/p?token=s', '{}', "
                    "'delivered', 1, :at)"
                ),
                {"id": f"msg_{n}", "task": task_id, "at": float(n)},
            )
            await conn.execute(
                text(
                    "INSERT INTO webhook_attempts (message_id, task_id, event, attempt, at,"
                    " status_code, duration_ms) VALUES (:id, :task, 'video.progress', 1, :at,"
                    " 200, 5)"
                ),
                {"id": f"msg_{n}", "task": task_id, "at": n + 0.5},
            )

    await database.write(write)
    messages, tries, urls, cut = await WebhookLog(database).trail_of(task_id, 3, 2)
    assert [m.id for m in messages] == ["msg_3", "msg_4", "msg_5"]
    assert all(m.payload == "" for m in messages)  # bodies are not read
    assert [a.message_id for _n, a in tries] == ["msg_4", "msg_5"]
    assert urls == {}
    assert cut
    _m, _t, _u, cut = await WebhookLog(database).trail_of(task_id, 10, 10)
    assert not cut
