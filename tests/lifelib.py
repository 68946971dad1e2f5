"""The task lifecycle's world, in the test process: a real database (the run's backend,
tests/dblib.py), a real file store, the one writer of task rows, the lifecycle and the
video service over a scripted provider (tests/fakeprovider.py), all on one ManualClock.
`step` does what a worker does with due tasks (claim, step, hand back), one call at a
time, so a test decides what happens in which order."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from dblib import fresh_database_url, query
from fakeprovider import FakeProvider
from imagelib import flat_png
from vidugate.clock import ManualClock
from vidugate.domain.keys import ApiKey
from vidugate.domain.models import Mode
from vidugate.domain.request import VideoFields, build_request
from vidugate.domain.tasks import Surface, TaskStatus, VideoTask, new_id
from vidugate.files.local import LocalFileStore
from vidugate.net.fetch import FetchPolicy, UrlFetcher
from vidugate.services.cached_tasks import CachedTasks, Release
from vidugate.services.images import DecodePool, ImageIngest
from vidugate.services.lifecycle import LifecycleConfig, Next, TaskLifecycle, input_prefix
from vidugate.services.videos import CreateConfig, VideoService
from vidugate.store.db import Database, open_database
from vidugate.store.effects import Applied, TaskEffect
from vidugate.store.tasks import TaskRepository

LEASE = 30.0
TRIES = 3000
DEADLINE = 600.0
RETENTION = 3600
KEY = ApiKey(id="key_test", name="test", prefix="vg-test", created_at=0.0, revoked_at=None)


def a_task(
    now: float,
    *,
    provider: str = "fake",
    images: Sequence[str] = (),
    deadline: float = DEADLINE,
    key_id: str = KEY.id,
    task_id: str | None = None,
) -> VideoTask:
    mode = Mode.IMAGE if images else Mode.TEXT
    request = (
        build_request(
            VideoFields(model="viduq3-pro", prompt="x"), mode=mode, image_count=len(images)
        )
        .with_seed()
        .with_frame((320, 240) if images else None)
    )
    return VideoTask(
        id=task_id or new_id("video_", now),
        key_id=key_id,
        surface=Surface.OPENAI,
        provider=provider,
        status=TaskStatus.QUEUED,
        progress=0,
        request=request,
        created_at=now,
        updated_at=now,
        deadline_at=now + deadline,
        images=tuple(images),
    )


class EffectLog:
    """A test effect: one row per change it sees, in a table of its own, written on the
    change's connection (as the ledger's and the outbox's rows will be)."""

    def __init__(self, *, refuse: type | None = None) -> None:
        self.refuse = refuse  # raise for changes of this type, after writing its row

    async def create_table(self, database: Database) -> None:
        async def make(conn: AsyncConnection) -> None:
            await conn.execute(text("CREATE TABLE effect_log (task_id TEXT, change TEXT)"))

        await database.write(make)

    async def __call__(self, conn: AsyncConnection, applied: Applied) -> None:
        await conn.execute(
            text("INSERT INTO effect_log VALUES (:task_id, :change)"),
            {"task_id": applied.task.id, "change": f"{applied.transition}:{applied.task.status}"},
        )
        if self.refuse is not None and isinstance(applied.transition, self.refuse):
            raise RuntimeError(f"effect refused {applied.transition}")


async def logged(database: Database) -> list[tuple[str, str]]:
    rows = await query(database.url, "SELECT task_id, change FROM effect_log")
    return [(str(a), str(b)) for a, b in rows]


async def eventually(
    predicate: Callable[[], Awaitable[object]],
    what: str,
    *,
    advance: float = 0.0,
    clock: ManualClock | None = None,
) -> None:
    """Let the event loop (and the database's threads) run until `predicate()` holds,
    moving `clock` by `advance` between tries when given: the bound on tries only ends a
    broken run (tests carry no timing thresholds)."""
    for _ in range(TRIES):
        if await predicate():
            return
        if clock is not None and advance:
            clock.advance(advance)
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


