"""Tasks into the seed platform's answers: the unified create and query documents, and the
platform's status words, which its /vidu/ent/v2 answers use too.

The platform has three words: processing, completed and failed. A queued task is
processing (the create answer already says so), and a cancelled one failed, with
error.code "cancelled" where the document has an error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from vidugate.api.links import content_links
from vidugate.api.money import with_price
from vidugate.domain.tasks import TaskStatus, VideoTask
from vidugate.services.signing import UrlSigner

PLATFORM_STATUS = {
    TaskStatus.QUEUED: "processing",
    TaskStatus.PROCESSING: "processing",
    TaskStatus.COMPLETED: "completed",
    TaskStatus.FAILED: "failed",
    TaskStatus.CANCELLED: "failed",
}


def platform_status(task: VideoTask) -> str:
    return PLATFORM_STATUS[task.status]


def rfc3339(timestamp: float) -> str:
    """With its offset, as the platform writes it (UTC here: +00:00)."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="microseconds")


def status_changed_at(task: VideoTask) -> float:
    """When the task last took the status it shows: finished, started, or made."""
    return task.completed_at or task.started_at or task.created_at


def create_answer(task: VideoTask) -> dict[str, Any]:
    body = {
        "created_at": rfc3339(task.created_at),
        "status": platform_status(task),
        "task_id": task.id,
    }
    return with_price(body, task.charge)


def query_answer(task: VideoTask, signer: UrlSigner, base: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": task.id,
        "status": platform_status(task),
        "progress": task.progress,
        "created_at": int(task.created_at),
    }
    links = content_links(task, signer, base)
    if task.status is TaskStatus.COMPLETED:
        body["completed_at"] = int(status_changed_at(task))
        if links is not None:  # None once the content has expired
            body["video_url"] = links.video
    elif task.status.terminal:
        cancelled = task.status is TaskStatus.CANCELLED
        if task.error is not None:
            body["error"] = {"code": task.error.code, "message": task.error.message}
        else:
            body["error"] = {
                "code": "cancelled" if cancelled else "failed",
                "message": "The task was cancelled." if cancelled else "The task failed.",
            }
    return with_price(body, task.charge)
