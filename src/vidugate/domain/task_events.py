"""A task's history as the store records it: one event per transition (domain/transitions.py),
`Created` included, written in the transition's own transaction (store/task_events.py), so
the history holds exactly the changes that happened. Each event keeps the statuses before
and after and a small detail: what the change wrote that an operator needs (the upstream
account and id, the attempts and why a try failed, the error, the progress), never a key,
a prompt, an input or a URL, and every text cut to MAX_TEXT characters, so a row stays small
whatever an upstream answered."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from vidugate.domain.tasks import TaskStatus, VideoTask
from vidugate.domain.transitions import Created, Transition

# Fair scheduling's grant of a slot: an event of the task's history, though no transition.
ADMITTED = "task.admitted"
# The longest text kept in a detail (an upstream's error message can be a page of HTML).
MAX_TEXT = 500
# What a transition carries that is no operator's business: where the files are stored.
_HIDDEN = frozenset({"video_key", "thumbnail_key", "watermarked_key", "spritesheet_key"})


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """One row of `task_events`."""

    id: int  # the write order (ties of `at` are broken by it)
    task_id: str
    at: float
    event: str  # the transition's event: task.created, task.submitted, ...
    status_before: TaskStatus | None  # None: the task was being created
    status_after: TaskStatus
    detail: dict[str, Any]


def bounded(value: object) -> object:
    """A JSON value for a detail: decimals as exact strings, texts cut to MAX_TEXT."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return value[: MAX_TEXT - 1] + "…"
    return value


def _created(task: VideoTask) -> dict[str, object]:
    request = task.request
    detail: dict[str, object] = {
        "key_id": task.key_id,
        "tenant_id": task.tenant_id,
        "surface": task.surface.value,
        "provider": task.provider,
        "model": request.model,
        "mode": request.mode.value,
        "duration": request.duration,
        "resolution": request.resolution,
        "aspect_ratio": request.aspect_ratio,
        "off_peak": request.off_peak,
    }
    if task.charge is not None:
        detail["price"] = str(task.charge.price)
        detail["currency"] = task.charge.currency
    return detail


def event_detail(transition: Transition, task: VideoTask) -> dict[str, object]:
    """The detail of `transition` as applied to `task` (the row as the change left it):
    the transition's own fields (but file keys; empty ones left out), then what the row
    says of the upstream and the progress when the transition does not say it itself."""
    if isinstance(transition, Created):
        return {name: bounded(value) for name, value in _created(task).items()}
    detail: dict[str, object] = {}
    if dataclasses.is_dataclass(transition):
        for field in dataclasses.fields(transition):
            value = getattr(transition, field.name)
            if field.name not in _HIDDEN and value is not None and value != "":
                detail[field.name] = bounded(value)
    if task.upstream_account is not None:
        detail.setdefault("account", task.upstream_account)
    if task.upstream_id is not None:
        detail.setdefault("upstream_id", bounded(task.upstream_id))
    if task.progress:
        detail.setdefault("progress", task.progress)
    return detail
