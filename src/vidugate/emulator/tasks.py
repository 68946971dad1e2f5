"""One emulated task and how its state follows from its timestamps.

There is no background loop moving tasks along. A task carries timestamps (`created_at`,
`created_until`, `ready_at`, and once its account's scheduler has given it a slot,
`start_at` and `end_at`), and `state(now)` reads the state off them. The only thing that
must be *computed* is when a queued task gets a processing slot, which depends on the other
tasks of its account: that is `accounts.Account.advance`, run before any read.

Vidu shows `created` briefly before `queueing`; the emulator shows `created` for the first
half of `queue_seconds`, then `queueing` until a slot is granted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from vidugate.emulator.validation import CreateRequest


class State(StrEnum):
    CREATED = "created"
    QUEUEING = "queueing"
    PROCESSING = "processing"
    SUCCESS = "success"
    FAILED = "failed"


FINAL = frozenset({State.SUCCESS, State.FAILED})
WAITING = frozenset({State.CREATED, State.QUEUEING})


def iso_utc(timestamp: float) -> str:
    """Vidu's timestamp format: '2026-01-01T15:41:31.968916Z'."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(slots=True, eq=False)
class Task:
    id: str
    seq: int  # creation order across the emulator; ids sort the same way
    key: str  # the owning account's API key
    request: CreateRequest
    seed: int  # the seed used (the request's, or one picked for it)
    credits: int  # charged at create
    created_at: float  # wall-clock seconds (the emulator clock's now())
    created_until: float  # "created" before this, "queueing" after
    ready_at: float  # earliest moment a slot may be granted
    base_url: str  # where the create came in; used for result URLs in callbacks
    skips_processing: bool = False  # refused at start (e.g. off-peak audio): ends at ready_at
    start_at: float | None = None  # slot granted (processing from here)
    end_at: float | None = None  # final from here
    outcome: State = State.SUCCESS  # fated at creation (fail_task fault), or forced later
    err_code: str = ""  # shown only once the task is failed
    holds_slot: bool = False
    settled: bool = False  # the end has been booked (slot freed, refund made)
    refunded: bool = False
    notified: set[State] = field(default_factory=set)  # callback states already queued
    doc_cache: tuple[object, bytes] | None = None  # (cache key, encoded status document)

    def state(self, now: float) -> State:
        if self.end_at is not None and now >= self.end_at:
            return self.outcome
        if self.start_at is not None and now >= self.start_at:
            return State.PROCESSING
        return State.CREATED if now < self.created_until else State.QUEUEING

    def visible_err_code(self, state: State) -> str:
        return self.err_code if state is State.FAILED else ""

    def visible_credits(self) -> int:
        """What the task costs now: its charge, or 0 once refunded."""
        return 0 if self.refunded else self.credits

    @property
    def created_iso(self) -> str:
        return iso_utc(self.created_at)
