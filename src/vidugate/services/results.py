"""Keeping a finished task's files: copied from the provider into the file store before the
upstream's links expire, retried with back-off, and failing the task with a clear error
(rather than completing it without a file) when the copy keeps failing. The spritesheet
is made here, once, from the video as stored, whichever provider made it."""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import time
from pathlib import Path

from vidugate.domain.tasks import TaskStatus, VideoTask
from vidugate.files.base import FileStore
from vidugate.media.probe import probe_video
from vidugate.media.spritesheet import SpritesheetError, make_spritesheet
from vidugate.providers.base import Provider, ProviderJob, ResultFiles
from vidugate.services.cached_tasks import CachedTasks

log = logging.getLogger("vidugate.lifecycle")


def result_prefix(task_id: str) -> str:
    return f"videos/{task_id}"


class ResultKeeper:
    def __init__(
        self,
        tasks: CachedTasks,
        files: FileStore,
        work_dir: Path,
        retention_seconds: int,
        *,
        spritesheet_threads: int = 1,
    ) -> None:
        self.tasks = tasks
        self.files = files
        self.work_dir = work_dir / "results"
        self.retention_seconds = retention_seconds
        # Sheets are made in threads (a Vidu result's must not stall the event loop); this
        # bounds how many at once when many tasks finish together.
        self._sheet_slots = asyncio.Semaphore(spritesheet_threads)

    async def keep(self, task: VideoTask, owner: str, provider: Provider, job: ProviderJob) -> None:
        # Each attempt has its own scratch and its own stored copy: a worker whose lease ran
        # out may still be finishing the task that another has completed, and what it does
        # must not touch the winner's files (processes may share the data directory).
        attempt = secrets.token_hex(6)
        scratch = self.work_dir / f"{task.id}.{attempt}"
        prefix = f"{result_prefix(task.id)}/{attempt}"
        try:
            files = await provider.fetch_result(job, scratch)
            # The size reported is the file's, not the request's: an upstream may make
            # another frame than the one asked for. Probed before the store takes the file
            # (the same bytes), from its header only.
            info = await asyncio.to_thread(probe_video, files.video)
            # Of the video as served by default: the watermarked copy when one was asked.
            sheet = await self._spritesheet(task, files.watermarked or files.video, scratch)
            keys = await self._store(prefix, files, sheet)
        finally:
            await asyncio.to_thread(shutil.rmtree, scratch, True)
        now = time.time()
        updated = await self.tasks.update(
            task.id,
            expect={TaskStatus.PROCESSING},
            owner=owner,
            values={
                "status": TaskStatus.COMPLETED.value,
                "progress": 100,
                "completed_at": now,
                "expires_at": now + self.retention_seconds,
                "has_audio": files.has_audio,
                "result_width": info.width if info else files.width,
                "result_height": info.height if info else files.height,
                **keys,
            },
        )
        if info is None:
            log.warning("result.unprobed task_id=%s size=%dx%d", task.id, files.width, files.height)
        elif (info.width, info.height) != (task.request.width, task.request.height):
            log.info(
                "result.size_differs task_id=%s asked=%s made=%s", task.id, task.size, info.size
            )
        if updated is None:
            # Cancelled, deleted or finished by another worker meanwhile: this copy is no one's.
            await self.files.delete_prefix(prefix)
            current = await self.tasks.get(task.id)
            if current is None or (
                current.status.terminal
                and (current.status is not TaskStatus.COMPLETED or current.deleted_at is not None)
            ):
                # A stop won. Storing this copy may have re-made the task's result folder
                # after the stop removed it, and no clean-up step comes after this one (its
                # "never again" hand-back outranks the stop's poke): remove it here, by the
                # clean-up step's own rule.
                await self.files.delete_prefix(result_prefix(task.id))
            return
        log.info("task.completed task_id=%s", task.id)

    async def _spritesheet(self, task: VideoTask, video: Path, scratch: Path) -> Path | None:
        """The sheet as a file in scratch; None (and the task completes without one) when
        the video cannot be decoded: the video itself is still what was asked for."""
        out = scratch / "spritesheet.jpg"

        def make() -> None:
            out.write_bytes(make_spritesheet(video).jpeg)

        async with self._sheet_slots:
            try:
                await asyncio.to_thread(make)
            except SpritesheetError as exc:
                log.warning("result.no_spritesheet task_id=%s reason=%s", task.id, exc)
                return None
            except Exception:
                # A bug here must not fail (or re-fetch, then fail) a video that is fine.
                log.exception("result.spritesheet_error task_id=%s", task.id)
                return None
        return out

    async def _store(
        self, prefix: str, files: ResultFiles, spritesheet: Path | None
    ) -> dict[str, str | None]:
        keys: dict[str, str | None] = {
            "video_key": f"{prefix}/video.mp4",
            "thumbnail_key": None,
            "watermarked_key": None,
            "spritesheet_key": None,
        }
        await self.files.put_file(f"{prefix}/video.mp4", files.video)
        if files.thumbnail is not None:
            keys["thumbnail_key"] = f"{prefix}/thumbnail.jpg"
            await self.files.put_file(f"{prefix}/thumbnail.jpg", files.thumbnail)
        if files.watermarked is not None:
            keys["watermarked_key"] = f"{prefix}/watermarked.mp4"
            await self.files.put_file(f"{prefix}/watermarked.mp4", files.watermarked)
        if spritesheet is not None:
            keys["spritesheet_key"] = f"{prefix}/spritesheet.jpg"
            await self.files.put_file(f"{prefix}/spritesheet.jpg", spritesheet)
        return keys
