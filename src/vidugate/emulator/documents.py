"""The JSON documents of the Vidu surface: create answer, status document, list items.

The status document is exactly the doc's shape: `id`, `state`, `err_code`, `credits`,
`payload`, `bgm`, `off_peak`, `creations` (one entry on success, `[]` otherwise). `credits`
is what the task costs now: the charge, or 0 once it was refunded. Its encoded bytes are
cached on the task, keyed by everything they depend on (state, base URL, link epoch, TTL,
refund), so polling an unchanged task re-encodes nothing.
"""

from __future__ import annotations

import json

from vidugate.emulator.catalog import Endpoint
from vidugate.emulator.links import ResultLinks
from vidugate.emulator.tasks import State, Task

_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def encode(document: object) -> bytes:
    return _encoder.encode(document).encode("utf-8")


def status_document(
    task: Task, state: State, links: ResultLinks, base_url: str
) -> dict[str, object]:
    request = task.request
    return {
        "id": task.id,
        "state": state.value,
        "err_code": task.visible_err_code(state),
        "credits": task.visible_credits(),
        "payload": request.payload,
        "bgm": request.bgm,
        "off_peak": request.off_peak,
        "creations": links.creations(task, base_url) if state is State.SUCCESS else [],
    }


def status_bytes(task: Task, state: State, links: ResultLinks, base_url: str, ttl: float) -> bytes:
    key = (state, base_url if state is State.SUCCESS else "", links.epoch, ttl, task.refunded)
    cached = task.doc_cache
    if cached is not None and cached[0] == key:
        return cached[1]
    body = encode(status_document(task, state, links, base_url))
    task.doc_cache = (key, body)
    return body


def list_item(task: Task, state: State, links: ResultLinks, base_url: str) -> dict[str, object]:
    """A task in GET /ent/v2/tasks: the status document plus what identifies the request."""
    item = status_document(task, state, links, base_url)
    item.update(
        model=task.request.model,
        prompt=task.request.prompt,
        type=task.request.endpoint.value,
        created_at=task.created_iso,
    )
    return item


def create_answer(task: Task) -> dict[str, object]:
    """The create response: the doc's example fields, then the other fields echoed."""
    request = task.request
    answer: dict[str, object] = {
        "task_id": task.id,
        "state": State.CREATED.value,
        "model": request.model,
        "prompt": request.prompt,
    }
    if request.endpoint is not Endpoint.TEXT:
        answer["images"] = list(request.images)
    answer["duration"] = request.duration
    answer["seed"] = task.seed
    if request.aspect_ratio is not None:
        answer["aspect_ratio"] = request.aspect_ratio
    answer.update(
        resolution=request.resolution,
        movement_amplitude=request.movement_amplitude,
        payload=request.payload,
        off_peak=request.off_peak,
        credits=task.credits,
        created_at=task.created_iso,
        bgm=request.bgm,
        audio=request.audio,
        watermark=request.watermark,
        callback_url=request.callback_url,
    )
    if request.endpoint is Endpoint.IMAGE:
        answer["is_rec"] = request.is_rec
    if request.voice_id:
        answer["voice_id"] = request.voice_id
    if request.endpoint is Endpoint.TEXT and request.model == "viduq1":
        answer["style"] = request.style
    return answer
