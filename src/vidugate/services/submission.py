"""Submitting a task upstream at most once.

The intent (which account, when) is written before a create is sent. If the answer is
lost — a timeout, a dropped connection, a crash of this process — the task keeps its
intent and no upstream id; the next step asks the provider to find the upstream task
(Vidu's task list) and sends the create again only when the provider can say there is
none. A user is never charged twice for one video.

This is the one step that reads the task's input images from the file store: following,
cancelling and fetching a job need none."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

from vidugate.clock import Clock
from vidugate.domain.tasks import VideoTask
from vidugate.domain.transitions import IntentRecorded, IntentWithdrawn, Submitted
from vidugate.errors import ProviderError, UpstreamOutcomeUnknownError, UpstreamRejectedError
from vidugate.files.base import FileStore
from vidugate.logs import get_logger
from vidugate.providers.base import Provider, ProviderJob, Recoverable, Submission
from vidugate.services.cached_tasks import CachedTasks

log = get_logger("vidugate.lifecycle")


def input_prefix(task_id: str) -> str:
    return f"inputs/{task_id}"


class TaskStoppedError(Exception):
    """The task was cancelled or deleted before its create was sent: send nothing."""


def job_of(task: VideoTask) -> ProviderJob:
    """The job as a provider is told about it to follow it, cancel it or fetch its result:
    no input images (only a submit needs them; a status poll must not touch storage)."""
    return ProviderJob(
        task_id=task.id,
        request=task.request,
        image_paths=(),
        upstream_id=task.upstream_id,
        account=task.upstream_account,
        submitted_at=task.submitted_at,
        started_at=task.started_at,
        slot=task.slot,
    )


class Submitter:
    def __init__(self, tasks: CachedTasks, files: FileStore, clock: Clock) -> None:
        self.tasks = tasks
        self.files = files
        self.clock = clock

    async def job(self, task: VideoTask) -> ProviderJob | None:
        """The job with local copies of its input images; None when they are gone because
        the task was stopped (a DELETE removes them as it stops the task: the stop's own
        clean-up step, which it poked, takes it from there)."""
        try:
            images = tuple([await self.files.materialize(key) for key in task.images])
            watermark: Path | None = None
            if task.watermark_key:
                watermark = await self.files.materialize(task.watermark_key)
        except FileNotFoundError:
            current = await self.tasks.repo.get(task.id)
            if current is None or current.status.terminal:
                return None
            raise
        return replace(job_of(task), image_paths=images, watermark_path=watermark)

    async def submit(self, task: VideoTask, owner: str, provider: Provider) -> float | None:
        """Send a queued task's create (or find the one an earlier attempt sent); when to
        look at it next (None: it was stopped meanwhile)."""
        job = await self.job(task)
        if job is None:
            return None
        if task.upstream_account is not None and isinstance(provider, Recoverable):
            # An earlier create's answer never came: look for its task before sending again.
            found = await provider.find(job)
            if found is not None:
                log.info("task.create_recovered", task_id=task.id, upstream_id=found.upstream_id)
                return await self._record(task, owner, provider, job, found)
            log.warning("task.create_not_found", task_id=task.id, sending_again=True)
        try:
            submission = await provider.submit(job, self._intent_recorder(task, owner))
        except TaskStoppedError:
            return None
        except UpstreamOutcomeUnknownError:
            raise  # the intent stays: the next step looks the task up
        except ProviderError:
            # Provably not accepted upstream: forget the intent, so a retry may go elsewhere.
            await self.tasks.apply(task.id, IntentWithdrawn(), owner=owner)
            raise
        return await self._record(task, owner, provider, job, submission)

    async def start_again(self, task: VideoTask, provider: Provider) -> float | None:
        """The provider lost a job it ran in one process's memory (after a restart, or on
        another process): start it again under the same upstream id. Only such free, local
        jobs get lost this way, so nothing is charged and no intent is recorded."""
        job = await self.job(task)
        if job is None:
            return None

        async def refuse(account: str) -> None:
            raise UpstreamRejectedError(
                f"The provider lost this task's job and would send it to {account!r} again; "
                "a paid create is never sent twice.",
                code="upstream_job_lost",
            )

        await provider.submit(job, refuse)
        log.info("task.started_again", task_id=task.id, upstream_id=task.upstream_id)
        return self.clock.now() + provider.poll_interval

    def _intent_recorder(self, task: VideoTask, owner: str) -> Callable[[str], Awaitable[None]]:
        async def record(account: str) -> None:
            recorded = await self.tasks.apply(task.id, IntentRecorded(account), owner=owner)
            if recorded is None:
                raise TaskStoppedError(task.id)

        return record

    async def _record(
        self,
        task: VideoTask,
        owner: str,
        provider: Provider,
        job: ProviderJob,
        submission: Submission,
    ) -> float | None:
        updated = await self.tasks.apply(
            task.id,
            Submitted(submission.upstream_id, submission.account, submission.credits),
            owner=owner,
        )
        if updated is None:
            # Cancelled or deleted while the create was under way: take the job back.
            await provider.cancel(
                replace(job, upstream_id=submission.upstream_id, account=submission.account)
            )
            return None
        return self.clock.now() + provider.poll_interval
