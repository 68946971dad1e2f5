"""The webhook delivery log, read: messages (one event for one destination) and each try
made at them (store/webhook_outbox.py writes both)."""

from __future__ import annotations

import hashlib
from typing import Any, cast

from sqlalchemy import Row, Table, literal, select

from vidugate.domain.webhooks import Attempt, EventType, Message, MessageState
from vidugate.store.db import Database
from vidugate.store.tables import WebhookAttemptRow, WebhookEndpointRow, WebhookMessageRow

M = cast(Table, WebhookMessageRow.__table__)
A = cast(Table, WebhookAttemptRow.__table__)
E = cast(Table, WebhookEndpointRow.__table__)
# A message without its body (the video object as sent: a kilobyte or more, not shown).
_HEAD = [c for c in M.c if c.name != "payload"] + [literal("").label("payload")]


def destination_of(url: str) -> str:
    return "url:" + hashlib.sha256(url.encode()).hexdigest()[:32]


def message_of(row: Row[Any]) -> Message:
    return Message(
        id=row.id,
        n=row.n,
        tenant_id=row.tenant_id,
        task_id=row.task_id,
        event=EventType(row.event),
        endpoint_id=row.endpoint_id,
        url=row.url or "",
        payload=row.payload,
        destination=row.destination,
        state=MessageState(row.state),
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        last_status=row.last_status,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
    )


def attempt_of(row: Row[Any]) -> Attempt:
    return Attempt(
        message_id=row.message_id,
        endpoint_id=row.endpoint_id,
        task_id=row.task_id,
        event=EventType(row.event),
        attempt=row.attempt,
        at=row.at,
        status=row.status_code,
        error=row.error,
        duration_ms=row.duration_ms,
    )


class WebhookLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, message_id: str, tenant_id: str | None = None) -> Message | None:
        stmt = select(*M.c).where(M.c.id == message_id)
        if tenant_id is not None:
            stmt = stmt.where(M.c.tenant_id == tenant_id)
        async with self.db.read() as conn:
            row = (await conn.execute(stmt)).first()
        return None if row is None else message_of(row)

    async def of_task(self, task_id: str) -> list[Message]:
        async with self.db.read() as conn:
            rows = await conn.execute(select(*M.c).where(M.c.task_id == task_id).order_by(M.c.n))
            return [message_of(row) for row in rows]

    async def attempts(
        self,
        *,
        endpoint_id: str | None = None,
        message_id: str | None = None,
        limit: int = 100,
        before: int | None = None,
    ) -> list[tuple[int, Attempt]]:
        """The delivery log, newest first: (cursor, attempt) pairs; `before` pages on."""
        stmt = select(*A.c).order_by(A.c.id.desc()).limit(limit)
        if endpoint_id is not None:
            stmt = stmt.where(A.c.endpoint_id == endpoint_id)
        if message_id is not None:
            stmt = stmt.where(A.c.message_id == message_id)
        if before is not None:
            stmt = stmt.where(A.c.id < before)
        async with self.db.read() as conn:
            return [(row.id, attempt_of(row)) for row in await conn.execute(stmt)]

    async def trail_of(
        self, task_id: str, messages: int, tries: int
    ) -> tuple[list[Message], list[tuple[int, Attempt]], dict[str, str], bool]:
        """A task's newest `messages` messages (without bodies) and the newest `tries`
        tries at them, each oldest first, the URLs of their endpoints, and whether any
        were left out."""
        async with self.db.read() as conn:
            stmt = select(*_HEAD).where(M.c.task_id == task_id).order_by(M.c.n.desc())
            rows = (await conn.execute(stmt.limit(messages + 1))).all()
            found = [message_of(row) for row in rows[:messages]][::-1]
            cut = len(rows) > messages
            ids = [m.id for m in found]
            logged: list[tuple[int, Attempt]] = []
            if ids:
                stmt = select(*A.c).where(A.c.message_id.in_(ids)).order_by(A.c.id.desc())
                rows = (await conn.execute(stmt.limit(tries + 1))).all()
                logged = [(row.id, attempt_of(row)) for row in rows[:tries]][::-1]
                cut = cut or len(rows) > tries
            endpoint_ids = sorted({m.endpoint_id for m in found if m.endpoint_id is not None})
            urls: dict[str, str] = {}
            if endpoint_ids:
                stmt = select(E.c.id, E.c.url).where(E.c.id.in_(endpoint_ids))
                urls = {row.id: row.url for row in await conn.execute(stmt)}
        return found, logged, urls, cut
