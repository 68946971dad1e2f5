"""A task's timeline (GET /admin/v1/videos/{id}/timeline, docs/console-api.md): its own
events (domain/task_events.py), its ledger rows and its webhook messages and delivery
tries, each as a line with a one-line summary for a person and a small detail, merged in
time order. Pure: services/timeline.py reads the rows, this shapes them.

Each source is bounded when read (MAX_TASK_EVENTS, MAX_WEBHOOK_MESSAGES, MAX_WEBHOOK_TRIES,
the newest kept); a timeline that left anything out says so (`truncated`). URLs are shown
without their query, fragment or user part: a receiver's token may live there."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from vidugate.domain.ledger import LedgerEntry, LedgerKind
from vidugate.domain.money import amount_text
from vidugate.domain.task_events import TaskEvent, bounded
from vidugate.domain.tasks import TaskStatus
from vidugate.domain.usage import TaskSummary
from vidugate.domain.webhooks import Attempt, Message

MAX_TASK_EVENTS = 1000  # a task has a handful of changes; a long run of failed tries, more
MAX_WEBHOOK_MESSAGES = 200  # video.progress alone may write one every 5 s per endpoint
MAX_WEBHOOK_TRIES = 200  # the newest tries; a dead endpoint is tried for a day


class Source(StrEnum):
    TASK = "task"
    LEDGER = "ledger"
    WEBHOOK = "webhook"


# At one instant: the change first, then the money it moved, then what it announced.
_RANK = {Source.TASK: 0, Source.LEDGER: 1, Source.WEBHOOK: 2}


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    at: float
    source: Source
    type: str
    summary: str
    detail: dict[str, Any]
    status: TaskStatus | None = None  # a task event's status after the change
    # Ties of `at` within a source: the rows' write order (a message before its tries).
    order: tuple[int, int] = field(default=(0, 0))


@dataclass(frozen=True, slots=True)
class Timeline:
    video: TaskSummary
    events: tuple[TimelineEvent, ...]
    truncated: bool  # some source had more than its bound: its oldest were left out


def merged(events: Iterable[TimelineEvent]) -> tuple[TimelineEvent, ...]:
    return tuple(sorted(events, key=lambda e: (e.at, _RANK[e.source], e.order)))


def shown_url(url: str) -> str:
    """scheme://host[:port]/path of a URL: no credentials, query or fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return str(bounded(urlunsplit((parts.scheme, host, parts.path, "", ""))))


def _said(detail: dict[str, Any], *names: str) -> str:
    """`code: message` (or whichever of them is there) from a detail."""
    return ": ".join(str(detail[n]) for n in names if detail.get(n))


def _task_summary(event: TaskEvent) -> str:
    d = event.detail
    name = event.event.removeprefix("task.")
    if name == "created":
        tenant = f" (tenant {d['tenant_id']})" if d.get("tenant_id") else ""
        return (
            f"Created by key {d.get('key_id')}{tenant}: "
            f"{d.get('model')}, {d.get('duration')} s, {d.get('resolution')}"
        )
    if name == "admitted":
        return f"Given a slot of {d.get('slot')} (fair scheduling): its wait in the queue ended"
    if name == "intent_recorded":
        return f"Create about to be sent to account {d.get('account')}"
    if name == "intent_withdrawn":
        return "Create not accepted upstream: it may go to another account"
    if name == "submitted":
        where = f" on account {d['account']}" if d.get("account") else ""
        credits = f", {d['credits']} credits" if d.get("credits") is not None else ""
        return f"Accepted upstream as {d.get('upstream_id')}{where}{credits}"
    if name == "attempts_counted":
        attempts = d.get("attempts", 0)
        if not attempts:
            return "A look worked again: failed tries reset to 0"
        why = _said(d, "code", "message")
        return f"Try {attempts} failed" + (f": {why}" if why else "")
    if name == "completed":
        audio = "with audio" if d.get("has_audio") else "no audio"
        return f"Completed: {d.get('width')}x{d.get('height')}, {audio}"
    if name == "failed":
        return f"Failed: {_said(d, 'code', 'message')}"
    if name == "cancelled":
        return "Deleted while running (cancelled)" if d.get("deleted") else "Cancelled"
    if name == "deleted":
        return "Deleted by its client"
    if name == "expired":
        return "Its files passed their keep-until time and were removed"
    return event.event


def task_line(event: TaskEvent) -> TimelineEvent:
    detail = dict(event.detail)
    if event.status_before is not None:
        detail["status_before"] = event.status_before.value
    return TimelineEvent(
        at=event.at,
        source=Source.TASK,
        type=event.event,
        summary=_task_summary(event),
        detail=detail,
        status=event.status_after,
        order=(event.id, 0),
    )


def _money(value: Decimal, currency: str) -> str:
    return f"{amount_text(value)} {currency}".strip()


def ledger_line(entry: LedgerEntry, currency: str) -> TimelineEvent:
    """A ledger row of the task (currency: the task's, which its rows do not repeat)."""
    if entry.kind is LedgerKind.RESERVE:
        summary = f"Reserved {_money(-entry.amount, currency)}"
    elif entry.kind is LedgerKind.REFUND:
        summary = f"Refunded {_money(entry.amount, currency)}"
    elif entry.kind is LedgerKind.SETTLE:
        summary = (
            f"Settled: {_money(entry.amount, currency)} back"
            if entry.amount
            else "Settled: the whole reserve charged"
        )
    else:
        summary = f"{entry.kind.value.capitalize()} {_money(entry.amount, currency)}"
    detail: dict[str, Any] = {
        "id": entry.id,
        "amount": amount_text(entry.amount),
        "balance_after": amount_text(entry.balance_after),
        "currency": currency,
    }
    if entry.reason:
        detail["reason"] = bounded(entry.reason)
    return TimelineEvent(
        at=entry.created_at,
        source=Source.LEDGER,
        type=f"ledger.{entry.kind.value}",
        summary=summary,
        detail=detail,
        order=(entry.id, 0),
    )


def message_line(message: Message, url: str | None) -> TimelineEvent:
    """A webhook message written (url: where it goes; None: its endpoint is gone)."""
    to = shown_url(url) if url else "a deleted endpoint"
    return TimelineEvent(
        at=message.created_at,
        source=Source.WEBHOOK,
        type="webhook.message",
        summary=f"{message.event.value} written for {to} ({message.state.value})",
        detail={
            "message_id": message.id,
            "event": message.event.value,
            "endpoint_id": message.endpoint_id,
            "state": message.state.value,
            "attempts": message.attempts,
        },
        order=(0, message.n),
    )


def delivery_line(row_id: int, attempt: Attempt, url: str | None) -> TimelineEvent:
    """One try at a message, from the delivery log (row_id: the log's order)."""
    to = shown_url(url) if url else "a deleted endpoint"
    outcome = str(attempt.status) if attempt.status is not None else "no answer"
    if attempt.status is None and attempt.error:
        outcome += f" ({bounded(attempt.error)})"
    return TimelineEvent(
        at=attempt.at,
        source=Source.WEBHOOK,
        type="webhook.delivery",
        summary=(
            f"{attempt.event.value} to {to} : {outcome} in {attempt.duration_ms} ms "
            f"(try {attempt.attempt})"
        ),
        detail={
            "message_id": attempt.message_id,
            "event": attempt.event.value,
            "endpoint_id": attempt.endpoint_id,
            "try": attempt.attempt,
            "status_code": attempt.status,
            "error": bounded(attempt.error),
            "duration_ms": attempt.duration_ms,
        },
        order=(1, row_id),
    )
