"""Every URL the gateway hands out, built in the API layer that serves them: the signed,
expiring links to a finished task's files (the OpenAI object's video_url / thumbnail_url /
spritesheet_url and Vidu's creations[].url / cover_url are the same links), and the links
providers send upstream (signed input images, the callback URL), which the composition
root passes to them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request

from vidugate.domain.tasks import TaskStatus, VideoTask
from vidugate.services.signing import UrlSigner
from vidugate.settings import Settings

# The routes these links lead to (api/inputs.py, api/upstream.py).
INPUT_PATH = "/v1/inputs/{task_id}/{index}"
CALLBACK_PATH = "/v1/upstream/{provider_id}/callback"


@dataclass(frozen=True, slots=True)
class ContentLinks:
    video: str  # as asked for (watermarked when a watermark was asked)
    thumbnail: str | None
    original: str | None  # the upstream's unwatermarked copy, when one was kept too
    spritesheet: str | None = None  # the grid of frames, when one was made


def base_url(request: Request, settings: Settings) -> str:
    if settings.public_base_url:
        return settings.public_base_url
    # Starlette builds URL objects for it on every call; the few hosts a gateway is
    # reached by are kept with their base (a bounded number: the Host header is the
    # client's to choose).
    scope = request.scope
    where = (
        scope.get("scheme"),
        scope.get("server"),
        request.headers.get("host"),
        scope.get("app_root_path", scope.get("root_path", "")),
    )
    base = _BASES.get(where)
    if base is None:
        if len(_BASES) >= _MAX_BASES:
            _BASES.clear()
        base = _BASES[where] = str(request.base_url).rstrip("/")
    return base


_MAX_BASES = 64
_BASES: dict[tuple[object, ...], str] = {}


def content_links(task: VideoTask, signer: UrlSigner, base: str) -> ContentLinks | None:
    """None until the task has completed, and again once its content has expired."""
    if task.status is not TaskStatus.COMPLETED or task.expired(signer.clock.now()):
        return None
    content = f"{base}/v1/videos/{task.id}/content?"
    thumbnail = None
    if task.thumbnail_key:
        thumbnail = content + signer.sign(task.id, "thumbnail", not_after=task.expires_at)
    original = None
    if task.watermarked_key:
        original = content + signer.sign(task.id, "original", not_after=task.expires_at)
    spritesheet = None
    if task.spritesheet_key:
        spritesheet = content + signer.sign(task.id, "spritesheet", not_after=task.expires_at)
    return ContentLinks(
        video=content + signer.sign(task.id, "video", not_after=task.expires_at),
        thumbnail=thumbnail,
        original=original,
        spritesheet=spritesheet,
    )


def input_url(settings: Settings, signer: UrlSigner) -> Callable[[str, int], str] | None:
    """Signed links to a task's input images, for upstreams that fetch them (Vidu), when
    the gateway has a public address; without one, images travel inline."""
    base = settings.public_base_url
    if base is None:
        return None

    def url(task_id: str, index: int) -> str:
        path = INPUT_PATH.format(task_id=task_id, index=index)
        return f"{base}{path}?{signer.sign(task_id, f'input{index}')}"

    return url


def callback_url(settings: Settings) -> str | None:
    """Where Vidu calls back, when the gateway has a public address and callbacks are on."""
    if settings.public_base_url is None or not settings.vidu_callbacks:
        return None
    return settings.public_base_url + CALLBACK_PATH.format(provider_id="vidu")
