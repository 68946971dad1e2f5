"""A task's timeline for the operator (GET /admin/v1/videos/{id}/timeline): its row as the
task list shows it, with its events, ledger rows and webhook trail read from the store and
merged by domain/timeline.py. Reads only, each bounded (domain/timeline.py's MAX_*)."""

from __future__ import annotations

from vidugate.domain.timeline import (
    MAX_TASK_EVENTS,
    MAX_WEBHOOK_MESSAGES,
    MAX_WEBHOOK_TRIES,
    Timeline,
    TimelineEvent,
    delivery_line,
    ledger_line,
    merged,
    message_line,
    task_line,
)
from vidugate.errors import NotFoundError
from vidugate.store.ledger import Ledger
from vidugate.store.task_events import TaskEvents
from vidugate.store.usage import UsageQueries
from vidugate.store.webhook_log import WebhookLog

# A task has at most one ledger row of each kind (reserve, then settle or refund).
_LEDGER_ROWS = 10


class TimelineService:
    def __init__(
        self, tasks: UsageQueries, events: TaskEvents, ledger: Ledger, webhooks: WebhookLog
    ) -> None:
        self.tasks = tasks
        self.events = events
        self.ledger = ledger
        self.webhooks = webhooks

    async def of(self, task_id: str) -> Timeline:
        """The task's timeline; NotFoundError when no task has this id (or its row was
        purged: its ledger rows outlive it, but a timeline is about a task)."""
        video = await self.tasks.task(task_id)
        if video is None:
            raise NotFoundError(f"No video {task_id!r}.", param="video_id")
        events, events_cut = await self.events.of_task(task_id, MAX_TASK_EVENTS)
        entries = await self.ledger.entries(task_id=task_id, limit=_LEDGER_ROWS)
        messages, tries, endpoint_urls, trail_cut = await self.webhooks.trail_of(
            task_id, MAX_WEBHOOK_MESSAGES, MAX_WEBHOOK_TRIES
        )
        currency = video.charge.currency if video.charge is not None else ""
        # Where each message went: its endpoint's URL, or the request's own callback URL.
        url_of = {
            m.id: endpoint_urls.get(m.endpoint_id) if m.endpoint_id is not None else m.url
            for m in messages
        }
        lines: list[TimelineEvent] = [task_line(event) for event in events]
        lines += [ledger_line(entry, currency) for entry in entries]
        lines += [message_line(message, url_of[message.id]) for message in messages]
        lines += [delivery_line(n, attempt, url_of.get(attempt.message_id)) for n, attempt in tries]
        return Timeline(video, merged(lines), events_cut or trail_cut)
