"""Gateway requests to Vidu bodies, Vidu answers to gateway states and errors. Pure
functions over parsed JSON: tested on recorded payloads, no I/O here."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from vidugate.domain.models import Mode
from vidugate.domain.money import parse_amount
from vidugate.domain.request import VideoRequest
from vidugate.domain.subjects import by_subject
from vidugate.errors import (
    InvalidRequestError,
    ProviderError,
    UpstreamAuthError,
    UpstreamRejectedError,
    UpstreamUnavailableError,
)
from vidugate.providers.base import JobState, JobStatus
from vidugate.providers.vidu.failures import (
    FAILURES,
    GENERATION_FAILED,
    INSUFFICIENT_CREDITS,
    quoted,
    task_error,
)

ENDPOINTS = {
    Mode.TEXT: "/ent/v2/text2video",
    Mode.IMAGE: "/ent/v2/img2video",
    Mode.START_END: "/ent/v2/start-end2video",
    Mode.REFERENCE: "/ent/v2/reference2video",
}
# Only these endpoints take aspect_ratio; for the others the images set the frame.
TAKES_ASPECT_RATIO = {Mode.TEXT, Mode.REFERENCE}
MARKER_PREFIX = "vidugate:"
# Vidu's error message is quoted into the task's error; a misbehaving upstream's stays short.
MAX_MESSAGE = 300


def marker(task_id: str) -> str:
    """What the gateway puts in Vidu's pass-through payload: it finds lost creates by it.
    (The client's own payload is kept and returned by the gateway itself.)"""
    return MARKER_PREFIX + task_id


def upstream_model(request: VideoRequest, model_map: dict[str, dict[str, str]]) -> str:
    endpoint = ENDPOINTS[request.mode].rsplit("/", 1)[1]
    return model_map.get(endpoint, {}).get(request.model, request.model)


def create_body(
    request: VideoRequest,
    *,
    task_id: str,
    images: list[str],
    model_map: dict[str, dict[str, str]],
    callback_url: str | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": upstream_model(request, model_map),
        "prompt": request.prompt,
        "duration": request.duration,
        "seed": request.seed,
        "resolution": request.resolution,
        "bgm": request.bgm,
        "audio": request.audio,
        "is_rec": request.is_rec,
        "off_peak": request.off_peak,
        "watermark": request.watermark,
        "payload": marker(task_id),
    }
    if request.subjects:
        # Vidu's subject form: each subject with its own images, the voice only when given.
        body["subjects"] = [
            {"id": subject.id, "images": own}
            | ({"voice_id": subject.voice_id} if subject.voice_id else {})
            for subject, own in by_subject(request.subjects, images)
        ]
    elif images:
        body["images"] = images
    if request.mode in TAKES_ASPECT_RATIO:
        body["aspect_ratio"] = request.aspect_ratio
    optional = {
        "voice_id": request.voice_id,
        "movement_amplitude": request.movement_amplitude,
        "wm_url": request.wm_url if request.watermark else None,
        "meta_data": request.meta_data,
        "callback_url": callback_url,
        "style": request.style if request.mode is Mode.TEXT else None,
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    # Fields that change nothing for the model are not sent: Vidu refuses some of them
    # there (movement_amplitude on q3), and sending the others would only invite that.
    for name in request.spec.ignored_fields:
        body.pop(name, None)
    if request.watermark:
        body["wm_position"] = request.wm_position
    return body


def derived_progress(
    state: str, started_at: float | None, typical_seconds: float, now: float
) -> int:
    """Vidu gives no progress number: queueing is 5, processing rises with elapsed time
    (to `now`) against the model's typical duration and stays below 100 until success."""
    if state in ("created", "queueing"):
        return 5
    elapsed = now - (started_at or now)
    return min(95, 10 + int(85 * elapsed / max(typical_seconds, 1.0)))


def job_status(
    doc: dict[str, Any], started_at: float | None, typical_seconds: float, *, now: float
) -> JobStatus:
    state = str(doc.get("state", ""))
    credits = parse_credits(doc.get("credits"))
    if state in ("created", "queueing"):
        progress = derived_progress(state, started_at, typical_seconds, now)
        return JobStatus(JobState.QUEUED, progress, credits=credits)
    if state == "processing":
        progress = derived_progress(state, started_at, typical_seconds, now)
        return JobStatus(JobState.RUNNING, progress, credits=credits)
    if state == "success":
        return JobStatus(JobState.SUCCEEDED, 99, credits=credits)
    if state == "failed":
        error = task_error(str(doc.get("err_code") or ""))
        return JobStatus(JobState.FAILED, error=error, credits=credits)
    raise UpstreamUnavailableError(f"Vidu answered an unknown task state {state!r}.")


def parse_credits(value: Any) -> Decimal | None:
    """A credits figure from a Vidu answer, exactly: an integer, a decimal string or a
    Decimal; None for anything else (a bool, a negative, garbage), which is ignored rather
    than trusted. json.loads hands a fractional JSON number over as a float: its repr is
    the shortest text that reads back as that float, which is the text Vidu wrote for any
    number of up to 15 significant digits, and is parsed as text (no binary arithmetic)."""
    if isinstance(value, float):
        value = repr(value)
    try:
        return parse_amount(value, param="credits")
    except InvalidRequestError:
        return None


def result_urls(doc: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """(video, cover, watermarked) of a successful status document."""
    creations = doc.get("creations") or []
    if not creations or not creations[0].get("url"):
        raise UpstreamUnavailableError("Vidu reported success without a result URL.")
    first = creations[0]
    return first["url"], first.get("cover_url") or None, first.get("watermarked_url") or None


def error_for(status: int, body: Any, *, retry_after: float | None = None) -> ProviderError:
    """A Vidu error answer as the gateway's error (what to do about it is the caller's)."""
    reason = quoted(str(body.get("reason", ""))) if isinstance(body, dict) else ""
    text = str(body.get("message", ""))[:MAX_MESSAGE] if isinstance(body, dict) else ""
    detail = f"Vidu {status} {reason}: {text}".strip().rstrip(":")
    if status == 401 or reason == "Unauthorized":
        return UpstreamAuthError(detail)
    if reason == "CreditInsufficient" or status == 402:
        return UpstreamUnavailableError(detail, code="upstream_out_of_credits", retry_after=60)
    if status == 429 or reason in ("TooManyRequests", "SystemThrottling", "QuotaExceeded"):
        return UpstreamUnavailableError(
            detail, code="upstream_throttled", retry_after=retry_after or 5.0
        )
    known = FAILURES.get(reason)
    if 400 <= status < 500 and known is not None and known.code != INSUFFICIENT_CREDITS:
        if known.code == GENERATION_FAILED:  # e.g. OperationInProcess: "retry later"
            return UpstreamUnavailableError(detail, retry_after=retry_after)
        return UpstreamRejectedError(f"{known.message} ({detail})", code=known.code)
    if status == 404 or reason == "TaskNotFound":
        return UpstreamRejectedError(detail, code="upstream_task_not_found")
    if 400 <= status < 500:
        return UpstreamRejectedError(detail, code="upstream_invalid_request")
    return UpstreamUnavailableError(detail, retry_after=retry_after)
