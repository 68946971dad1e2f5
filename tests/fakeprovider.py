"""A provider at the `Provider` interface whose answers a test scripts, for the lifecycle,
worker and sweeper tests: what each status look answers (in order, the last one repeating),
which calls fail and how, and a hook that runs inside a call (where a race is staged: a
cancel while the create is on its way, a delete while the result is copied). It records
every call it gets. Its result is a real, tiny MP4 (rendered once per run), so the result
copy probes it and makes its spritesheet as it would any provider's."""

from __future__ import annotations

import asyncio
import atexit
import functools
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from vidugate.errors import ProviderError
from vidugate.media.render import render_video
from vidugate.media.spec import RenderSpec
from vidugate.providers.base import (
    CancelOutcome,
    JobState,
    JobStatus,
    ProviderJob,
    RecordIntent,
    ResultFiles,
    Submission,
)

WIDTH, HEIGHT = 160, 90
Hook = Callable[[ProviderJob], Awaitable[None]]


@functools.cache
def tiny_result() -> tuple[Path, Path]:
    """A one-second MP4 and its thumbnail, rendered once per test process."""
    folder = Path(tempfile.mkdtemp(prefix="vg-fake-"))
    atexit.register(shutil.rmtree, folder, True)
    spec = RenderSpec(
        width=WIDTH, height=HEIGHT, duration=1, prompt="fake", seed=7, audio=False, bgm=False
    )
    render_video(spec, folder / "video.mp4", folder / "thumbnail.jpg")
    return folder / "video.mp4", folder / "thumbnail.jpg"


def _copy_result(work_dir: Path) -> None:
    video, thumbnail = tiny_result()
    work_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(video, work_dir / "video.mp4")
    shutil.copyfile(thumbnail, work_dir / "thumbnail.jpg")


def running(progress: int) -> JobStatus:
    return JobStatus(JobState.RUNNING, progress)


SUCCEEDED = JobStatus(JobState.SUCCEEDED, 99)


@dataclass
class Calls:
    submits: list[ProviderJob] = field(default_factory=list)
    looks: list[ProviderJob] = field(default_factory=list)
    cancels: list[ProviderJob] = field(default_factory=list)
    fetches: list[ProviderJob] = field(default_factory=list)
    finds: list[ProviderJob] = field(default_factory=list)


class FakeProvider:
    id = "fake"

    def __init__(
        self,
        *,
        poll_interval: float = 5.0,
        jobs_in_process: bool = False,
        account: str | None = None,
    ) -> None:
        self.poll_interval = poll_interval
        # True: jobs live in this object, as the sandbox's renders live in its process; a
        # job it does not hold is LOST (forget() drops them all, as a restart would).
        self.jobs_in_process = jobs_in_process
        # Given: every create records its intent for this account before it is "sent".
        self.account = account
        self.calls = Calls()
        self.answers: dict[str, list[JobStatus | ProviderError]] = defaultdict(list)
        self.errors: dict[tuple[str, str], ProviderError] = {}  # (call, task_id) -> once
        self.hooks: dict[str, Hook] = {}  # call -> run inside it, before it answers
        self.jobs: set[str] = set()  # upstream ids this "upstream" holds
        self.closed = False

    def script(self, task_id: str, *answers: JobStatus | ProviderError) -> None:
        """What the task's status looks answer from now on, in order (the last repeats)."""
        self.answers[task_id] = list(answers)

    def fail_next(self, call: str, task_id: str, error: ProviderError) -> None:
        self.errors[(call, task_id)] = error

    def forget(self) -> None:
        """Lose every job (a restart of the process they lived in)."""
        self.jobs.clear()

    async def _enter(self, call: str, job: ProviderJob) -> None:
        hook = self.hooks.get(call)
        if hook is not None:
            await hook(job)
        error = self.errors.pop((call, job.task_id), None)
        if error is not None:
            raise error

    async def submit(self, job: ProviderJob, record_intent: RecordIntent) -> Submission:
        if self.account is not None:
            await record_intent(self.account)
        self.calls.submits.append(job)
        await self._enter("submit", job)
        upstream_id = f"up_{job.task_id}"
        self.jobs.add(upstream_id)
        return Submission(upstream_id, self.account)

    async def status(self, job: ProviderJob) -> JobStatus:
        self.calls.looks.append(job)
        await self._enter("status", job)
        if self.jobs_in_process and job.upstream_id not in self.jobs:
            return JobStatus(JobState.LOST)
        answers = self.answers[job.task_id]
        answer = (answers.pop(0) if len(answers) > 1 else answers[0]) if answers else running(10)
        if isinstance(answer, ProviderError):
            raise answer
        return answer

    async def cancel(self, job: ProviderJob) -> CancelOutcome:
        self.calls.cancels.append(job)
        await self._enter("cancel", job)
        held = job.upstream_id in self.jobs
        self.jobs.discard(job.upstream_id or "")
        return CancelOutcome(cancelled=held)

    async def fetch_result(self, job: ProviderJob, work_dir: Path) -> ResultFiles:
        self.calls.fetches.append(job)
        await self._enter("fetch_result", job)
        await asyncio.to_thread(_copy_result, work_dir)
        return ResultFiles(
            video=work_dir / "video.mp4",
            thumbnail=work_dir / "thumbnail.jpg",
            width=WIDTH,
            height=HEIGHT,
            has_audio=False,
        )

    async def close(self) -> None:
        self.closed = True


class RecoverableFake(FakeProvider):
    """A provider whose creates cost money (Vidu's kind): a create whose answer was lost is
    looked up (`found`) before anything is sent again."""

    def __init__(self, *, account: str = "acct-1", poll_interval: float = 5.0) -> None:
        super().__init__(account=account, poll_interval=poll_interval)
        self.found: dict[str, Submission] = {}

    async def find(self, job: ProviderJob) -> Submission | None:
        self.calls.finds.append(job)
        return self.found.get(job.task_id)
