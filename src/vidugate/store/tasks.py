"""Task rows in and out. Every write that races another (worker vs. cancel vs. delete) is one
conditional UPDATE ... RETURNING, so the database decides who wins and nothing is half-written."""

from __future__ import annotations

import dataclasses
import json
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    Float,
    Integer,
    Row,
    String,
    Table,
    Text,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy import cast as cast_to
from sqlalchemy.exc import IntegrityError

from vidugate.domain.models import Mode
from vidugate.domain.request import VideoRequest
from vidugate.domain.tasks import ACTIVE, TERMINAL, Surface, TaskError, TaskStatus, VideoTask
from vidugate.store.db import Database
from vidugate.store.listing import TaskPages
from vidugate.store.tables import TaskRow

T = cast(Table, TaskRow.__table__)
_REQUEST_FIELDS = {f.name for f in dataclasses.fields(VideoRequest)}


class DuplicateIdempotencyKeyError(Exception):
    pass


# next_poll_at of a task to look at before every merely due one (new, poked, stopped):
# the lowest time there is, so the claim's ORDER BY next_poll_at puts it first.
URGENT = 0.0


@dataclass(frozen=True, slots=True)
class Release:
    task_id: str
    next_at: float | None
    progress: int | None = None
    keep_lease: bool = False  # held for this owner alone until its next look (+ a lease)


def held(owner: str) -> str:
    """The lease owner of a task an owner holds between looks: not in its hands now (so
    not renewed, nor due for it until next_poll_at), but no other worker may take it until
    the hold runs out."""
    return f"held:{owner}"


def _params(request: VideoRequest) -> dict[str, Any]:
    params = dataclasses.asdict(request)
    params["mode"] = request.mode.value
    return params


# params and images never change after insert: read as text and parsed once per process
# (parsing them on every claim was a tenth of a busy poller's time).
_FROZEN = {"params", "images"}
COLUMNS = [cast_to(T.c[c.name], Text).label(c.name) if c.name in _FROZEN else c for c in T.c]
_REQUEST_CACHE_LIMIT = 50_000
# ... and at most this many bytes of them (a request's texts may hold a megabyte).
REQUEST_CACHE_BYTES = 64 * 1024 * 1024


def _request_of(params_json: str) -> VideoRequest:
    params = {k: v for k, v in json.loads(params_json).items() if k in _REQUEST_FIELDS}
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
    )


