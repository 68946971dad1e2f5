"""The provider interface: four async calls that every adaptor (sandbox, vidu, ...) answers.

The task lifecycle (services/lifecycle.py) drives them: submit once, then status until the
job ends, then fetch_result; cancel at any time. Providers translate vendor failures into
the ProviderError branch of vidugate.errors, so nothing above them sees a vendor's HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from vidugate.domain.request import VideoRequest
from vidugate.domain.tasks import TaskError


@dataclass(frozen=True, slots=True)
class ProviderJob:
    """What a provider is told about a task."""

    task_id: str
    request: VideoRequest
    image_paths: tuple[Path, ...]  # local copies of the input images, in order
    watermark_path: Path | None = None  # local copy of wm_url's image, when given
    upstream_id: str | None = None  # set once submit has answered


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Submission:
    upstream_id: str


@dataclass(frozen=True, slots=True)
class JobStatus:
    state: JobState
    progress: int = 0  # 0..100 as far as the provider can tell
    error: TaskError | None = None


@dataclass(frozen=True, slots=True)
class CancelOutcome:
    cancelled: bool  # False: the upstream could no longer cancel (the task ran to its end)
    message: str = ""


@dataclass(frozen=True, slots=True)
class ResultFiles:
    video: Path
    thumbnail: Path | None
    width: int
    height: int
    has_audio: bool


class Provider(Protocol):
    id: str
    poll_interval: float  # seconds between status calls for a running job

    async def submit(self, job: ProviderJob) -> Submission: ...

    async def status(self, job: ProviderJob) -> JobStatus: ...

    async def cancel(self, job: ProviderJob) -> CancelOutcome: ...

    async def fetch_result(self, job: ProviderJob, work_dir: Path) -> ResultFiles:
        """Put the finished video (and thumbnail) as local files under work_dir."""
        ...

    async def close(self) -> None: ...
