"""Limits as the rest of the gateway meets them: the settings' defaults, and what a revoke
does to the key's unfinished videos.

A revoked key's queued videos (the upstream has not begun them) are cancelled, which
refunds them in full (the ledger's cancel rule: free until the upstream begins) and frees
their places in the active-videos counts; the ones already processing run to their end and
are charged, as the client asked for them. A queued video that a worker submits in the
instant between the look-up and the cancel is cancelled all the same, and is still free:
its progress is 0 until the upstream says it runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from vidugate.clock import SystemClock
from vidugate.domain.keys import ApiKey
from vidugate.domain.ledger import CancelPolicy, Tenant
from vidugate.domain.limits import LimitKind, Limits
from vidugate.domain.tasks import VideoTask
from vidugate.domain.transitions import Cancelled, Transition
from vidugate.errors import InvalidRequestError, NotFoundError
from vidugate.services.cached_tasks import CachedTasks
from vidugate.services.keys import KeyService
from vidugate.settings import Settings
from vidugate.store.db import Database
from vidugate.store.effects import TaskEffect
from vidugate.store.ledger import Ledger
from vidugate.store.limit_columns import change_values
from vidugate.store.limits import LimitCounts, queued_reader
from vidugate.store.task_events import TaskEvents
from vidugate.store.tasks import TaskRepository
from vidugate.store.tenants import TenantRepository
from vidugate.store.webhook_outbox import WebhookOutbox

ApplyFn = Callable[[str, Transition], Awaitable[VideoTask | None]]
QueuedFn = Callable[[str], Awaitable[list[str]]]


def default_limits(settings: Settings) -> Limits:
    return Limits(
        requests_per_minute=settings.limit_requests_per_minute,
        creates_per_minute=settings.limit_creates_per_minute,
        active_videos=settings.limit_active_videos,
        spend_per_day=settings.limit_spend_per_day,
    )


class QueuedCanceller:
    """Called with the keys a revoke just revoked; cancels their queued videos."""

    def __init__(self, queued: QueuedFn, apply: ApplyFn) -> None:
        self.queued = queued
        self.apply = apply

    async def __call__(self, keys: Sequence[ApiKey]) -> int:
        cancelled = 0
        for key in keys:
            for task_id in await self.queued(key.id):
                if await self.apply(task_id, Cancelled()) is not None:
                    cancelled += 1
        return cancelled


LimitChanges = Mapping[LimitKind, int | Decimal | None]
_LEAST = {
    LimitKind.REQUESTS_PER_MINUTE: 1,
    LimitKind.CREATES_PER_MINUTE: 1,
    LimitKind.ACTIVE_VIDEOS: 0,
    LimitKind.SPEND_PER_DAY: 0,
}


def checked(changes: LimitChanges) -> dict[str, int | None]:
    """The columns to write for these changes (None clears one: the default applies
    again); a value out of range is a 400 naming its field."""
    for kind, value in changes.items():
        if value is not None and value < _LEAST[kind]:
            raise InvalidRequestError(
                f"{kind.value} is {_LEAST[kind]} or more (or null: the default).",
                param=f"limits.{kind.value}",
            )
    return change_values(changes)


async def update_key_limits(keys: KeyService, key_id: str, changes: LimitChanges) -> ApiKey:
    """Only the changed limits are written: a change of another made meanwhile stands."""
    updated = await keys.change_limits(key_id, checked(changes))
    if updated is None:
        raise NotFoundError(f"No key {key_id!r}.", param="key_id")
    return updated


async def update_tenant_limits(
    tenants: TenantRepository, tenant_id: str, changes: LimitChanges
) -> Tenant:
    updated = await tenants.change_limits(tenant_id, checked(changes))
    if updated is None:
        raise NotFoundError(f"No tenant {tenant_id!r}.", param="tenant_id")
    return updated


@dataclass(frozen=True, slots=True)
class TaskBooks:
    """What every writer of task rows registers as effects, in order: the limit counts
    first (a create over a limit is refused before the ledger locks the balance), then
    the ledger, then the webhook outbox (its events carry the charge as it ends), then the
    task's history (store/task_events.py: it records the row as the others left it). One
    list for the server and the CLI alike."""

    counts: LimitCounts
    ledger: Ledger
    events: TaskEvents
    outbox: WebhookOutbox | None = None

    @property
    def effects(self) -> list[TaskEffect]:
        effects: list[TaskEffect] = [self.counts.effect, self.ledger.effect]
        if self.outbox is not None:
            effects.append(self.outbox.effect)
        return [*effects, self.events.effect]


def task_books(
    database: Database, settings: Settings, outbox: WebhookOutbox | None = None
) -> TaskBooks:
    policy = CancelPolicy(percent_after_start=settings.cancel_charge_percent)
    return TaskBooks(
        LimitCounts(default_limits(settings), policy),
        Ledger(database, policy),
        TaskEvents(database),
        outbox,
    )


def revoke_canceller(
    database: Database, settings: Settings, outbox: WebhookOutbox | None = None
) -> QueuedCanceller:
    """What a revoke made outside a server (the CLI) runs: the task store with the same
    effects as a gateway's (limits, then the ledger), through the one writer of task rows,
    so the cancels refund and free the counts exactly as a server's would."""
    books = task_books(database, settings, outbox)
    tasks = CachedTasks(
        TaskRepository(database, effects=books.effects),
        shared=True,  # the server's processes write these tasks too
        clock=SystemClock(),
    )

    async def apply(task_id: str, transition: Transition) -> VideoTask | None:
        return await tasks.apply(task_id, transition)

    return QueuedCanceller(queued_reader(database, books.counts), apply)
