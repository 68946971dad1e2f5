"""The task: its states and the value the rest of the code passes around."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from vidugate.domain.ledger import Charge
from vidugate.domain.request import VideoRequest


class TaskStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED})
ACTIVE = frozenset({TaskStatus.QUEUED, TaskStatus.PROCESSING})


class Surface(StrEnum):
    """Which API a task was created through (it reads on every one)."""

    OPENAI = "openai"
    VIDU = "vidu"
    UNIFIED = "unified"  # the seed platform's /v1/video/create


@dataclass(frozen=True, slots=True)
class TaskError:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class VideoTask:
    id: str
    key_id: str
    surface: Surface
    provider: str
    status: TaskStatus
    progress: int
    request: VideoRequest
    created_at: float
    updated_at: float
    deadline_at: float
    images: tuple[str, ...] = ()  # file-store keys of the input images, in order
    watermark_key: str | None = None  # file-store key of wm_url's image
    started_at: float | None = None
    completed_at: float | None = None
    expires_at: float | None = None
    upstream_id: str | None = None
    upstream_account: str | None = None
    submitted_at: float | None = None
    error: TaskError | None = None
    video_key: str | None = None
    thumbnail_key: str | None = None
    watermarked_key: str | None = None
    spritesheet_key: str | None = None  # None: stored before spritesheets, or undecodable
    has_audio: bool = False
    attempts: int = 0  # consecutive failed looks, for back-off
    deleted_at: float | None = None
    # The finished video's own frame, probed from the stored file (None until then):
    # an upstream may make another size than the one asked for.
    result_width: int | None = None
    result_height: int | None = None
    tenant_id: str | None = None
    charge: Charge | None = None  # None: made with no price table in force, nothing charged
    # What the upstream said the task cost it, in its own units (Vidu's credits).
    upstream_credits: Decimal | None = None
    # The slot pool the task was admitted to (domain/scheduling.py); None while it waits
    # for one under fair scheduling, or when it was made under fifo.
    slot: str | None = None

    @property
    def size(self) -> str:
        if self.result_width and self.result_height:
            return f"{self.result_width}x{self.result_height}"
        return f"{self.request.width}x{self.request.height}"

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TASK_ID = re.compile(r"^video_[0-9A-HJKMNP-TV-Z]{26}$")


def is_task_id(value: str) -> bool:
    """Whether value can be a task id at all: anything else is unknown without a lookup
    (and never reaches the database, which may not even hold such text, e.g. a NUL)."""
    return _TASK_ID.match(value) is not None


def new_id(prefix: str, now: float) -> str:
    """prefix + a ULID: 48 bits of milliseconds (of `now`, Unix seconds) then 80 random
    bits, Crockford base32.

    Sorting ids sorts by creation time, which is what list pagination needs, and the
    random part keeps ids unguessable."""
    value = (int(now * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return prefix + "".join(reversed(chars))
