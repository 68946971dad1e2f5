"""Tasks into Vidu's documents: the create answer, the status document (/creations) and
the list entries, in Vidu's state words; and the seed platform's query document (/task/{id}
/creations, singular), whose status words its create answers carry too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from vidugate.api.links import content_links
from vidugate.api.money import with_price
from vidugate.api.unified.render import platform_status, status_changed_at
from vidugate.domain.models import Mode
from vidugate.domain.tasks import TaskStatus, VideoTask
from vidugate.errors import InvalidRequestError
from vidugate.services.signing import UrlSigner
from vidugate.settings import ViduDialect

DIALECT_HEADER = "X-Vidugate-Vidu-Dialect"
# Vidu's states: created -> queueing -> processing -> success | failed. A queued task is
# "created" in the create answer (as Vidu's own create answer says) and "queueing" after.
STATES = {
    TaskStatus.QUEUED: "queueing",
    TaskStatus.PROCESSING: "processing",
    TaskStatus.COMPLETED: "success",
    TaskStatus.FAILED: "failed",
    TaskStatus.CANCELLED: "failed",
}
# The gateway's statuses each Vidu state word stands for, for the list's state filter.
STATE_FILTERS = {
    "created": frozenset({TaskStatus.QUEUED}),
    "queueing": frozenset({TaskStatus.QUEUED}),
    "processing": frozenset({TaskStatus.PROCESSING}),
    "success": frozenset({TaskStatus.COMPLETED}),
    "failed": frozenset({TaskStatus.FAILED, TaskStatus.CANCELLED}),
}
# Vidu has a single failed state; a cancelled task is failed with this err_code.
CANCELLED_ERR_CODE = "TaskCanceled"
# Vidu's credits are Vidu's unit; the gateway's price is in the operator's currency, so
# it goes in `price` beside them, and `credits` stays 0.
CREDITS = 0
# Vidu's answers carry aspect_ratio only where the request could give one.
_RATIO_MODES = frozenset({Mode.TEXT, Mode.REFERENCE})


def state_of(task: VideoTask) -> str:
    return STATES[task.status]


def err_code(task: VideoTask) -> str:
    if task.status is TaskStatus.CANCELLED:
        return CANCELLED_ERR_CODE
    if task.status is TaskStatus.FAILED:
        return task.error.code if task.error else "failed"
    return ""


def iso(timestamp: float) -> str:
    """Vidu's timestamps: ISO-8601 in UTC with microseconds and a Z."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def platform_dialect(forced: str | None, authorization: str | None, setting: ViduDialect) -> bool:
    """Whether created_at takes the seed platform's form (unix seconds) rather than Vidu's
    (an ISO string): a typed client of either breaks on the other's. Vidu's clients send
    Authorization: Token, the platform's Bearer; the header (forced), then the setting,
    can say otherwise."""
    if forced is not None:
        chosen = forced.strip().lower()
        if chosen not in (ViduDialect.VIDU, ViduDialect.PLATFORM):
            raise InvalidRequestError(
                f"{DIALECT_HEADER} must be vidu (created_at as an ISO string) or platform "
                "(unix seconds).",
                param=DIALECT_HEADER,
            )
        return chosen == ViduDialect.PLATFORM
    if setting is not ViduDialect.AUTO:
        return setting is ViduDialect.PLATFORM
    scheme = (authorization or "").partition(" ")[0]
    return scheme.lower() != "token"


def create_answer(task: VideoTask, images: list[str], *, platform: bool) -> dict[str, Any]:
    """Vidu's create answer, with the platform's status beside Vidu's state so clients of
    either read it; created_at in the one form the caller's client parses."""
    request = task.request
    state = "created" if task.status is TaskStatus.QUEUED else state_of(task)
    body: dict[str, Any] = {
        "task_id": task.id,
        "state": state,
        "status": platform_status(task),
        "model": request.model,
        "prompt": request.prompt,
    }
    if request.mode is not Mode.TEXT:
        body["images"] = images
    body.update(
        {
            "duration": request.duration,
            "seed": request.seed,
            "resolution": request.resolution,
            "movement_amplitude": request.movement_amplitude or "auto",
            "bgm": request.bgm,
            "audio": request.audio,
            "payload": request.payload or "",
            "off_peak": request.off_peak,
            "watermark": request.watermark,
            "credits": CREDITS,
            "created_at": int(task.created_at) if platform else iso(task.created_at),
        }
    )
    if request.mode in _RATIO_MODES:
        body["aspect_ratio"] = request.aspect_ratio
    for name in ("voice_id", "meta_data", "wm_url", "callback_url"):
        if getattr(request, name) is not None:
            body[name] = getattr(request, name)
    if request.watermark:
        body["wm_position"] = request.wm_position
    return with_price(body, task.charge)


def status_document(task: VideoTask, signer: UrlSigner, base: str) -> dict[str, Any]:
    request = task.request
    creations = []
    links = content_links(task, signer, base)
    if links is not None:
        # Vidu's url is the plain video and watermarked_url the marked one. The sandbox draws
        # its mark into its only copy, so there both name that copy.
        creations.append(
            {
                "id": task.id,
                "url": links.original or links.video,
                "cover_url": links.thumbnail or "",
                "watermarked_url": links.video if request.watermark else "",
            }
        )
    body = {
        "id": task.id,
        "state": state_of(task),
        "err_code": err_code(task),
        "credits": CREDITS,
        "payload": request.payload or "",
        "bgm": request.bgm,
        "off_peak": request.off_peak,
        "creations": creations,
    }
    return with_price(body, task.charge)


def platform_document(task: VideoTask, signer: UrlSigner, base: str) -> dict[str, Any]:
    """GET /task/{id}/creations (singular): the seed platform's query answer."""
    body: dict[str, Any] = {"id": task.id, "status": platform_status(task)}
    links = content_links(task, signer, base)
    if links is not None:
        body["video_url"] = links.video
    body["status_update_time"] = int(status_changed_at(task))
    return body


def list_entry(task: VideoTask, signer: UrlSigner, base: str) -> dict[str, Any]:
    request = task.request
    entry = {
        **status_document(task, signer, base),
        "type": request.mode.value,
        "model": request.model,
        "prompt": request.prompt,
        "duration": request.duration,
        "seed": request.seed,
        "resolution": request.resolution,
        "movement_amplitude": request.movement_amplitude or "auto",
        "created_at": iso(task.created_at),
    }
    if request.mode in _RATIO_MODES:
        entry["aspect_ratio"] = request.aspect_ratio
    return entry
