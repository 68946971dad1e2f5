"""Task rows in and out. A change of a task is a transition (domain/transitions.py) applied
by `apply` in one conditional UPDATE ... RETURNING, so the database decides who wins a race
(worker vs. cancel vs. delete, or two workers) and nothing is half-written; the effects
registered with the repository (store/effects.py) run in the same transaction. The rest is
scheduling: leases (claim, renew, hand back, held between looks) and pokes, plus the
sweeper's reads and the purge of old rows."""

from __future__ import annotations

import dataclasses
import json
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Row, Table, Text, delete, or_, select, update
from sqlalchemy import cast as cast_to
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from vidugate import metrics
from vidugate.domain.models import Mode
from vidugate.domain.money import from_micros, to_micros
from vidugate.domain.request import VideoRequest
from vidugate.domain.scheduling import tier_of
from vidugate.domain.tasks import TERMINAL, Surface, TaskError, TaskStatus, VideoTask
from vidugate.domain.transitions import EVERY, Created, Failed, Transition
from vidugate.logs import get_logger
from vidugate.store.admission import TaskAdmission
from vidugate.store.db import Database
from vidugate.store.effects import Applied, ProgressEffect, TaskEffect
from vidugate.store.leases import URGENT, Release, TaskLeases, held
from vidugate.store.ledger import charge_of
from vidugate.store.listing import TaskPages
from vidugate.store.tables import TaskRow
from vidugate.store.task_events import delete_events

log = get_logger("vidugate.tasks")
T = cast(Table, TaskRow.__table__)
_REQUEST_NAMES = tuple(f.name for f in dataclasses.fields(VideoRequest))
# The scheduling names are re-exported: callers know one module for task rows.
__all__ = ["URGENT", "DuplicateIdempotencyKeyError", "Release", "TaskRepository", "held"]


class DuplicateIdempotencyKeyError(Exception):
    pass


def _params(request: VideoRequest) -> dict[str, Any]:
    # dataclasses.asdict's deep copy was a twentieth of a create's time; only the
    # subjects are dataclasses within (the rest is flat or a dict of strings).
    params = {name: getattr(request, name) for name in _REQUEST_NAMES}
    params["mode"] = request.mode.value
    params["subjects"] = [dataclasses.asdict(subject) for subject in request.subjects]
    return params


# params and images never change after insert: read as text and parsed once per process
# (parsing them on every claim was a tenth of a busy poller's time).
_FROZEN = {"params", "images"}
COLUMNS = [cast_to(T.c[c.name], Text).label(c.name) if c.name in _FROZEN else c for c in T.c]
_REQUEST_CACHE_LIMIT = 50_000
# ... and at most this many bytes of them (a request's texts may hold a megabyte).
REQUEST_CACHE_BYTES = 64 * 1024 * 1024


def _request_of(params_json: str) -> VideoRequest:
    params = {k: v for k, v in json.loads(params_json).items() if k in _REQUEST_NAMES}
    params["mode"] = Mode(params["mode"])
    return VideoRequest(**params)


def _to_task(row: Row[Any], request: VideoRequest, images: tuple[str, ...]) -> VideoTask:
    error = (
        TaskError(code=row.error_code, message=row.error_message or "") if row.error_code else None
    )
    return VideoTask(
        id=row.id,
        key_id=row.key_id,
        surface=Surface(row.surface),
        provider=row.provider,
        status=TaskStatus(row.status),
        progress=row.progress,
        request=request,
        created_at=row.created_at,
        updated_at=row.updated_at,
        deadline_at=row.deadline_at,
        images=images,
        watermark_key=row.watermark_key,
        started_at=row.started_at,
        completed_at=row.completed_at,
        expires_at=row.expires_at,
        upstream_id=row.upstream_id,
        upstream_account=row.upstream_account,
        submitted_at=row.submitted_at,
        error=error,
        video_key=row.video_key,
        thumbnail_key=row.thumbnail_key,
        watermarked_key=row.watermarked_key,
        spritesheet_key=row.spritesheet_key,
        has_audio=bool(row.has_audio),
        attempts=row.attempts,
        deleted_at=row.deleted_at,
        result_width=row.result_width,
        result_height=row.result_height,
        tenant_id=row.tenant_id,
        charge=charge_of(row),
        upstream_credits=(
            None
            if row.upstream_credits_micros is None
            else from_micros(row.upstream_credits_micros)
        ),
        slot=row.slot,
    )


