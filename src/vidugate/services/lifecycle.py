"""The worker's side of a task: queued -> processing -> completed | failed, and the clean-up
after a client's cancel or delete (which services/videos.py applies).

A worker calls `step` for each task it has leased; a step does one thing (submit, look at
the job, store the result, clean up after a stop) and says when to look next. Every change
of the task is a transition applied under the worker's lease (domain/transitions.py): if a
cancel or delete won the race, the step undoes its own side effect (cancels the upstream
job, removes the files it stored). Submitting is in services/submission.py, storing the
result in services/results.py. Time comes from the injected clock."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from vidugate.clock import Clock
from vidugate.domain.tasks import TaskStatus, VideoTask
from vidugate.domain.transitions import AttemptsCounted, Failed
from vidugate.errors import DatabaseUnavailableError, ProviderError, UpstreamUnavailableError
from vidugate.files.base import FileStore
from vidugate.logs import get_logger
from vidugate.providers.base import JobState, Provider, ProviderJob
from vidugate.services.cached_tasks import CachedTasks
from vidugate.services.results import ResultKeeper, result_prefix
from vidugate.services.submission import Submitter, input_prefix, job_of

__all__ = [
    "LifecycleConfig",
    "Next",
    "TaskLifecycle",
    "backoff",
    "input_prefix",
    "result_prefix",
]

log = get_logger("vidugate.lifecycle")

MAX_BACKOFF = 60.0
DATABASE_RETRY_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class LifecycleConfig:
    retention_seconds: int
    work_dir: Path
    # Consecutive failed copies of a finished result before the task fails: with the
    # back-off that is several minutes, well inside the upstream's 24 h links.
    result_attempts: int = 8
    # Providers whose queued tasks are submitted only once admitted to a slot (fair
    # scheduling, services/admission.py); empty under fifo.
    waiting_providers: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Next:
    """What a step leaves for the worker to write when it hands the task back (batched with
    other tasks' hand-backs: polls that change nothing else cost no write of their own)."""

    at: float | None  # when to look again; None: never
    progress: int | None = None  # a higher progress to record
    keep_lease: bool = False  # only this process can follow the job: hold on to the task


def backoff(attempts: int) -> float:
    return float(min(MAX_BACKOFF, 2 ** min(attempts, 6)))


class TaskLifecycle:
    def __init__(
        self,
        tasks: CachedTasks,
        providers: dict[str, Provider],
        files: FileStore,
        config: LifecycleConfig,
        *,
        clock: Clock,
    ) -> None:
        self.tasks = tasks
        self.providers = providers
        self.files = files
        self.config = config
        self.clock = clock
        self.submitter = Submitter(tasks, files, clock)
        self.results = ResultKeeper(
            tasks,
            files,
            config.work_dir,
            config.retention_seconds,
        )

    async def step(self, task: VideoTask, owner: str) -> Next:
        """Advance one leased task; returns when to look at it next (None: never again)."""
        outcome = await self._step(task, owner)
        if outcome.at is None:
            await self._drop_inputs_once_final(task)
        return outcome

    async def _drop_inputs_once_final(self, task: VideoTask) -> None:
        """Delete a task's input images once it has finished, and only then: until then a
        submit may be sent again (a create whose answer was lost), and upstreams fetch
        them through signed links. "Never again" alone is not proof (a step that lost its
        lease hands the task to another worker), so the row decides."""
        if not task.images and not task.watermark_key:
            return
        current = await self.tasks.repo.get(task.id)
        if current is None or current.status.terminal:
            await self.files.delete_prefix(input_prefix(task.id))

    async def _step(self, task: VideoTask, owner: str) -> Next:
        provider = self.providers[task.provider]
        if task.status.terminal:
            await self._clean_up_after_stop(task, provider)
            return Next(None)
        if self.clock.now() >= task.deadline_at:
            await self._fail(
                task,
                owner,
                "timeout",
                "The task did not finish before its deadline "
                f"({int(task.deadline_at - task.created_at)} s after creation).",
            )
            await self._clean_up_after_stop(task, provider)
            return Next(None)
        if (
            task.slot is None
            and task.upstream_id is None
            and task.upstream_account is None
            and task.provider in self.config.waiting_providers
        ):
            return Next(None)  # waits for a slot: the admission makes it due again
        try:
            if task.upstream_id is None:
                outcome = Next(await self.submitter.submit(task, owner, provider))
            else:
                outcome = await self._follow(task, owner, provider, job_of(task))
            if provider.jobs_in_process and outcome.at is not None:
                # Another process would not know the job and would start it over.
                outcome = replace(outcome, keep_lease=True)
            return outcome
        except UpstreamUnavailableError as exc:
            return Next(await self._retry_later(task, owner, exc))
        except ProviderError as exc:
            await self._fail(task, owner, exc.code, exc.message)
            await self._clean_up_after_stop(task, provider)
            return Next(None)

    async def _follow(
        self, task: VideoTask, owner: str, provider: Provider, job: ProviderJob
    ) -> Next:
        status = await provider.status(job)
        if status.state is JobState.LOST:
            return Next(await self.submitter.start_again(task, provider))
        now = self.clock.now()
        if status.state in (JobState.QUEUED, JobState.RUNNING):
            if task.attempts:
                # `attempts` counts consecutive failed looks: this one worked, so the run
                # is over. Otherwise every blip in a long task's life adds up, and a late
                # one waits out the back-off of all before it (and counts against the
                # result copy's `result_attempts` once the video is made).
                await self.tasks.apply(task.id, AttemptsCounted(0), owner=owner)
            progress = max(task.progress, min(99, status.progress))
            if status.state is JobState.RUNNING:
                # At least 1 once the upstream is making it: from then on a cancel is
                # charged per the cancel policy (store/ledger.py), not refunded in full.
                progress = max(progress, 1)
            return Next(
                now + provider.poll_interval, progress if progress > task.progress else None
            )
        if status.state is JobState.SUCCEEDED:
            return Next(await self._keep_result(task, owner, provider, job, status.credits))
        error = status.error
        code = error.code if error else "generation_failed"
        message = error.message if error else "The provider reported the generation failed."
        if status.state is JobState.CANCELLED:
            code, message = "cancelled", "The task was cancelled upstream."
        await self._fail(task, owner, code, message, status.credits)
        return Next(None)

    async def _keep_result(
        self,
        task: VideoTask,
        owner: str,
        provider: Provider,
        job: ProviderJob,
        credits: Decimal | None = None,
    ) -> float | None:
        try:
            await self.results.keep(task, owner, provider, job, credits)
        except UpstreamUnavailableError as exc:
            if task.attempts + 1 >= self.config.result_attempts:
                await self._fail(
                    task,
                    owner,
                    "result_unavailable",
                    f"The video was made upstream but could not be copied after "
                    f"{task.attempts + 1} attempts: {exc.message}",
                )
                return None
            return await self._retry_later(task, owner, exc)
        return None

    async def _fail(
        self,
        task: VideoTask,
        owner: str,
        code: str,
        message: str,
        credits: Decimal | None = None,
    ) -> None:
        # Logged where it is applied (task.failed, store/tasks.py), as every change is.
        await self.tasks.apply(task.id, Failed(code, message, credits), owner=owner)

    async def _retry_later(
        self, task: VideoTask, owner: str, exc: UpstreamUnavailableError
    ) -> float:
        attempts = await self._bump_attempts(task, owner, exc.code, exc.message)
        wait = exc.retry_after if exc.retry_after is not None else backoff(attempts)
        log.warning(
            "task.retry", task_id=task.id, attempt=attempts, wait=round(wait, 1), reason=exc.message
        )
        return self.clock.now() + wait

    async def _bump_attempts(self, task: VideoTask, owner: str, code: str, message: str) -> int:
        """One more failed try, with why (the upstream's fault) for the task's history."""
        attempts = task.attempts + 1
        await self.tasks.apply(task.id, AttemptsCounted(attempts, code, message), owner=owner)
        return attempts

    async def step_failed(self, task: VideoTask, owner: str, exc: BaseException) -> float:
        """A step raised something unexpected (a bug or a broken disk): look again later;
        the deadline still ends the task if it never recovers."""
        if isinstance(exc, DatabaseUnavailableError):
            # Not the task's fault, and nothing could be recorded anyway: look again soon.
            log.warning("task.step_deferred", task_id=task.id, reason="database_unavailable")
            return self.clock.now() + DATABASE_RETRY_SECONDS
        log.error("task.step_error", task_id=task.id, exc_info=exc)
        # The exception's type only: its text is the gateway's own, and may say too much.
        attempts = await self._bump_attempts(task, owner, "step_error", type(exc).__name__)
        return self.clock.now() + backoff(attempts)

    async def _clean_up_after_stop(self, task: VideoTask, provider: Provider) -> None:
        """A stopped task: take back its upstream job and drop what it no longer needs."""
        if task.status is TaskStatus.COMPLETED and task.deleted_at is None:
            return  # poked while it completed: nothing to take back, everything to keep
        if task.upstream_id is not None or task.status is TaskStatus.CANCELLED:
            try:
                outcome = await provider.cancel(job_of(task))
            except ProviderError as exc:
                log.warning("task.cancel_failed", task_id=task.id, reason=exc.message)
            else:
                if not outcome.cancelled:
                    log.info("task.cancel_too_late", task_id=task.id)
        if task.status is not TaskStatus.COMPLETED or task.deleted_at is not None:
            await self.files.delete_prefix(result_prefix(task.id))
