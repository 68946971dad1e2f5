"""Webhooks: the events a task's changes announce, an account's endpoints that want them,
and the messages (one per event and destination) the deliverer sends until a 2xx comes back
or the retry window closes (docs/webhooks.md)."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from vidugate.domain.tasks import VideoTask
from vidugate.domain.transitions import Cancelled, Completed, Created, Failed, Submitted, Transition
from vidugate.errors import InvalidRequestError

MAX_ENDPOINTS_PER_TENANT = 20
MAX_DESCRIPTION_CHARS = 500
# What a receiver's answer keeps in the delivery log (the rest is read and dropped).
MAX_LOGGED_ANSWER_BYTES = 1024
_MESSAGE_ID = re.compile(r"^msg_[0-9A-HJKMNP-TV-Z]{26}$")
_ENDPOINT_ID = re.compile(r"^whep_[0-9A-HJKMNP-TV-Z]{26}$")


class EventType(StrEnum):
    QUEUED = "video.queued"
    PROCESSING = "video.processing"
    PROGRESS = "video.progress"  # throttled: see PROGRESS_EVERY
    COMPLETED = "video.completed"
    FAILED = "video.failed"
    CANCELLED = "video.cancelled"


ALL_EVENTS = frozenset(EventType)
# What an endpoint registered with no event filter gets: every change of state. Progress
# is sent only to endpoints that ask for it (it is many more messages).
DEFAULT_EVENTS = ALL_EVENTS - {EventType.PROGRESS}
# A video's progress events are at least this many seconds apart (and only when it rose).
PROGRESS_EVERY = 5.0
# What a per-request URL (`webhook_url`, Vidu's `callback_url`) gets: as Vidu calls back,
# on processing and on each end.
REQUEST_EVENTS = frozenset(
    {EventType.PROCESSING, EventType.COMPLETED, EventType.FAILED, EventType.CANCELLED}
)

_EVENT_OF: dict[type[Transition], EventType] = {
    Created: EventType.QUEUED,
    Submitted: EventType.PROCESSING,
    Completed: EventType.COMPLETED,
    Failed: EventType.FAILED,
    Cancelled: EventType.CANCELLED,
}


def event_of(transition: Transition) -> EventType | None:
    """The event a transition announces (None: it announces none)."""
    return _EVENT_OF.get(type(transition))


def parse_events(values: Iterable[str] | None, param: str = "events") -> frozenset[EventType]:
    """An endpoint's event filter; none given (or empty): every event but progress."""
    if not values:
        return DEFAULT_EVENTS
    chosen = set()
    for value in values:
        try:
            chosen.add(EventType(value))
        except ValueError:
            allowed = ", ".join(sorted(e.value for e in EventType))
            raise InvalidRequestError(
                f"{param}: {value[:64]!r} is no event; the events are {allowed}.", param=param
            ) from None
    return frozenset(chosen)


def is_message_id(value: str) -> bool:
    return _MESSAGE_ID.match(value) is not None


def is_endpoint_id(value: str) -> bool:
    return _ENDPOINT_ID.match(value) is not None


@dataclass(frozen=True, slots=True)
class Bodies:
    """What a task's event is sent as: the Standard Webhooks envelope ({type, timestamp,
    data: the video object of the task's surface}), and for Vidu's `callback_url` the bare
    task document, as Vidu itself calls back."""

    envelope: str
    callback: str


# Made in the API layer (api/webhook_bodies.py), which knows each surface's video object.
RenderBodies = Callable[[VideoTask, EventType, float], Bodies]


class MessageState(StrEnum):
    PENDING = "pending"  # to be sent (again) at next_attempt_at
    DELIVERED = "delivered"  # a 2xx came back
    FAILED = "failed"  # the retry window closed without one
    DROPPED = "dropped"  # its endpoint was deleted or disabled before it went


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: str
    tenant_id: str
    url: str
    events: frozenset[EventType]
    description: str
    disabled: bool
    created_at: float
    updated_at: float

    def wants(self, event: EventType) -> bool:
        return not self.disabled and event in self.events


@dataclass(frozen=True, slots=True)
class Message:
    """One event for one destination: an endpoint, or a request's own URL."""

    id: str  # the webhook-id header: the same on every attempt, so receivers deduplicate
    n: int  # the outbox's order: a task's messages to one destination go in this order
    tenant_id: str | None
    task_id: str
    event: EventType
    endpoint_id: str | None  # None: the task's own URL (`url`)
    url: str
    destination: str  # the endpoint's id, or url: + a hash of the URL (the order's scope)
    payload: str  # the JSON body, as sent
    state: MessageState
    attempts: int
    created_at: float
    next_attempt_at: float | None
    last_status: int | None
    last_error: str | None
    delivered_at: float | None


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try at delivering a message: the delivery log's row."""

    message_id: str
    endpoint_id: str | None
    task_id: str
    event: EventType
    attempt: int
    at: float
    status: int | None  # the receiver's HTTP status; None: no answer (error says why)
    error: str | None
    duration_ms: int


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When a failed delivery is tried again: `first` seconds after the first failure, each
    wait `factor` times the one before, up to `cap`, with up to 10 % jitter, until
    `window` seconds after the event (a last try then); then the message has failed."""

    first: float = 5.0
    factor: float = 3.0
    cap: float = 4 * 3600.0
    window: float = 24 * 3600.0

    def next_attempt(self, attempts: int, created_at: float, now: float) -> float | None:
        """When to try again after `attempts` failed tries (None: give up)."""
        closes = created_at + self.window
        if now >= closes:
            return None
        wait = min(self.cap, self.first * self.factor ** max(0, attempts - 1))
        # The last try falls on the window's end rather than past it.
        return min(closes, now + wait * (1 + random.random() / 10))
