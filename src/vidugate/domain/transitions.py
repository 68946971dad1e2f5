"""The named changes of a task: each one a frozen dataclass that knows the states it may
leave from (`leaves`), the state it enters (`enters`; None: the status stays), whether the
worker's lease on the task must still be held (`leased`), and the fields it writes
(`writes(now)`, keyed by the task table's column names).

The store applies one in one conditional write (`TaskRepository.apply`), and runs the
effects registered for it (money, webhooks: the issues after this one) in the same
transaction, so a change happens, and is accounted for, exactly once. Nothing else writes
a task's status. `Created` is the insert, which effects see the same way."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from vidugate.domain.money import to_micros
from vidugate.domain.tasks import ACTIVE, TERMINAL, TaskStatus, VideoTask

EVERY = frozenset(TaskStatus)
QUEUED = frozenset({TaskStatus.QUEUED})
CANCELLED_MESSAGE = "The task was cancelled by the client."


class Transition:
    """What every change declares; the subclasses are the only changes there are."""

    __slots__ = ()
    leaves: ClassVar[frozenset[TaskStatus]]
    enters: ClassVar[TaskStatus | None] = None
    # Made by the worker that leased the task: applied only while that worker holds it.
    leased: ClassVar[bool] = True
    # The task needs a worker's look at once (a stop's clean-up): the store makes it due.
    pokes: ClassVar[bool] = False
    # Its log event (`task.` and the class's name in snake case: task.intent_recorded).
    event: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.event = "task." + re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()

    def writes(self, now: float) -> dict[str, object]:
        raise NotImplementedError

    def __str__(self) -> str:
        return type(self).__name__

    def left(self, task: VideoTask) -> TaskStatus | None:
        """The state `task` (as this change wrote it) was in before; None for a new one.
        Only `Submitted` enters processing, and it sets started_at, so an active task
        that has a started_at left processing."""
        if self.enters is None:
            return task.status
        if len(self.leaves) == 1:
            return next(iter(self.leaves))
        if not self.leaves:
            return None
        return TaskStatus.PROCESSING if task.started_at is not None else TaskStatus.QUEUED


@dataclass(frozen=True, slots=True)
class Created(Transition):
    """A new task's row (inserted, not updated: there is no state it leaves)."""

    leaves: ClassVar[frozenset[TaskStatus]] = frozenset()
    enters: ClassVar[TaskStatus | None] = TaskStatus.QUEUED
    leased: ClassVar[bool] = False

    def writes(self, now: float) -> dict[str, object]:
        return {}


@dataclass(frozen=True, slots=True)
class IntentRecorded(Transition):
    """A create is about to be sent to `account`: if its answer is lost, the next step
    looks the upstream task up there instead of sending it again."""

    account: str
    leaves: ClassVar[frozenset[TaskStatus]] = QUEUED

    def writes(self, now: float) -> dict[str, object]:
        return {"upstream_account": self.account, "submitted_at": now}


@dataclass(frozen=True, slots=True)
class IntentWithdrawn(Transition):
    """The create was provably not accepted: a retry may go to another account."""

    leaves: ClassVar[frozenset[TaskStatus]] = EVERY

    def writes(self, now: float) -> dict[str, object]:
        return {"upstream_account": None, "submitted_at": None}


@dataclass(frozen=True, slots=True)
class Submitted(Transition):
    """The upstream accepted the task: queued -> processing."""

    upstream_id: str
    account: str | None = None  # None: the provider has no accounts (the sandbox)
    credits: Decimal | None = None  # what the upstream's create answer says it charged
    leaves: ClassVar[frozenset[TaskStatus]] = QUEUED
    enters: ClassVar[TaskStatus | None] = TaskStatus.PROCESSING

    def writes(self, now: float) -> dict[str, object]:
        values: dict[str, object] = {
            "upstream_id": self.upstream_id,
            "started_at": now,
            "attempts": 0,
        }
        if self.account is not None:
            values["upstream_account"] = self.account
        if self.credits is not None:
            values["upstream_credits_micros"] = to_micros(self.credits)
        return values