class TaskRepository(TaskPages):
    columns = COLUMNS

    def __init__(self, db: Database, *, cache_bytes: int = REQUEST_CACHE_BYTES) -> None:
        self.db = db
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

    async def insert(
        self,
        task: VideoTask,
        *,
        idempotency_key: str | None = None,
        request_hash: str | None = None,
    ) -> None:
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
            "next_poll_at": URGENT,
            "attempts": 0,
            "has_audio": False,
            "idempotency_key": idempotency_key,
            "request_hash": request_hash,
        }
        try:
            await self.db.run(insert(T).values(**values))
        except IntegrityError as exc:
            if idempotency_key is not None:
                raise DuplicateIdempotencyKeyError(idempotency_key) from exc
            raise

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

    async def update(
        self,
        task_id: str,
        *,
        expect: Iterable[TaskStatus] | None = None,
        owner: str | None = None,
        values: dict[str, Any],
    ) -> VideoTask | None:
        """Apply values when the task is still in one of `expect` (and leased by `owner`,
        when given); returns the new task, or None when the condition no longer held."""
        stmt = update(T).where(T.c.id == task_id)
        if expect is not None:
            stmt = stmt.where(T.c.status.in_([s.value for s in expect]))
        if owner is not None:
            stmt = stmt.where(T.c.lease_owner == owner)
        stmt = stmt.values(**values).returning(*COLUMNS)
        rows = await self.db.returning(stmt)
        return self._task(rows[0]) if rows else None

    async def claim_due(
        self, owner: str, *, now: float, lease_until: float, limit: int
    ) -> list[VideoTask]:
        """Lease up to `limit` tasks whose next look is due and whose lease is free, the
        urgent ones (new, poked, stopped) first."""
        due = (
            select(T.c.id)
            .where(
                # Any status: a stopped task is due once more so a worker can clean up after it.
                T.c.next_poll_at <= now,
                or_(
                    T.c.lease_until.is_(None),
                    T.c.lease_until < now,
                    T.c.lease_owner == held(owner),
                ),
            )
            .order_by(T.c.next_poll_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        stmt = (
            update(T)
            .where(T.c.id.in_(due.scalar_subquery()))
            # Claiming consumes urgency: a poke while leased shows as URGENT again.
            .values(lease_owner=owner, lease_until=lease_until, next_poll_at=now)
            .returning(*COLUMNS)
        )
        return [self._task(row) for row in await self.db.returning(stmt)]

    async def release_many(
        self, owner: str, items: Sequence[Release], *, hold_seconds: float = 0.0
    ) -> None:
        """Hand tasks back in one transaction: due again at their next time (unless a poke,
        e.g. a callback or a cancel, came while the lease was held: then at once), with a
        higher progress recorded for the ones still active. Those marked keep_lease stay
        held for this owner until hold_seconds past their next time."""
        if not items:
            return
        now = time.time()
        # No IN (...) here: an executemany statement cannot expand one.
        active = or_(*(T.c.status == s.value for s in ACTIVE))
        # Typed, so PostgreSQL knows each parameter's type where it stands alone.
        b_next = bindparam("b_next", type_=Float)
        b_progress = bindparam("b_progress", type_=Integer)
        b_keep = bindparam("b_keep", type_=Boolean)
        raised = and_(active, b_progress.is_not(None))
        # A poke outranks even "never again": a cancel or delete that came during a task's
        # last step still gets its clean-up step.
        due = case(
            (T.c.next_poll_at == URGENT, URGENT),
            (b_next.is_(None), None),
            else_=b_next,
        )
        stmt = (
            update(T)
            .where(T.c.id == bindparam("b_id", type_=String), T.c.lease_owner == owner)
            .values(
                lease_owner=case((b_keep, held(owner)), else_=None),
                lease_until=case((b_keep, b_next + hold_seconds), else_=None),
                next_poll_at=due,
                progress=case((raised, b_progress), else_=T.c.progress),
                updated_at=case((raised, now), else_=T.c.updated_at),
            )
        )
        rows = [
            {
                "b_id": item.task_id,
                "b_next": item.next_at,
                "b_progress": item.progress,
                "b_keep": item.keep_lease and item.next_at is not None,
            }
            for item in items
        ]
        await self.db.run(stmt, rows)

    async def find_by_upstream(self, account: str, upstream_id: str) -> str | None:
        stmt = select(T.c.id).where(T.c.upstream_id == upstream_id, T.c.upstream_account == account)
        async with self.db.read() as conn:
            return (await conn.execute(stmt)).scalar()

    async def poke(self, task_id: str) -> bool:
        """Make an active task due before any other (an upstream said it changed)."""
        stmt = (
            update(T)
            .where(T.c.id == task_id, T.c.status.in_([s.value for s in ACTIVE]))
            .values(next_poll_at=URGENT)
        )
        return await self.db.run(stmt) > 0

    async def renew(self, owner: str, task_ids: list[str], *, lease_until: float) -> None:
        stmt = (
            update(T)
            .where(T.c.lease_owner == owner, T.c.id.in_(task_ids))
            .values(lease_until=lease_until)
        )
        await self.db.run(stmt)

    async def release_owners(self, owners: Sequence[str]) -> int:
        """Hand back the leases of workers known to be dead."""
        if not owners:
            return 0
        every = [*owners, *(held(owner) for owner in owners)]
        stmt = (
            update(T).where(T.c.lease_owner.in_(every)).values(lease_owner=None, lease_until=None)
        )
        return await self.db.run(stmt)

    async def lease_owners(self) -> list[str]:
        stmt = select(T.c.lease_owner).where(T.c.lease_owner.is_not(None)).distinct()
        async with self.db.read() as conn:
            return [row[0] for row in (await conn.execute(stmt)).all()]

    async def next_due_at(self) -> float | None:
        stmt = select(func.min(T.c.next_poll_at)).where(T.c.status.in_([s.value for s in ACTIVE]))
        async with self.db.read() as conn:
            value = (await conn.execute(stmt)).scalar()
        return float(value) if value is not None else None

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

    async def counts_by_status(self) -> dict[str, int]:
        stmt = (
            select(T.c.status, func.count())
            .where(and_(T.c.deleted_at.is_(None)))
            .group_by(T.c.status)
        )
        async with self.db.read() as conn:
            return {row[0]: int(row[1]) for row in (await conn.execute(stmt)).all()}

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
        again in the same statement."""
        if not task_ids:
            return 0
        stmt = delete(T).where(T.c.id.in_(list(task_ids)), *self._purgeable(finished_before))
        return await self.db.run(stmt)
