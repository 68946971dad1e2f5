"""Tasks into the video object, in the status words the client understands."""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from typing import Any, NamedTuple

from starlette.requests import Request
from starlette.responses import Response

from vidugate.api.deps import settings_of
from vidugate.api.links import base_url, content_links
from vidugate.api.money import price_json
from vidugate.clock import Clock, SystemClock
from vidugate.domain.keys import ApiKey, StatusDialect
from vidugate.domain.models import quality_of
from vidugate.domain.tasks import TaskStatus, VideoTask
from vidugate.errors import InvalidRequestError
from vidugate.services.signing import UrlSigner

NON_TERMINAL_OPENAI = {TaskStatus.QUEUED: "queued", TaskStatus.PROCESSING: "in_progress"}

DIALECT_HEADER = "X-Vidugate-Status-Dialect"
# Clients that stop polling on any word but queued/in_progress and may send no X-Stainless-*
# header: LiteLLM never does, and proxies strip them from the official SDKs (not their UA,
# which is the client class's name: OpenAI, AsyncOpenAI, AzureOpenAI, AsyncAzureOpenAI).
OPENAI_CLIENTS = re.compile(r"^(?:litellm/|(?:Async)?(?:Azure)?OpenAI/(?:Python|JS) )")
# Every official SDK sends X-Stainless-Lang; its poll helper, X-Stainless-Poll-Helper.
STAINLESS_HEADERS = ("x-stainless-lang", "x-stainless-poll-helper")

# For the OpenAPI document of each route that answers video objects (parsed by asked_dialect).
DIALECT_PARAMETER = {
    "name": DIALECT_HEADER,
    "in": "header",
    "required": False,
    "description": "The status words of the video objects answered: openai (in_progress; a "
    "cancelled video is failed with error code cancelled), seed (processing, cancelled) or "
    "auto (the key's dialect, else VIDUGATE_STATUS_DIALECT, else OpenAI-compatible clients "
    "by their headers).",
    "schema": {"type": "string", "enum": [d.value for d in StatusDialect]},
}


def openai_words(request: Request, key: ApiKey, default: StatusDialect) -> bool:
    """Whether this request is answered in OpenAI's status words. The most specific choice
    wins: the request's header, then the key's dialect, then the process's setting; when all
    are auto, whether the client identifies as OpenAI-compatible."""
    for dialect in (asked_dialect(request), key.status_dialect, default):
        if dialect is not StatusDialect.AUTO:
            return dialect is StatusDialect.OPENAI
    headers = request.headers
    if any(name in headers for name in STAINLESS_HEADERS):
        return True
    return OPENAI_CLIENTS.match(headers.get("user-agent", "")) is not None


def asked_dialect(request: Request) -> StatusDialect:
    value = request.headers.get(DIALECT_HEADER)
    if value is None:
        return StatusDialect.AUTO
    try:
        return StatusDialect(value.strip().lower())
    except ValueError:
        shown = value if len(value) <= 64 else value[:64] + "..."
        raise InvalidRequestError(
            f"{DIALECT_HEADER} must be openai, seed or auto; got {shown!r}.",
            param=DIALECT_HEADER,
        ) from None


def video_object(
    task: VideoTask, *, openai_words: bool, signer: UrlSigner, base: str
) -> dict[str, Any]:
    status = task.status.value
    error = {"code": task.error.code, "message": task.error.message} if task.error else None
    if openai_words:
        status = NON_TERMINAL_OPENAI.get(task.status, status)
        if task.status is TaskStatus.CANCELLED:
            # The SDK knows no "cancelled"; a failure with code cancelled ends its poll.
            status = "failed"
            error = error or {"code": "cancelled", "message": "The task was cancelled."}
    links = content_links(task, signer, base)
    request = task.request
    body: dict[str, Any] = {
        "id": task.id,
        "object": "video",
        "model": request.model,
        "status": status,
        "progress": task.progress,
        "created_at": int(task.created_at),
        "completed_at": _int(task.completed_at),
        "expires_at": _int(task.expires_at),
        "size": task.size,
        "seconds": str(request.duration),
        "quality": quality_of(request.resolution),
        "prompt": request.prompt,
        "seed": request.seed,
        "aspect_ratio": request.aspect_ratio,
        "resolution": request.resolution,
        "video_url": links.video if links else None,
        "thumbnail_url": links.thumbnail if links else None,
        "spritesheet_url": links.spritesheet if links else None,
        "error": error,
        "remixed_from_video_id": None,
        "price": price_json(task.charge),
    }
    if request.payload is not None:
        body["payload"] = request.payload
    if request.meta_data is not None:
        body["meta_data"] = request.meta_data
    return body