@dataclass
class World:
    clock: ManualClock
    url: str
    database: Database
    repo: TaskRepository
    tasks: CachedTasks
    files: LocalFileStore
    media: Path
    provider: FakeProvider
    lifecycle: TaskLifecycle
    videos: VideoService

    async def new_task(self, *, images: int = 1, deadline: float = DEADLINE) -> VideoTask:
        """A queued task as a create leaves it, with `images` input images stored."""
        task_id = new_id("video_", self.clock.now())
        keys = [f"{input_prefix(task_id)}/image{n}" for n in range(images)]
        for key in keys:
            path = self.media / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(flat_png(320, 240))
        task = a_task(self.clock.now(), images=keys, deadline=deadline, task_id=task_id)
        await self.tasks.create(task)
        return task

    async def row(self, task_id: str) -> VideoTask:
        """The task as stored (past the cache)."""
        task = await self.repo.get(task_id)
        assert task is not None, task_id
        return task

    async def lease(self, task_id: str) -> tuple[str | None, float | None, float | None]:
        """(lease_owner, lease_until, next_poll_at) as stored."""
        rows = await query(
            self.url,
            "SELECT lease_owner, lease_until, next_poll_at FROM tasks WHERE id = $1",
            task_id,
        )
        return rows[0]

    async def step(self, owner: str = "w1", *, limit: int = 100) -> dict[str, Next]:
        """What a worker does with the tasks due now: lease them, step each, hand them
        back (one batch); each task's outcome."""
        claimed = await self.tasks.claim(owner, lease_seconds=LEASE, limit=limit)
        outcomes = {task.id: await self.lifecycle.step(task, owner) for task in claimed}
        await self.tasks.hand_back(
            owner,
            [Release(i, n.at, n.progress, n.keep_lease) for i, n in sorted(outcomes.items())],
            hold_seconds=LEASE,
        )
        return outcomes

    def result_files(self, task_id: str) -> list[Path]:
        return sorted(p for p in (self.media / "videos" / task_id).rglob("*") if p.is_file())

    def input_files(self, task_id: str) -> list[Path]:
        return sorted(p for p in (self.media / input_prefix(task_id)).rglob("*") if p.is_file())


@contextlib.asynccontextmanager
async def open_world(
    tmp_path: Path,
    provider: FakeProvider | None = None,
    *,
    effects: Sequence[TaskEffect] = (),
    url: str | None = None,
) -> AsyncIterator[World]:
    clock = ManualClock()
    url = url or fresh_database_url(tmp_path)
    provider = provider or FakeProvider()
    async with (
        open_database(url) as database,
        UrlFetcher(FetchPolicy(allow_private=False, allow_networks=(), timeout=5)) as fetcher,
    ):
        for effect in effects:
            if isinstance(effect, EffectLog):
                await effect.create_table(database)
        repo = TaskRepository(database, effects=effects)
        tasks = CachedTasks(repo, shared=True, clock=clock)
        media = tmp_path / "media"
        files = LocalFileStore(media)
        lifecycle = TaskLifecycle(
            tasks,
            {provider.id: provider},
            files,
            LifecycleConfig(retention_seconds=RETENTION, work_dir=tmp_path / "work"),
            clock=clock,
        )
        pool = DecodePool(1)
        videos = VideoService(
            tasks,
            ImageIngest(
                files,
                fetcher,
                tmp_path / "work",
                max_bytes=1 << 20,
                pool=pool,
                fetch_budget=1 << 20,
            ),
            files,
            CreateConfig(
                provider=provider.id, deadline_seconds=DEADLINE, off_peak_deadline_seconds=DEADLINE
            ),
            wake_worker=lambda: None,
            clock=clock,
        )
        try:
            yield World(
                clock,
                url,
                database,
                repo,
                tasks,
                files,
                media.resolve(),
                provider,
                lifecycle,
                videos,
            )
        finally:
            pool.close()