@dataclass(frozen=True, slots=True)
class AttemptsCounted(Transition):
    """Consecutive failed looks (for back-off and the result copy's limit); 0 after a look
    that worked. The lease makes its holder the only writer of this count. `code` and
    `message` say why the try failed when that is known (the upstream's fault): they are
    not written on the row, only into the task's history (domain/task_events.py)."""

    attempts: int
    code: str = ""
    message: str = ""
    leaves: ClassVar[frozenset[TaskStatus]] = EVERY

    def writes(self, now: float) -> dict[str, object]:
        return {"attempts": self.attempts}


@dataclass(frozen=True, slots=True)
class Completed(Transition):
    """The result is stored: processing -> completed, kept for `keep_seconds`."""

    video_key: str
    thumbnail_key: str | None
    watermarked_key: str | None
    spritesheet_key: str | None
    has_audio: bool
    width: int
    height: int
    keep_seconds: float
    # What the upstream's final status says the job cost (it wins over the create's figure).
    credits: Decimal | None = None
    leaves: ClassVar[frozenset[TaskStatus]] = frozenset({TaskStatus.PROCESSING})
    enters: ClassVar[TaskStatus | None] = TaskStatus.COMPLETED

    def writes(self, now: float) -> dict[str, object]:
        values: dict[str, object] = {
            "progress": 100,
            "completed_at": now,
            "expires_at": now + self.keep_seconds,
            "has_audio": self.has_audio,
            "result_width": self.width,
            "result_height": self.height,
            "video_key": self.video_key,
            "thumbnail_key": self.thumbnail_key,
            "watermarked_key": self.watermarked_key,
            "spritesheet_key": self.spritesheet_key,
        }
        if self.credits is not None:
            values["upstream_credits_micros"] = to_micros(self.credits)
        return values


@dataclass(frozen=True, slots=True)
class Failed(Transition):
    """The upstream failed it, or it ran out of time or attempts (code says which)."""

    code: str
    message: str
    # What the upstream's last answer says the task cost it (Vidu gives a failed task's
    # credits back: 0), for the margin report; None leaves what the create said.
    credits: Decimal | None = None
    leaves: ClassVar[frozenset[TaskStatus]] = ACTIVE
    enters: ClassVar[TaskStatus | None] = TaskStatus.FAILED

    def writes(self, now: float) -> dict[str, object]:
        values: dict[str, object] = {
            "completed_at": now,
            "error_code": self.code,
            "error_message": self.message,
        }
        if self.credits is not None:
            values["upstream_credits_micros"] = to_micros(self.credits)
        return values


@dataclass(frozen=True, slots=True)
class Cancelled(Transition):
    """The client stopped it (a DELETE of an active task too: `deleted`). A worker then
    takes the upstream job back and removes what the task left."""

    deleted: bool = False
    leaves: ClassVar[frozenset[TaskStatus]] = ACTIVE
    enters: ClassVar[TaskStatus | None] = TaskStatus.CANCELLED
    leased: ClassVar[bool] = False
    pokes: ClassVar[bool] = True

    def writes(self, now: float) -> dict[str, object]:
        values: dict[str, object] = {
            "completed_at": now,
            "error_code": "cancelled",
            "error_message": CANCELLED_MESSAGE,
        }
        if self.deleted:
            values["deleted_at"] = now
        return values


@dataclass(frozen=True, slots=True)
class Deleted(Transition):
    """The client deleted a finished task: hidden from then on, its status kept (its
    accounting is already settled)."""

    leaves: ClassVar[frozenset[TaskStatus]] = TERMINAL
    leased: ClassVar[bool] = False

    def writes(self, now: float) -> dict[str, object]:
        return {"deleted_at": now}


@dataclass(frozen=True, slots=True)
class Expired(Transition):
    """A completed task's files passed their keep-until time and were removed."""

    leaves: ClassVar[frozenset[TaskStatus]] = frozenset({TaskStatus.COMPLETED})
    leased: ClassVar[bool] = False

    def writes(self, now: float) -> dict[str, object]:
        return {
            "video_key": None,
            "thumbnail_key": None,
            "watermarked_key": None,
            "spritesheet_key": None,
        }