class _Rendered(NamedTuple):
    updated_at: float
    base: str
    body: bytes
    until: float


# What an entry holds besides its body and base URL (key, tuple, dict slot), about.
ENTRY_OVERHEAD = 400
DEFAULT_MAX_BYTES = 32 * 1024 * 1024


class RenderedVideos:
    """Recently serialised video objects. A polled task mostly has not changed since the
    last poll, so its JSON (and signed links) can be reused until the task changes or the
    entry ages out, well inside the links' lifetime.

    One entry per task and dialect: a task that changed, or asked for under another base
    URL (which comes from the Host header), is rendered again in its place, so no header
    multiplies the entries. They are bounded by count and by bytes, the least recently
    used going first; a body too large for a fair share of the budget is not kept."""

    def __init__(
        self,
        max_age: float,
        limit: int = 20_000,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Clock | None = None,
    ) -> None:
        self.max_age = max_age
        self.clock = clock or SystemClock()
        self.limit = limit
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[str, bool], _Rendered] = OrderedDict()
        self._bytes = 0

    @property
    def size(self) -> tuple[int, int]:
        """(entries, bytes) held now."""
        return len(self._entries), self._bytes

    def body(
        self,
        task: VideoTask,
        openai_words: bool,
        signer: UrlSigner,
        base: str,
        *,
        keep: bool = True,
    ) -> bytes:
        """The task's serialised object; with keep=False it is not kept for the next call
        (a create's answer: the task changes as soon as a worker takes it)."""
        key = (task.id, openai_words)
        now = self.clock.monotonic()
        entry = self._entries.get(key)
        if (
            entry is not None
            and entry.until > now
            and entry.updated_at == task.updated_at
            and entry.base == base
        ):
            self._entries.move_to_end(key)
            return entry.body
        obj = video_object(task, openai_words=openai_words, signer=signer, base=base)
        body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
        self._forget(key)
        if not keep or _entry_bytes(body, base) * 8 > self.max_bytes:
            return body
        max_age = self.max_age
        if task.expires_at is not None:
            # Not past the content's expiry: from then on the object must drop its links.
            max_age = min(max_age, task.expires_at - self.clock.now())
        self._entries[key] = _Rendered(task.updated_at, base, body, now + max_age)
        self._bytes += _entry_bytes(body, base)
        while len(self._entries) > self.limit or self._bytes > self.max_bytes:
            _, dropped = self._entries.popitem(last=False)
            self._bytes -= _entry_bytes(dropped.body, dropped.base)
        return body

    def _forget(self, key: tuple[str, bool]) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= _entry_bytes(entry.body, entry.base)


def _entry_bytes(body: bytes, base: str) -> int:
    return ENTRY_OVERHEAD + len(body) + len(base)


def video_response(
    task: VideoTask,
    request: Request,
    key: ApiKey,
    signer: UrlSigner,
    *,
    status_code: int = 200,
    keep: bool = True,
) -> Response:
    settings = settings_of(request)
    rendered: RenderedVideos = request.app.state.rendered_videos
    body = rendered.body(
        task,
        openai_words(request, key, settings.status_dialect),
        signer,
        base_url(request, settings),
        keep=keep,
    )
    headers = {}
    if not task.status.terminal:
        headers["openai-poll-after-ms"] = str(settings.poll_after_ms)
    return Response(body, status_code=status_code, media_type="application/json", headers=headers)


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)
