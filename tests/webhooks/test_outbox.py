"""The outbox in the store, on both backends (VIDUGATE_TEST_BACKEND): a task's events are
written with its changes; a later message to the same destination waits (no due time)
until the earlier one settles, which makes it due in the same transaction; a retry keeps
it waiting; the net (release_stuck) frees one whose predecessor settled unseen; a claim
gives one destination no more than its share; a change that is rolled back writes none."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text

from dblib import fresh_database_url
from lifelib import a_task
from vidugate.domain.ledger import DEFAULT_TENANT
from vidugate.domain.tasks import VideoTask, new_id
from vidugate.domain.transitions import Submitted
from vidugate.domain.webhooks import (
    Attempt,
    Bodies,
    Endpoint,
    EventType,
    MessageState,
)
from vidugate.store.db import Database, open_database
from vidugate.store.tasks import TaskRepository
from vidugate.store.webhook_endpoints import EndpointRepository
from vidugate.store.webhook_outbox import WebhookOutbox

pytestmark = pytest.mark.asyncio
OWNER = "test-owner"


def bodies(task: VideoTask, event: EventType, now: float) -> Bodies:
    return Bodies(envelope=f'{{"type":"{event}","id":"{task.id}"}}', callback="{}")


@pytest_asyncio.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    async with open_database(fresh_database_url(tmp_path)) as db:
        yield db


async def endpoint(db: Database, *events: EventType) -> str:
    now = time.time()
    made = Endpoint(
        id=new_id("whep_", now), tenant_id=DEFAULT_TENANT, url="https://example.com/h",
        events=frozenset(events or EventType), description="", disabled=False,
        created_at=now, updated_at=now,
    )  # fmt: skip
    await EndpointRepository(db).insert(made, "whsec_AAAA")
    return made.id


async def submitted(repo: TaskRepository, task: VideoTask, now: float) -> None:
    """The task taken by a worker and sent upstream (a transition made under a lease)."""
    await repo.claim_due("worker", now=now, lease_until=now + 60, limit=10)
    assert await repo.apply(task.id, Submitted(upstream_id="u1"), owner="worker", now=now)


def tried(message_id: str, now: float) -> Attempt:
    return Attempt(message_id, None, "t", EventType.QUEUED, 1, now, 503, "answered 503", 3)


async def due_at(db: Database) -> list[tuple[str, float | None, str]]:
    async with db.read() as conn:
        rows = await conn.execute(
            text("SELECT event, next_attempt_at, state FROM webhook_messages ORDER BY n")
        )
        return [(r[0], r[1], r[2]) for r in rows]


async def test_a_later_message_waits_for_the_earlier_one(database: Database) -> None:
    await endpoint(database)
    outbox = WebhookOutbox(database, bodies)
    repo = TaskRepository(database, effects=[outbox.effect])
    now = time.time()
    task = dataclasses.replace(a_task(now), tenant_id=DEFAULT_TENANT)
    await repo.create(task)
    await submitted(repo, task, now + 1)
    (first,) = await outbox.claim(OWNER, now + 2, 10, 30)
    assert first.message.event is EventType.QUEUED
    assert await outbox.claim(OWNER, now + 2, 10, 30) == []  # the next waits behind it
    assert [(e, s) for e, _at, s in await due_at(database)] == [
        ("video.queued", "pending"),
        ("video.processing", "pending"),
    ]
    assert (await due_at(database))[1][1] is None
    # A failed try keeps it pending: the next still waits.
    await outbox.record(first.message, OWNER, tried(first.message.id, now + 2),
                        MessageState.PENDING, now + 60, now + 2)  # fmt: skip
    assert (await due_at(database))[1][1] is None
    (again,) = await outbox.claim(OWNER, now + 61, 10, 30)
    assert again.message.id == first.message.id
    await outbox.record(again.message, OWNER, tried(again.message.id, now + 61),
                        MessageState.FAILED, None, now + 61)  # fmt: skip
    # Settled: the next is due from that moment, and claimed.
    assert (await due_at(database))[1][1] == pytest.approx(now + 61)
    (second,) = await outbox.claim(OWNER, now + 62, 10, 30)
    assert second.message.event is EventType.PROCESSING


async def test_the_net_frees_a_message_whose_predecessor_settled_unseen(
    database: Database,
) -> None:
    await endpoint(database)
    outbox = WebhookOutbox(database, bodies)
    repo = TaskRepository(database, effects=[outbox.effect])
    now = time.time()
    task = dataclasses.replace(a_task(now), tenant_id=DEFAULT_TENANT)
    await repo.create(task)
    await submitted(repo, task, now + 1)
    await database.run(
        text("UPDATE webhook_messages SET state = 'delivered' WHERE event = 'video.queued'")
    )
    assert await outbox.claim(OWNER, now + 2, 10, 30) == []
    assert await outbox.release_stuck(now + 3) == 1
    (freed,) = await outbox.claim(OWNER, now + 4, 10, 30)
    assert freed.message.event is EventType.PROCESSING
    assert await outbox.release_stuck(now + 5) == 0


async def test_a_claim_gives_a_destination_its_share(database: Database) -> None:
    await endpoint(database, EventType.QUEUED)
    outbox = WebhookOutbox(database, bodies)
    repo = TaskRepository(database, effects=[outbox.effect])
    now = time.time()
    for _ in range(5):
        await repo.create(dataclasses.replace(a_task(now), tenant_id=DEFAULT_TENANT))
    first = await outbox.claim(OWNER, now + 1, 10, 30, per_destination=2)
    assert len(first) == 2
    destination = first[0].message.destination
    busy = {destination: 2}
    assert await outbox.claim(OWNER, now + 1, 10, 30, room=busy, per_destination=2) == []
    busy = {destination: 1}
    assert len(await outbox.claim(OWNER, now + 1, 10, 30, room=busy, per_destination=2)) == 1


async def test_a_change_rolled_back_announces_nothing(database: Database) -> None:
    await endpoint(database)
    outbox = WebhookOutbox(database, bodies)

    async def refuse(conn: object, applied: object) -> None:
        raise RuntimeError("the ledger said no")

    repo = TaskRepository(database, effects=[outbox.effect, refuse])
    task = dataclasses.replace(a_task(time.time()), tenant_id=DEFAULT_TENANT)
    with pytest.raises(RuntimeError):
        await repo.create(task)
    assert await due_at(database) == []
