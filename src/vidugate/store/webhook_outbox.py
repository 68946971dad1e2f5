"""The webhook outbox (docs/webhooks.md): a task effect (store/effects.py) writes one
message per event and destination in the transaction of the change that causes it; the
deliverer (workers/deliverer.py) leases due messages, sends them and records each try.

A task's messages to one destination go one at a time, in the order they were written
(`n`): a message written while an earlier one of its task and destination is pending (in
flight or waiting for its retry) waits with no due time, and the earlier one's settling
(delivered, failed, dropped) makes the next one due, in its own transaction. So a claim
reads only due messages: a dead endpoint's backlog is not walked by every claim. The
insert locks the pending predecessor it sees (FOR UPDATE on PostgreSQL; SQLite has one
writer), so a predecessor settling at the same moment either sees its successor or the
successor sees it settled. Leases let several processes share the work: a claim is
a conditional UPDATE that one process wins per message; a lease that runs out (its process
died mid-send) lets another send it again, with the same webhook-id, so receivers that
deduplicate by it see each event once."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    String,
    Table,
    Text,
    and_,
    bindparam,
    delete,
    exists,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from vidugate.domain.tasks import Surface, VideoTask, new_id
from vidugate.domain.webhooks import (
    PROGRESS_EVERY,
    REQUEST_EVENTS,
    Attempt,
    EventType,
    Message,
    MessageState,
    RenderBodies,
    event_of,
)
from vidugate.store.db import Database
from vidugate.store.effects import Applied
from vidugate.store.tables import WebhookAttemptRow, WebhookEndpointRow, WebhookMessageRow
from vidugate.store.webhook_log import destination_of, message_of

M = cast(Table, WebhookMessageRow.__table__)
A = cast(Table, WebhookAttemptRow.__table__)
E = cast(Table, WebhookEndpointRow.__table__)
_EARLIER = M.alias("earlier")
_PENDING = MessageState.PENDING.value

# The videos whose last progress event time each process remembers (the oldest forgotten).
PROGRESS_MEMORY = 100_000
# A try's outcome, and a message settled unsent: built once, run as prepared statements on
# the hot path (Database.execute).
_MINE = and_(
    M.c.n == bindparam("b_n", type_=BigInteger),
    M.c.lease_owner == bindparam("b_owner", type_=String),
)
_SETTLED = {
    "state": bindparam("b_state", type_=String),
    "next_attempt_at": bindparam("b_next", type_=Float),
    "lease_owner": None,
    "lease_until": None,
}
_SETTLE_TRIED = (
    update(M)
    .where(_MINE)
    .values(
        **_SETTLED,
        attempts=M.c.attempts + 1,
        last_status=bindparam("b_status", type_=Integer),
        last_error=bindparam("b_error", type_=Text),
        delivered_at=bindparam("b_at", type_=Float),
    )
)
_SETTLE_UNSENT = update(M).where(_MINE).values(**_SETTLED)
# The pending message of a task to a destination, if any, locked for the transaction.
_PENDING_BEFORE = (
    select(M.c.n)
    .where(
        M.c.task_id == bindparam("b_task"),
        M.c.destination == bindparam("b_destination"),
        M.c.state == _PENDING,
    )
    .limit(1)
    .with_for_update()
)
# The next waiting message after a settled one, made due.
_NEXT_WAITING = (
    select(func.min(_EARLIER.c.n))
    .where(
        _EARLIER.c.task_id == bindparam("b_task", type_=String),
        _EARLIER.c.destination == bindparam("b_destination", type_=String),
        _EARLIER.c.state == _PENDING,
        _EARLIER.c.n > bindparam("b_after", type_=BigInteger),
    )
    .scalar_subquery()
)
_RELEASE_NEXT = (
    update(M)
    .where(M.c.n == _NEXT_WAITING, M.c.next_attempt_at.is_(None))
    .values(next_attempt_at=bindparam("b_now", type_=Float))
)
_ENDPOINTS_OF = select(E.c.id, E.c.events).where(
    E.c.tenant_id == bindparam("tenant"), E.c.disabled.is_(False)
)


@dataclass(frozen=True, slots=True)
class Due:
    """A leased message with what sending it needs."""

    message: Message
    url: str | None  # None: its endpoint is gone or disabled (the message is dropped)
    secret: str | None  # the endpoint's; None for a request's URL (the account's is used)


class WebhookOutbox:
    def __init__(
        self, db: Database, render: RenderBodies, wake: Callable[[], None] | None = None
    ) -> None:
        self.db = db
        self.render = render
        self.wake = wake or (lambda: None)
        self._progress_sent: OrderedDict[str, float] = OrderedDict()
        self._progress_wanting: dict[str, list[str]] = {}
        self._progress_read_at: float | None = None

    async def progress_effect(
        self, conn: AsyncConnection, tasks: Sequence[VideoTask], now: float
    ) -> None:
        """The progress effect: `video.progress` to the endpoints that want it, at most one
        per video every PROGRESS_EVERY seconds (throttled in this process: a video's
        progress is recorded by the one worker that holds it)."""
        wanting = await self._progress_endpoints(conn, now)
        if not wanting:
            return
        written = False
        for task in tasks:
            endpoints = wanting.get(task.tenant_id or "")
            last = self._progress_sent.get(task.id)
            if not endpoints or (last is not None and now - last < PROGRESS_EVERY):
                continue
            self._progress_sent[task.id] = now
            self._progress_sent.move_to_end(task.id)
            while len(self._progress_sent) > PROGRESS_MEMORY:
                self._progress_sent.popitem(last=False)
            bodies = self.render(task, EventType.PROGRESS, now)
            for endpoint_id in endpoints:
                await self._insert(
                    conn, task, EventType.PROGRESS, now, endpoint_id, bodies.envelope
                )
                written = True
        if written:
            self.wake()

    async def _progress_endpoints(self, conn: AsyncConnection, now: float) -> dict[str, list[str]]:
        """Each account's endpoints that want progress, read again every few seconds."""
        if self._progress_read_at is None or now - self._progress_read_at >= PROGRESS_EVERY:
            wanting: dict[str, list[str]] = {}
            rows = await conn.execute(
                select(E.c.id, E.c.tenant_id, E.c.events).where(E.c.disabled.is_(False))
            )
            for endpoint_id, tenant_id, events in rows:
                if EventType.PROGRESS.value in events:
                    wanting.setdefault(tenant_id, []).append(endpoint_id)
            self._progress_wanting, self._progress_read_at = wanting, now
        return self._progress_wanting

    async def _insert(
        self,
        conn: AsyncConnection,
        task: VideoTask,
        event: EventType,
        now: float,
        endpoint_id: str | None,
        payload: str,
        url: str | None = None,
    ) -> None:
        destination = endpoint_id or destination_of(url or "")
        earlier = await conn.execute(
            _PENDING_BEFORE, {"b_task": task.id, "b_destination": destination}
        )
        blocked = earlier.first() is not None
        await self.db.insert(
            conn,
            M,
            {
                "id": new_id("msg_", now),
                "tenant_id": task.tenant_id,
                "task_id": task.id,
                "event": event.value,
                "endpoint_id": endpoint_id,
                "destination": destination,
                "url": url,
                "payload": payload,
                "state": _PENDING,
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": None if blocked else now,
            },
        )

    async def effect(self, conn: AsyncConnection, applied: Applied) -> VideoTask | None:
        """The task effect: this change's event, one message per destination that wants it."""
        event = event_of(applied.transition)
        if event is None:
            return None
        task = applied.task
        endpoints: list[str] = []
        if task.tenant_id is not None:
            for endpoint_id, events in await conn.execute(
                _ENDPOINTS_OF, {"tenant": task.tenant_id}
            ):
                if event.value in events:
                    endpoints.append(endpoint_id)
        own_url = task.request.callback_url if event in REQUEST_EVENTS else None
        if not endpoints and own_url is None:
            return None
        if task.status.terminal:
            self._progress_sent.pop(task.id, None)
        bodies = self.render(task, event, applied.now)
        for endpoint_id in endpoints:
            await self._insert(conn, task, event, applied.now, endpoint_id, bodies.envelope)
        if own_url is not None:
            payload = bodies.callback if task.surface is Surface.VIDU else bodies.envelope
            await self._insert(conn, task, event, applied.now, None, payload, own_url)
        # Before the commit: the deliverer looks again shortly after a wake (and on its
        # own every poll), so a message woken for early is not missed.
        self.wake()
        return None

    async def claim(
        self,
        owner: str,
        now: float,
        limit: int,
        lease: float,
        room: Mapping[str, int] | None = None,
        per_destination: int | None = None,
    ) -> list[Due]:
        """Lease up to `limit` due messages for `owner`: at most `per_destination` to one
        destination, less what `room` says it already has in flight."""
        busy = room or {}
        full = [d for d, n in busy.items() if per_destination is not None and n >= per_destination]
        free = or_(M.c.lease_until.is_(None), M.c.lease_until < now)
        candidates = (
            select(M.c.n, M.c.destination)
            .where(M.c.next_attempt_at <= now, M.c.state == _PENDING, free)
            .where(M.c.destination.not_in(full) if full else true())
            .order_by(M.c.next_attempt_at, M.c.n)
            .limit(limit * 4)  # enough that a few busy destinations leave the rest room
        )

        async def write(conn: AsyncConnection) -> list[Due]:
            taken: dict[str, int] = dict(busy)
            chosen = []
            for n, destination in await conn.execute(candidates):
                if per_destination is not None and taken.get(destination, 0) >= per_destination:
                    continue
                taken[destination] = taken.get(destination, 0) + 1
                chosen.append(n)
                if len(chosen) >= limit:
                    break
            if not chosen:
                return []
            leased = await conn.execute(
                update(M)
                .where(M.c.n.in_(chosen), M.c.state == _PENDING, free)
                .values(lease_owner=owner, lease_until=now + lease)
                .returning(*M.c)
            )
            messages = [message_of(row) for row in leased]
            ids = [m.endpoint_id for m in messages if m.endpoint_id is not None]
            targets: dict[str, tuple[str, str]] = {}
            if ids:
                rows = await conn.execute(
                    select(E.c.id, E.c.url, E.c.secret).where(
                        E.c.id.in_(ids), E.c.disabled.is_(False)
                    )
                )
                targets = {row.id: (row.url, row.secret) for row in rows}
            due = []
            for message in sorted(messages, key=lambda m: m.n):
                if message.endpoint_id is None:
                    due.append(Due(message, message.url, None))
                else:
                    url, secret = targets.get(message.endpoint_id, (None, None))
                    due.append(Due(message, url, secret))
            return due

        return await self.db.write(write)

    @staticmethod
    def _next_of(message: Message, now: float) -> dict[str, Any]:
        return {
            "b_task": message.task_id,
            "b_destination": message.destination,
            "b_after": message.n,
            "b_now": now,
        }

    async def release_stuck(self, now: float) -> int:
        """Make due any waiting message with no pending predecessor (none should be: the
        settling of a predecessor releases its successor; this is the net under that)."""
        earlier_pending = exists().where(
            _EARLIER.c.task_id == M.c.task_id,
            _EARLIER.c.destination == M.c.destination,
            _EARLIER.c.n < M.c.n,
            _EARLIER.c.state == _PENDING,
        )
        stmt = (
            update(M)
            .where(M.c.next_attempt_at.is_(None), M.c.state == _PENDING, ~earlier_pending)
            .values(next_attempt_at=now)
        )
        return await self.db.run(stmt)

    async def record(
        self,
        message: Message,
        owner: str,
        attempt: Attempt | None,
        state: MessageState,
        next_attempt_at: float | None,
        now: float,
    ) -> bool:
        """A try's outcome (None: the message was not sent, e.g. dropped) and the message's
        next state (settled: its task's next message to the destination is due from `now`);
        False if the lease was lost meanwhile (the try is logged all the same)."""
        params: dict[str, Any] = {
            "b_n": message.n,
            "b_owner": owner,
            "b_state": state.value,
            "b_next": next_attempt_at,
        }
        if attempt is not None:
            delivered = attempt.at if state is MessageState.DELIVERED else None
            params |= {"b_status": attempt.status, "b_error": attempt.error, "b_at": delivered}

        async def write(conn: AsyncConnection) -> bool:
            if attempt is not None:
                await self.db.insert(
                    conn,
                    A,
                    {
                        "message_id": attempt.message_id,
                        "endpoint_id": attempt.endpoint_id,
                        "tenant_id": message.tenant_id,
                        "task_id": attempt.task_id,
                        "event": attempt.event.value,
                        "attempt": attempt.attempt,
                        "at": attempt.at,
                        "status_code": attempt.status,
                        "error": attempt.error,
                        "duration_ms": attempt.duration_ms,
                    },
                )
            stmt = _SETTLE_TRIED if attempt is not None else _SETTLE_UNSENT
            count, _rows = await self.db.execute(conn, stmt, params)
            if count and state is not MessageState.PENDING:
                await self.db.execute(conn, _RELEASE_NEXT, self._next_of(message, now))
            return bool(count)

        return await self.db.write(write)

    async def redeliver(self, message_id: str, now: float) -> Message | None:
        """Send a message again now (whatever its state), under the same webhook-id."""
        rows = await self.db.returning(
            update(M)
            .where(M.c.id == message_id)
            .values(state=_PENDING, next_attempt_at=now, lease_owner=None, lease_until=None)
            .returning(*M.c)
        )
        if rows:
            self.wake()
        return message_of(rows[0]) if rows else None

    async def purge(self, before: float) -> int:
        """Settled messages written before `before`, and tries made before it."""
        settled = and_(M.c.created_at < before, M.c.state != _PENDING)
        removed = await self.db.run(delete(M).where(settled))
        return removed + await self.db.run(delete(A).where(A.c.at < before))