def _announce(transition: Transition, task: VideoTask) -> None:
    """A change that has committed: its log event (one for each change, named for it) and
    its count. Ids and the upstream account's name only: never a key."""
    metrics.transition(str(transition), task.provider)
    left = transition.left(task)
    fields: dict[str, object] = {
        "task_id": task.id,
        "from": left.value if left is not None else None,
        "to": task.status.value,
        "key_id": task.key_id,
        "tenant_id": task.tenant_id,
        "provider": task.provider,
        "model": task.request.model,
        "upstream_account": task.upstream_account,
        "upstream_id": task.upstream_id,
    }
    if task.error is not None and transition.enters is not None and transition.enters.terminal:
        fields["code"] = task.error.code
        fields["message"] = task.error.message
    if isinstance(transition, Failed):
        log.warning(transition.event, **fields)
    else:
        log.info(transition.event, **fields)


class TaskRepository(TaskPages, TaskLeases, TaskAdmission):
    columns = COLUMNS

    def __init__(
        self,
        db: Database,
        *,
        cache_bytes: int = REQUEST_CACHE_BYTES,
        effects: Sequence[TaskEffect] = (),
        progress_effects: Sequence[ProgressEffect] = (),
        waiting_providers: frozenset[str] = frozenset(),
    ) -> None:
        self.db = db
        self.progress_effects = tuple(progress_effects)
        # Providers whose new tasks wait for a slot (fair scheduling, store/admission.py):
        # made with no next look, so no worker takes them before they are admitted.
        self.waiting_providers = waiting_providers
        self.effects = tuple(effects)
        self._frozen: OrderedDict[str, tuple[VideoRequest, tuple[str, ...]]] = OrderedDict()
        self._frozen_bytes = 0
        self.cache_bytes = cache_bytes

    def _task(self, row: Row[Any]) -> VideoTask:
        frozen = self._frozen.get(row.id)
        if frozen is None:
            frozen = (_request_of(row.params), tuple(json.loads(row.images or "[]")))
            size = frozen[0].approx_bytes()
            if size * 8 <= self.cache_bytes:  # a large one is parsed again rather than kept
                self._frozen[row.id] = frozen
                self._frozen_bytes += size
            while len(self._frozen) > _REQUEST_CACHE_LIMIT or self._frozen_bytes > self.cache_bytes:
                self._frozen_bytes -= self._frozen.popitem(last=False)[1][0].approx_bytes()
        return _to_task(row, *frozen)

    async def create(
        self,
        task: VideoTask,
        *,
        idempotency_key: str | None = None,
        request_hash: str | None = None,
    ) -> None:
        """Insert a new task (with the effects of `Created`, in the same transaction)."""
        if task.status is not Created.enters:
            raise ValueError(f"a task is created {Created.enters}, not {task.status}")
        values = {
            "id": task.id,
            "key_id": task.key_id,
            "surface": task.surface.value,
            "provider": task.provider,
            "model": task.request.model,
            "status": task.status.value,
            "progress": task.progress,
            "params": _params(task.request),
            "images": list(task.images),
            "watermark_key": task.watermark_key,
            "seed": task.request.seed,
            "created_at": task.created_at,
            "updated_at": task.updated_at,
            "deadline_at": task.deadline_at,
            "next_poll_at": None if task.provider in self.waiting_providers else URGENT,
            "priority": tier_of(task.request.off_peak),
            "attempts": 0,
            "has_audio": False,
            "idempotency_key": idempotency_key,
            "request_hash": request_hash,
            "tenant_id": task.tenant_id,
        }
        if task.charge is not None:
            values["price_micros"] = to_micros(task.charge.price)
            values["currency"] = task.charge.currency
            values["charge_state"] = task.charge.state.value

        async def write(conn: AsyncConnection) -> None:
            await self.db.insert(conn, T, values)
            for effect in self.effects:
                await effect(conn, Applied(Created(), task, task.created_at))

        try:
            await self.db.write(write)
        except IntegrityError as exc:
            if idempotency_key is not None:
                raise DuplicateIdempotencyKeyError(idempotency_key) from exc
            raise
        _announce(Created(), task)

    async def get(self, task_id: str, *, key_id: str | None = None) -> VideoTask | None:
        """The task; with key_id, only if that key owns it (another's is not found)."""
        stmt = select(*COLUMNS).where(T.c.id == task_id)
        if key_id is not None:
            stmt = stmt.where(T.c.key_id == key_id)
        async with self.db.read() as conn:
            row = (await conn.execute(stmt)).first()
        return self._task(row) if row is not None else None

    async def find_idempotent(
        self, key_id: str, idempotency_key: str
    ) -> tuple[VideoTask, str | None] | None:
        stmt = select(*COLUMNS).where(T.c.key_id == key_id, T.c.idempotency_key == idempotency_key)
        async with self.db.read() as conn:
            row = (await conn.execute(stmt)).first()
        return (self._task(row), row.request_hash) if row is not None else None

    async def apply(
        self,
        task_id: str,
        transition: Transition,
        *,
        owner: str | None = None,
        now: float,
    ) -> VideoTask | None:
        """Apply the transition if the task is in a state it leaves (and, given an owner,
        still leased by it), with its effects, in one transaction; the task as written, or
        None when the condition no longer held (another change won)."""
        if transition.leased and owner is None:
            raise ValueError(f"{transition} is made under a lease: name its owner")
        values = {**transition.writes(now), "updated_at": now}
        if transition.enters is not None:
            values["status"] = transition.enters.value
        if transition.pokes:
            values["next_poll_at"] = URGENT
        stmt = update(T).where(T.c.id == task_id)
        if transition.leaves != EVERY:
            stmt = stmt.where(T.c.status.in_(sorted(s.value for s in transition.leaves)))
        if owner is not None:
            stmt = stmt.where(T.c.lease_owner == owner)
        stmt = stmt.values(**values).returning(*COLUMNS)

        async def write(conn: AsyncConnection) -> VideoTask | None:
            row = (await conn.execute(stmt)).first()
            if row is None:
                return None
            task = self._task(row)
            for effect in self.effects:
                task = await effect(conn, Applied(transition, task, now)) or task
            return task

        written = await self.db.write(write)
        if written is not None:
            _announce(transition, written)
        return written

    async def expired(self, now: float, limit: int) -> list[VideoTask]:
        """Finished tasks whose files have passed their keep-until time and are still stored."""
        stmt = (
            select(*COLUMNS)
            .where(
                T.c.expires_at <= now,
                or_(
                    T.c.video_key.is_not(None),
                    T.c.thumbnail_key.is_not(None),
                    T.c.watermarked_key.is_not(None),
                ),
            )
            .limit(limit)
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [self._task(row) for row in rows]

    def _purgeable(self, finished_before: float) -> list[Any]:
        # Finished long enough ago, and no step pending (a stopped task's clean-up sets
        # next_poll_at; a leased one has it too), so no worker still needs the row.
        return [
            T.c.completed_at < finished_before,
            T.c.status.in_([s.value for s in TERMINAL]),
            T.c.next_poll_at.is_(None),
        ]

    async def purgeable(self, finished_before: float, limit: int) -> list[str]:
        """Up to `limit` ids of tasks the purge may remove, the longest finished first."""
        stmt = (
            select(T.c.id)
            .where(*self._purgeable(finished_before))
            .order_by(T.c.completed_at)
            .limit(limit)
        )
        async with self.db.read() as conn:
            return [row[0] for row in (await conn.execute(stmt)).all()]

    async def purge(self, task_ids: Sequence[str], finished_before: float) -> int:
        """Delete these rows (their Idempotency-Keys go with them), the condition checked
        again in the same statement, and the events of the rows it deleted (the same
        transaction: no history outlives its task, none is lost from a kept one)."""
        if not task_ids:
            return 0
        stmt = (
            delete(T)
            .where(T.c.id.in_(list(task_ids)), *self._purgeable(finished_before))
            .returning(T.c.id)
        )

        async def write(conn: AsyncConnection) -> int:
            purged = [row[0] for row in await conn.execute(stmt)]
            await delete_events(conn, purged)
            return len(purged)

        return await self.db.write(write)
