"""Keeping a finished task's files: copied from the provider into the file store before the
upstream's links expire, retried with back-off, and failing the task with a clear error
(rather than completing it without a file) when the copy keeps failing. A video whose
header reads as a video is given a spritesheet key beside it; the sheet itself is made
from the stored video when first asked for (services/content.py says why)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from vidugate import metrics
from vidugate.domain.tasks import TaskStatus, VideoTask
from vidugate.domain.transitions import Completed
from vidugate.files.base import FileStore
from vidugate.logs import get_logger
from vidugate.media.probe import VideoInfo, probe_video
from vidugate.providers.base import Provider, ProviderJob, ResultFiles
from vidugate.services.cached_tasks import CachedTasks

log = get_logger("vidugate.lifecycle")


def result_prefix(task_id: str) -> str:
    return f"videos/{task_id}"


class ResultKeeper:
    def __init__(
        self,
        tasks: CachedTasks,
        files: FileStore,
        work_dir: Path,
        retention_seconds: int,
    ) -> None:
        self.tasks = tasks
        self.files = files
        self.work_dir = work_dir / "results"
        self.retention_seconds = retention_seconds

    async def keep(
        self,
        task: VideoTask,
        owner: str,
        provider: Provider,
        job: ProviderJob,
        credits: Decimal | None = None,
    ) -> None:
        """Copy the result and complete the task; `credits`: what the upstream's final
        status says the job cost, recorded with the completion."""
        # Each attempt has its own scratch and its own stored copy: a worker whose lease ran
        # out may still be finishing the task that another has completed, and what it does
        # must not touch the winner's files (processes may share the data directory).
        attempt = secrets.token_hex(6)
        prefix = f"{result_prefix(task.id)}/{attempt}"
        # A local store takes the files where they are fetched: no second copy, no move.
        in_place = self.files.local_dir(prefix)
        scratch = in_place or self.work_dir / f"{task.id}.{attempt}"
        start = time.perf_counter()
        copied = 0
        try:
            files = await provider.fetch_result(job, scratch)
            # The size reported is the file's, not the request's: an upstream may make
            # another frame than the one asked for. Probed from its header only.
            info, copied = await asyncio.to_thread(_probed, files)
            if in_place is not None:
                keys = _Keys.under(prefix, in_place, files)
            else:
                keys = await self._store(prefix, files)
            if info is not None:
                # Made on first ask (services/content.py); a file with no readable video
                # has none to make.
                keys.spritesheet = f"{prefix}/spritesheet.jpg"
        except BaseException:
            metrics.result_copy(task.provider, "failed", time.perf_counter() - start, 0)
            if in_place is not None:  # what a failed attempt left is no one's
                await asyncio.shield(self.files.delete_prefix(prefix))
            raise
        finally:
            if in_place is None:
                await asyncio.to_thread(shutil.rmtree, scratch, True)
        metrics.result_copy(task.provider, "ok", time.perf_counter() - start, copied)
        updated = await self.tasks.apply(
            task.id,
            Completed(
                video_key=keys.video,
                thumbnail_key=keys.thumbnail,
                watermarked_key=keys.watermarked,
                spritesheet_key=keys.spritesheet,
                has_audio=files.has_audio,
                width=info.width if info else files.width,
                height=info.height if info else files.height,
                keep_seconds=self.retention_seconds,
                credits=credits,
            ),
            owner=owner,
        )
        if info is None:
            log.warning("result.unprobed", task_id=task.id, size=f"{files.width}x{files.height}")
        elif (info.width, info.height) != (task.request.width, task.request.height):
            log.info("result.size_differs", task_id=task.id, asked=task.size, made=info.size)
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

    async def _store(self, prefix: str, files: ResultFiles) -> _Keys:
        await self.files.put_file(f"{prefix}/video.mp4", files.video)
        keys = _Keys(video=f"{prefix}/video.mp4")
        if files.thumbnail is not None:
            keys.thumbnail = f"{prefix}/thumbnail.jpg"
            await self.files.put_file(keys.thumbnail, files.thumbnail)
        if files.watermarked is not None:
            keys.watermarked = f"{prefix}/watermarked.mp4"
            await self.files.put_file(keys.watermarked, files.watermarked)
        return keys


def _probed(files: ResultFiles) -> tuple[VideoInfo | None, int]:
    """The video's header, and the bytes of every file of the result (for the metrics; a
    file a stop removed meanwhile counts none, as it has no header: the completion that
    follows is refused and the copy dropped)."""
    size = 0
    for path in (files.video, files.thumbnail, files.watermarked):
        if path is not None:
            with contextlib.suppress(FileNotFoundError):
                size += path.stat().st_size
    return probe_video(files.video), size


@dataclass(slots=True)
class _Keys:
    """Where one attempt stored a result's files."""

    video: str
    thumbnail: str | None = None
    watermarked: str | None = None
    spritesheet: str | None = None

    @classmethod
    def under(cls, prefix: str, folder: Path, files: ResultFiles) -> _Keys:
        """The keys of files fetched straight into the store's folder for prefix."""

        def key(path: Path) -> str:
            return f"{prefix}/{path.relative_to(folder).as_posix()}"

        return cls(
            video=key(files.video),
            thumbnail=key(files.thumbnail) if files.thumbnail else None,
            watermarked=key(files.watermarked) if files.watermarked else None,
        )
