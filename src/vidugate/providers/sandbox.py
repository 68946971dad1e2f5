"""The sandbox provider: renders real MP4s locally, free and deterministic.

Each render runs in its own process (forkserver, with the renderer preloaded) so the CPU
work never stalls the event loop and a cancel is an immediate, clean kill. The child
reports progress over a pipe. Jobs live in memory: after a restart, a job the provider no
longer knows is reported lost and submitted again, which renders the same frames (the seed
is stored)."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import secrets
import shutil
import signal
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from vidugate import metrics
from vidugate.domain.models import Mode
from vidugate.domain.scheduling import SlotPool
from vidugate.domain.subjects import by_subject
from vidugate.domain.tasks import TaskError
from vidugate.errors import ProviderError
from vidugate.files.private import DIR_MODE, FILE_MODE
from vidugate.media.spec import RenderSpec, SubjectPanel
from vidugate.providers.base import (
    CancelOutcome,
    JobState,
    JobStatus,
    ProviderJob,
    RecordIntent,
    ResultFiles,
    Submission,
)

_CTX = multiprocessing.get_context("forkserver")
# In a prompt, makes the job fail instead of rendering: a failed (refunded) video on demand.
FAIL_MARKER = "[sandbox:fail]"
FAIL_AFTER_SECONDS = 1.0


@dataclass(slots=True)
class _Job:
    id: str
    spec: RenderSpec
    dir: Path
    state: JobState = JobState.QUEUED
    progress: int = 0
    error: TaskError | None = None
    has_audio: bool = False
    runner: asyncio.Task[None] | None = None
    process: Any = None
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def video(self) -> Path:
        return self.dir / "video.mp4"

    @property
    def thumbnail(self) -> Path:
        return self.dir / "thumbnail.jpg"


class SandboxProvider:
    id = "sandbox"
    poll_interval = 0.25
    jobs_in_process = True

    def __init__(self, work_dir: Path, *, concurrency: int, pace: float) -> None:
        # Children fork from a server that has already imported the renderer: ~ms per start.
        _CTX.set_forkserver_preload(["vidugate.media.render"])
        self.work_dir = work_dir / "sandbox"
        self._instance = secrets.token_hex(4)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.pace = pace
        self.concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self._jobs: dict[str, _Job] = {}

    def _spec(self, job: ProviderJob) -> RenderSpec:
        request = job.request
        # Subjects are drawn as labelled panels of their images, instead of a first frame.
        subjects = tuple(
            SubjectPanel(subject.id, tuple(paths))
            for subject, paths in by_subject(request.subjects, job.image_paths)
        )
        return RenderSpec(
            width=request.width,
            height=request.height,
            duration=request.duration,
            prompt=request.prompt,
            seed=request.seed,
            audio=request.audio,
            bgm=request.bgm,
            image_path=job.image_paths[0] if job.image_paths and not subjects else None,
            # Only a start-end video ends on its second image; extra reference images
            # (reference2video) are not frames of their own in the sandbox's drawing.
            end_image_path=(
                job.image_paths[1]
                if request.mode is Mode.START_END and len(job.image_paths) > 1
                else None
            ),
            watermark=request.watermark,
            wm_position=request.wm_position,
            wm_image_path=job.watermark_path,
            pace=self.pace,
            subjects=subjects,
        )

    def _start(self, job: ProviderJob) -> _Job:
        upstream_id = "sbx_" + job.task_id
        # This process's own directory: processes sharing the data directory may render the
        # same task at once (one whose lease ran out, and the one that took over).
        folder = self.work_dir / f"{upstream_id}.{self._instance}"
        running = _Job(id=upstream_id, spec=self._spec(job), dir=folder)
        self._jobs[upstream_id] = running
        running.runner = asyncio.create_task(self._run(running), name=f"render {upstream_id}")
        return running

    async def slot_pools(self, owner: str) -> list[SlotPool]:
        """One pool per process: its renders run here, `concurrency` at once."""
        return [SlotPool(f"sandbox:{owner}", self.concurrency, local=True)]

    async def submit(self, job: ProviderJob, record_intent: RecordIntent) -> Submission:
        # Free and local: nothing to record; a repeated submit finds the running job.
        existing = self._jobs.get("sbx_" + job.task_id)
        running = existing if existing is not None else self._start(job)
        return Submission(upstream_id=running.id)

    async def status(self, job: ProviderJob) -> JobStatus:
        running = self._jobs.get(job.upstream_id or "")
        if running is None:
            # Unknown after a restart: the lifecycle submits it again (with its images, which
            # a status call is not given); the same seed gives the same video.
            return JobStatus(state=JobState.LOST)
        return JobStatus(state=running.state, progress=running.progress, error=running.error)

    async def cancel(self, job: ProviderJob) -> CancelOutcome:
        running = self._jobs.pop(job.upstream_id or "sbx_" + job.task_id, None)
        if running is None:
            return CancelOutcome(cancelled=True)
        finished = running.state in (JobState.SUCCEEDED, JobState.FAILED)
        running.state = JobState.CANCELLED
        if running.runner is not None and not running.runner.done():
            running.runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running.runner
        await asyncio.to_thread(shutil.rmtree, running.dir, True)
        return CancelOutcome(cancelled=not finished)

    async def fetch_result(self, job: ProviderJob, work_dir: Path) -> ResultFiles:
        running = self._jobs.get(job.upstream_id or "")
        if running is None or running.state is not JobState.SUCCEEDED:
            raise ProviderError("the sandbox has no finished render for this task")
        video = work_dir / "video.mp4"
        thumbnail = work_dir / "thumbnail.jpg"
        moves = ((running.video, video), (running.thumbnail, thumbnail))
        await asyncio.to_thread(_hand_over, moves, running.dir)
        self._jobs.pop(running.id, None)
        return ResultFiles(
            video=video,
            thumbnail=thumbnail,
            width=running.spec.width,
            height=running.spec.height,
            has_audio=running.has_audio,
        )

    async def close(self) -> None:
        jobs = list(self._jobs.values())
        self._jobs.clear()
        for running in jobs:
            if running.runner is not None:
                running.runner.cancel()
        for running in jobs:
            if running.runner is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await running.runner

    async def _run(self, job: _Job) -> None:
        if FAIL_MARKER in job.spec.prompt:
            await self._fail_on_purpose(job)
            return
        async with self._slots:
            start = time.perf_counter()
            try:
                await self._render(job)
            finally:
                # A render stopped by a cancel (or the gateway's stop) is still running here.
                outcome = "cancelled" if job.state is JobState.RUNNING else job.state.value
                metrics.render(outcome, time.perf_counter() - start)

    async def _render(self, job: _Job) -> None:
        """Run the render in its child process and follow it to the end."""
        job.state = JobState.RUNNING
        await asyncio.to_thread(job.dir.mkdir, parents=True, exist_ok=True)
        receiver, sender = _CTX.Pipe(duplex=False)
        process = _CTX.Process(
            target=_render_child,
            args=(job.spec, job.video, job.thumbnail, sender),
            daemon=True,
        )
        try:
            # Synchronous on purpose: a forkserver start takes milliseconds, and a start
            # left running in a thread could outlive a cancel and orphan the child.
            process.start()
            job.process = process
            sender.close()
            await self._follow(job, receiver)
            await asyncio.to_thread(process.join)
        finally:
            receiver.close()
            if process.is_alive():
                process.terminate()
                await asyncio.to_thread(process.join, 5)
                if process.is_alive():
                    process.kill()
                    await asyncio.to_thread(process.join)
        if job.state is JobState.RUNNING:
            job.state = JobState.FAILED
            job.error = TaskError(
                "render_failed", f"the sandbox renderer exited with code {process.exitcode}"
            )
        job.finished.set()

    async def _fail_on_purpose(self, job: _Job) -> None:
        """Half way, as a render that began (so a cancel meanwhile is charged per the cancel
        policy), for about a second (long enough for a look to see it running), or as long
        as one second of video takes at a slower pace; then failed. It draws nothing, so it
        takes no render slot."""
        job.state = JobState.RUNNING
        job.progress = 50
        await asyncio.sleep(max(FAIL_AFTER_SECONDS, self.pace))
        job.state = JobState.FAILED
        job.error = TaskError(
            "sandbox_failure", f"The prompt asked the sandbox to fail ({FAIL_MARKER})."
        )
        job.finished.set()

    async def _follow(self, job: _Job, receiver: Connection) -> None:
        """Read the child's messages until it closes its end of the pipe."""
        loop = asyncio.get_running_loop()
        closed = loop.create_future()

        def on_readable() -> None:
            try:
                while receiver.poll():
                    _apply(job, receiver.recv())
            except (EOFError, OSError):
                if not closed.done():
                    closed.set_result(None)

        loop.add_reader(receiver.fileno(), on_readable)
        try:
            await closed
        finally:
            loop.remove_reader(receiver.fileno())


