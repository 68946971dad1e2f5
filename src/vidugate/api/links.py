"""Signed, expiring links to a finished task's files, for every API surface: the OpenAI
object's video_url / thumbnail_url / spritesheet_url and Vidu's creations[].url / cover_url
are the same links."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from vidugate.domain.tasks import TaskStatus, VideoTask
from vidugate.services.container import Services


@dataclass(frozen=True, slots=True)
class ContentLinks:
    video: str  # as asked for (watermarked when a watermark was asked)
    thumbnail: str | None
    original: str | None  # the upstream's unwatermarked copy, when one was kept too
    spritesheet: str | None = None  # the grid of frames, when one was made


def base_url(request: Request, services: Services) -> str:
    return services.settings.public_base_url or str(request.base_url).rstrip("/")


def content_links(task: VideoTask, services: Services, base: str) -> ContentLinks | None:
    """None until the task has completed, and again once its content has expired."""
    if task.status is not TaskStatus.COMPLETED or task.expired():
        return None
    signer = services.signer
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
