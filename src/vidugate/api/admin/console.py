"""Wire schemas of the operator console's two reads (docs/console-api.md), and their
builders from the domain's values: a task's timeline and the upstream accounts. Times are
float unix seconds here (a timeline orders events a few milliseconds apart), amounts and
credits exact decimal strings."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from vidugate.api.admin.render import task_object
from vidugate.api.admin.schemas import TaskSummaryObject
from vidugate.domain.accounts import AccountHealth, AccountLine
from vidugate.domain.timeline import Timeline, TimelineEvent


class TimelineEventObject(BaseModel):
    at: float = Field(description="Unix seconds, from the gateway's clock.")
    source: Literal["task", "ledger", "webhook"]
    type: str = Field(
        description="task: the change (task.created, task.submitted, ...); ledger: "
        "ledger.<kind>; webhook: webhook.message (written) or webhook.delivery (a try)."
    )
    status: str | None = Field(
        default=None, description="task events: the task's status after the change."
    )
    summary: str = Field(description="One line for a person.")
    detail: dict[str, Any] = Field(description="Small, never a key or a URL's query.")


class TimelineObject(BaseModel):
    object: Literal["video.timeline"] = "video.timeline"
    video: TaskSummaryObject
    events: list[TimelineEventObject]
    truncated: bool = Field(
        description="Some source had more than its bound (1000 task events, the newest 200 "
        "webhook messages and 200 tries): its oldest were left out."
    )


class AccountObject(BaseModel):
    object: Literal["upstream.account"] = "upstream.account"
    id: str
    provider: str
    health: Literal["active", "throttled", "exhausted", "disabled"]
    reason: str
    until: float | None = Field(description="When a throttled or exhausted account takes work.")
    updated_at: float | None = Field(description="When its health was last written (null: never).")
    credits: str | None = Field(description="Its remaining upstream credits as last read.")
    credits_read_at: float | None
    concurrency: int = Field(description="Its slots (the sandbox's: per worker process).")
    running: int = Field(description="Unfinished tasks holding one of its slots or sent to it.")
    waiting: int = Field(
        description="Its provider's queued tasks not yet admitted to a slot (the queue is "
        "per provider: every account of a provider shows the same number)."
    )
    base_url: str | None


class AccountList(BaseModel):
    object: Literal["list"] = "list"
    data: list[AccountObject]


def event_object(event: TimelineEvent) -> TimelineEventObject:
    return TimelineEventObject(
        at=event.at,
        source=event.source.value,
        type=event.type,
        status=None if event.status is None else event.status.value,
        summary=event.summary,
        detail=event.detail,
    )


def timeline_object(timeline: Timeline) -> TimelineObject:
    return TimelineObject(
        video=task_object(timeline.video),
        events=[event_object(event) for event in timeline.events],
        truncated=timeline.truncated,
    )


def account_object(line: AccountLine) -> AccountObject:
    account, stored = line.account, line.stored
    state = None if stored is None else stored.state
    credits = None if stored is None else stored.credits
    return AccountObject(
        id=account.id,
        provider=account.provider,
        health=(AccountHealth.ACTIVE if state is None else state.health).value,
        reason="" if state is None else state.reason,
        until=None if state is None else state.until,
        updated_at=None if state is None else state.updated_at,
        credits=None if credits is None else f"{credits:f}",
        credits_read_at=None if stored is None else stored.credits_read_at,
        concurrency=account.concurrency,
        running=line.running,
        waiting=line.waiting,
        base_url=account.base_url,
    )
