"""The provider interface: four async calls that every adaptor (sandbox, vidu, ...) answers.

The task lifecycle (services/lifecycle.py) drives them: submit once, then status until the
job ends, then fetch_result; cancel at any time. Providers translate vendor failures into
the ProviderError branch of vidugate.errors, so nothing above them sees a vendor's HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Protocol, runtime_checkable

from vidugate.domain.accounts import AccountState
from vidugate.domain.request import VideoRequest
from vidugate.domain.scheduling import SlotPool
from vidugate.domain.tasks import TaskError


@dataclass(frozen=True, slots=True)
class ProviderJob:
    """What a provider is told about a task."""

    task_id: str
    request: VideoRequest
    image_paths: tuple[Path, ...]  # local copies of the input images, in order
    watermark_path: Path | None = None  # local copy of wm_url's image, when given
    upstream_id: str | None = None  # set once submit has answered
    account: str | None = None  # the upstream account the task is pinned to
    submitted_at: float | None = None  # when the create was (last) sent
    started_at: float | None = None  # when the upstream accepted it
    slot: str | None = None  # the slot pool the task was admitted to (SlotPools)


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    # The provider no longer knows the job: one that lived in another process's memory
    # (jobs_in_process) after a restart. The lifecycle submits it again, with its images.
    LOST = "lost"


@dataclass(frozen=True, slots=True)
class Submission:
    upstream_id: str
    account: str | None = None
    credits: Decimal | None = None  # what the upstream says it charged, when it says


# Called by a provider with the account it is about to send a create to, before sending:
# the lifecycle records it, so a crash or a lost answer can be looked up, not re-sent.
RecordIntent = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class JobStatus:
    state: JobState
    progress: int = 0  # 0..100 as far as the provider can tell
    error: TaskError | None = None
    credits: Decimal | None = None  # what the upstream says the job costs, when it says


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
    watermarked: Path | None = None  # the upstream's watermarked copy, when one was asked for


class Provider(Protocol):
    id: str
    poll_interval: float  # seconds between status calls for a running job
    # True when a job lives in the memory of the process that submitted it (the sandbox's
    # renders): only that process can follow it, so it keeps the task's lease between looks.
    jobs_in_process: bool

    async def submit(self, job: ProviderJob, record_intent: RecordIntent) -> Submission:
        """Send the create. Raises UpstreamOutcomeUnknownError when it may have been
        accepted without an answer, other ProviderErrors when it provably was not."""
        ...

    async def status(self, job: ProviderJob) -> JobStatus: ...

    async def cancel(self, job: ProviderJob) -> CancelOutcome: ...

    async def fetch_result(self, job: ProviderJob, work_dir: Path) -> ResultFiles:
        """Put the finished video (and thumbnail) as new files under work_dir, private to
        their owner whatever the umask (files/private.py): work_dir may be the file store's
        own folder for the result (FileStore.local_dir)."""
        ...

    async def close(self) -> None: ...


@runtime_checkable
class SlotPools(Protocol):
    """A provider with a bounded number of tasks running at once: it tells the admission
    (fair scheduling, store/admission.py) its pools of slots, and a task is submitted only
    once admitted to one of them (ProviderJob.slot)."""

    async def slot_pools(self, owner: str) -> list[SlotPool]:
        """The pools new tasks may be admitted to now; `owner` names this process's worker
        (a pool local to the process is named after it)."""
        ...


@runtime_checkable
class Recoverable(Protocol):
    """A provider whose creates cost money: it can find a create whose answer was lost."""

    async def find(self, job: ProviderJob) -> Submission | None:
        """The upstream task made for this job by an earlier create, if there is one.
        None means the upstream provably has none (so sending again is safe)."""
        ...


@runtime_checkable
class CreditReader(Protocol):
    """A provider whose accounts have a balance the upstream can be asked for."""

    async def read_credits(self, account_id: str) -> Decimal | None:
        """The account's remaining credits read from the upstream now, and recorded in the
        store (AccountStates.save_credits); None for an account it does not have. Raises a
        ProviderError when the upstream did not tell."""
        ...


class AccountStates(Protocol):
    """Where upstream account health is kept, shared by every process (the store)."""

    async def all(self, provider: str) -> list[AccountState]: ...

    async def save(self, state: AccountState) -> None: ...

    async def save_credits(
        self, account_id: str, provider: str, credits: Decimal, now: float
    ) -> None:
        """Record the account's remaining upstream credits as read at `now` (its health
        is left as it is)."""
        ...


@dataclass(frozen=True, slots=True)
class SignedCallback:
    """A callback whose signature checked out. Its nonce must still be recorded as used
    (in the shared store, so a replay to another process is refused too) until keep_until,
    after which its Date alone refuses it."""

    account: str
    nonce: str
    keep_until: float


@runtime_checkable
class CallbackReceiver(Protocol):
    """A provider whose upstream announces state changes by signed callbacks."""

    def verify_callback(
        self, method: str, path: str, query: str, headers: Mapping[str, str]
    ) -> SignedCallback:
        """Who signed this callback; raises PermissionDeniedError if no account did."""
        ...