def _apply(job: _Job, message: tuple[Any, ...]) -> None:
    kind = message[0]
    if kind == "progress":
        done, total = message[1], message[2]
        job.progress = max(job.progress, min(99, int(done * 100 / max(total, 1))))
    elif kind == "done":
        job.has_audio = bool(message[1])
        job.state = JobState.SUCCEEDED
        job.progress = 99
    elif kind == "error":
        job.state = JobState.FAILED
        job.error = TaskError("render_failed", str(message[1]))


def _render_child(spec: RenderSpec, video: Path, thumbnail: Path, sender: Connection) -> None:
    from vidugate.media.render import render_video

    # A cancel is a SIGTERM: turn it into an exception so the renderer removes its part file.
    def stop(_signum: int, _frame: object) -> None:
        raise SystemExit(143)

    signal.signal(signal.SIGTERM, stop)
    last = -1

    def tell(message: tuple[Any, ...]) -> None:
        try:
            sender.send(message)
        except OSError:
            # The gateway process is gone (killed): nobody will use this render; stop quietly.
            raise SystemExit(0) from None

    def progress(done: int, total: int) -> None:
        nonlocal last
        percent = done * 100 // max(total, 1)
        if percent != last:
            last = percent
            tell(("progress", done, total))

    try:
        result = render_video(spec, video, thumbnail, progress=progress)
    except Exception as exc:  # reported to the parent, which fails the task with it
        tell(("error", f"{type(exc).__name__}: {exc}"))
    else:
        tell(("done", result.has_audio))
    finally:
        sender.close()


def _hand_over(moves: tuple[tuple[Path, Path], ...], job_dir: Path) -> None:
    """Move a render's files to their destinations, private whatever the umask they were
    made under (files/private.py), then drop the render's folder."""
    for source, dest in moves:
        dest.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        os.chmod(source, FILE_MODE)
        shutil.move(source, dest)
    shutil.rmtree(job_dir, True)
