"""The task lifecycle, in one place: queued -> processing -> completed | failed | cancelled.

A worker calls `step` for each task it has leased; a step does one thing (submit, look at
the job, store the result, clean up after a cancel) and says when to look next. Every
state change is a conditional write: if a cancel or delete won the race, the step undoes
its own side effect (cancels the upstream job, removes the files it stored)."""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

from vidugate.domain.tasks import ACTIVE, TaskStatus, VideoTask
from vidugate.errors import ProviderError, UpstreamUnavailableError
from vidugate.providers.base import JobState, Provider, ProviderJob
from vidugate.services.cached_tasks import CachedTasks
from vidugate.storage.base import Storage

log = logging.getLogger("vidugate.lifecycle")

MAX_BACKOFF = 60.0


@dataclass(frozen=True, slots=True)
class LifecycleConfig:
    retention_seconds: int
    work_dir: Path


def result_prefix(task_id: str) -> str:
    return f"videos/{task_id}"


def input_prefix(task_id: str) -> str:
    return f"inputs/{task_id}"


def backoff(attempts: int) -> float:
    return float(min(MAX_BACKOFF, 2 ** min(attempts, 6)))


class TaskLifecycle:
    def __init__(
        self,
        tasks: CachedTasks,
        providers: dict[str, Provider],
        storage: Storage,
        config: LifecycleConfig,
    ) -> None:
        self.tasks = tasks
        self.providers = providers
        self.storage = storage
        self.config = config

    async def job(self, task: VideoTask) -> ProviderJob:
        images = tuple([await self.storage.materialize(key) for key in task.images])
        watermark = (
            await self.storage.materialize(task.watermark_key) if task.watermark_key else None
        )
        return ProviderJob(
            task_id=task.id,
            request=task.request,
            image_paths=images,
            watermark_path=watermark,
            upstream_id=task.upstream_id,
        )

    async def step(self, task: VideoTask, owner: str) -> float | None:
        """Advance one leased task; returns when to look at it next (None: never again)."""
        provider = self.providers[task.provider]
        now = time.time()
        if task.status.terminal:
            await self._clean_up_after_stop(task, provider)
            return None
        if now >= task.deadline_at:
            await self._fail(
                task,
                owner,
                "timeout",
                "The task did not finish before its deadline "
                f"({int(task.deadline_at - task.created_at)} s after creation).",
            )
            await self._clean_up_after_stop(task, provider)
            return None
        try:
            if task.upstream_id is None:
                return await self._submit(task, owner, provider)
            return await self._follow(task, owner, provider)
        except UpstreamUnavailableError as exc:
            return await self._retry_later(task, owner, exc.retry_after, exc.message)
        except ProviderError as exc:
            await self._fail(task, owner, exc.code, exc.message)
            await self._clean_up_after_stop(task, provider)
            return None

    async def _submit(self, task: VideoTask, owner: str, provider: Provider) -> float | None:
        job = await self.job(task)
        submission = await provider.submit(job)
        now = time.time()
        updated = await self.tasks.update(
            task.id,
            expect={TaskStatus.QUEUED},
            owner=owner,
            values={
                "status": TaskStatus.PROCESSING.value,
                "upstream_id": submission.upstream_id,
                "started_at": now,
                "attempts": 0,
            },
        )
        if updated is None:
            # Cancelled or deleted while we were submitting: take the upstream job back.
            await provider.cancel(replace(job, upstream_id=submission.upstream_id))
            return None
        log.info("task.submitted task_id=%s upstream_id=%s", task.id, submission.upstream_id)
        return now + provider.poll_interval

    async def _follow(self, task: VideoTask, owner: str, provider: Provider) -> float | None:
        job = await self.job(task)
        status = await provider.status(job)
        now = time.time()
        if status.state in (JobState.QUEUED, JobState.RUNNING):
            progress = max(task.progress, min(99, status.progress))
            if progress != task.progress or task.status is TaskStatus.QUEUED:
                await self.tasks.update(
                    task.id,
                    expect=ACTIVE,
                    owner=owner,
                    values={"progress": progress, "status": TaskStatus.PROCESSING.value},
                )
            return now + provider.poll_interval
        if status.state is JobState.SUCCEEDED:
            await self._complete(task, owner, provider, job)
            return None
        error = status.error
        code = error.code if error else "generation_failed"
        message = error.message if error else "The provider reported the generation failed."
        if status.state is JobState.CANCELLED:
            code, message = "cancelled", "The task was cancelled upstream."
        await self._fail(task, owner, code, message)
        return None

    async def _complete(
        self, task: VideoTask, owner: str, provider: Provider, job: ProviderJob
    ) -> None:
        scratch = self.config.work_dir / "results" / task.id
        try:
            files = await provider.fetch_result(job, scratch)
            prefix = result_prefix(task.id)
            video_key = f"{prefix}/video.mp4"
            await self.storage.put_file(video_key, files.video)
            thumbnail_key = None
            if files.thumbnail is not None:
                thumbnail_key = f"{prefix}/thumbnail.jpg"
                await self.storage.put_file(thumbnail_key, files.thumbnail)
        finally:
            await asyncio.to_thread(shutil.rmtree, scratch, True)
        now = time.time()
        params_changed = (files.width, files.height) != (task.request.width, task.request.height)
        values: dict[str, object] = {
            "status": TaskStatus.COMPLETED.value,
            "progress": 100,
            "completed_at": now,
            "expires_at": now + self.config.retention_seconds,
            "video_key": video_key,
            "thumbnail_key": thumbnail_key,
            "has_audio": files.has_audio,
        }
        if params_changed:
            log.warning(
                "task.size_changed task_id=%s asked=%sx%s got=%sx%s",
                task.id,
                task.request.width,
                task.request.height,
                files.width,
                files.height,
            )
        updated = await self.tasks.update(
            task.id, expect={TaskStatus.PROCESSING}, owner=owner, values=values
        )
        if updated is None:
            # Cancelled or deleted meanwhile: what we stored must not outlive it.
            await self.storage.delete_prefix(result_prefix(task.id))
            return
        log.info("task.completed task_id=%s", task.id)

    async def _fail(self, task: VideoTask, owner: str, code: str, message: str) -> None:
        updated = await self.tasks.update(
            task.id,
            expect=ACTIVE,
            owner=owner,
            values={
                "status": TaskStatus.FAILED.value,
                "completed_at": time.time(),
                "error_code": code,
                "error_message": message,
            },
        )
        if updated is not None:
            log.warning("task.failed task_id=%s code=%s message=%s", task.id, code, message)

    async def _retry_later(
        self, task: VideoTask, owner: str, retry_after: float | None, reason: str
    ) -> float:
        attempts = await self._bump_attempts(task, owner)
        wait = retry_after if retry_after is not None else backoff(attempts)
        log.warning(
            "task.retry task_id=%s attempt=%d wait=%.1fs reason=%s", task.id, attempts, wait, reason
        )
        return time.time() + wait

    async def _bump_attempts(self, task: VideoTask, owner: str) -> int:
        # The lease makes this worker the only writer of attempts: no race to guard.
        attempts = task.attempts + 1
        await self.tasks.update(task.id, owner=owner, values={"attempts": attempts})
        return attempts

    async def step_failed(self, task: VideoTask, owner: str, exc: BaseException) -> float:
        """A step raised something unexpected (a bug or a broken disk): look again later;
        the deadline still ends the task if it never recovers."""
        log.exception("task.step_error task_id=%s", task.id, exc_info=exc)
        attempts = await self._bump_attempts(task, owner)
        return time.time() + backoff(attempts)

    async def _clean_up_after_stop(self, task: VideoTask, provider: Provider) -> None:
        """A stopped task: take back its upstream job and drop what it no longer needs."""
        if task.upstream_id is not None or task.status is TaskStatus.CANCELLED:
            try:
                outcome = await provider.cancel(await self.job(task))
            except ProviderError as exc:
                log.warning("task.cancel_failed task_id=%s reason=%s", task.id, exc.message)
            else:
                if not outcome.cancelled:
                    log.info("task.cancel_too_late task_id=%s", task.id)
        if task.status is not TaskStatus.COMPLETED or task.deleted_at is not None:
            await self.storage.delete_prefix(result_prefix(task.id))
