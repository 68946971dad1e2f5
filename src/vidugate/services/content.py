"""Which stored file answers a content request, and whether it may be served yet."""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

from vidugate.domain.tasks import TaskStatus, VideoTask
from vidugate.errors import ConflictError, GoneError, InvalidRequestError, NotFoundError
from vidugate.files.base import FileStore
from vidugate.media.image import sniff_image_kind


class Variant(StrEnum):
    VIDEO = "video"  # the video as asked for: the watermarked copy when a watermark was asked
    THUMBNAIL = "thumbnail"
    ORIGINAL = "original"  # the upstream's copy without its watermark, where there is one
    SPRITESHEET = "spritesheet"  # a JPEG grid of frames (media/spritesheet.py)


MEDIA_TYPES = {
    Variant.VIDEO: "video/mp4",
    Variant.THUMBNAIL: "image/jpeg",
    Variant.ORIGINAL: "video/mp4",
    Variant.SPRITESHEET: "image/jpeg",
}
FILENAMES = {
    Variant.VIDEO: "{id}.mp4",
    Variant.THUMBNAIL: "{id}.jpg",
    Variant.ORIGINAL: "{id}.mp4",
    Variant.SPRITESHEET: "{id}_spritesheet.jpg",
}


def parse_variant(value: str) -> Variant:
    try:
        return Variant(value)
    except ValueError:
        raise InvalidRequestError(
            f"variant {value!r} is not available; allowed: {', '.join(Variant)}.",
            param="variant",
        ) from None


@dataclass(frozen=True, slots=True)
class StoredContent:
    key: str
    size: int
    media_type: str
    filename: str


async def locate(files: FileStore, task: VideoTask, variant: Variant) -> StoredContent:
    if task.status is not TaskStatus.COMPLETED:
        if task.status.terminal:
            raise ConflictError(
                f"Video {task.id} is {task.status.value}; it has no content.",
                param="video_id",
                code="video_not_ready",
            )
        raise ConflictError(
            f"Video {task.id} is still {task.status.value} ({task.progress}%); poll it "
            "until status is completed.",
            param="video_id",
            code="video_not_ready",
        )
    if task.expired(time.time()):
        raise GoneError(f"The content of video {task.id} has expired and was removed.")
    key = {
        Variant.VIDEO: task.watermarked_key or task.video_key,
        Variant.THUMBNAIL: task.thumbnail_key,
        Variant.ORIGINAL: task.video_key if task.watermarked_key else None,
        Variant.SPRITESHEET: task.spritesheet_key,
    }[variant]
    size = await files.size(key) if key else None
    if key is None or size is None:
        if variant is Variant.SPRITESHEET and key is None:
            raise NotFoundError(
                f"Video {task.id} has no spritesheet: it was stored before this gateway made "
                "spritesheets, or its video could not be decoded into one.",
                param="variant",
            )
        if variant is not Variant.VIDEO:
            raise NotFoundError(f"Video {task.id} has no {variant.value} copy.", param="variant")
        raise GoneError(f"The content of video {task.id} is no longer stored.")
    return StoredContent(
        key=key,
        size=size,
        media_type=MEDIA_TYPES[variant],
        filename=FILENAMES[variant].format(id=task.id),
    )


async def locate_input(files: FileStore, task: VideoTask, index: int) -> StoredContent:
    """One of a task's input images (for an upstream fetching it by a signed link)."""
    if not 0 <= index < len(task.images) or task.status.terminal:
        raise NotFoundError(f"Video {task.id} has no input image {index} to serve.")
    key = task.images[index]
    size = await files.size(key)
    if size is None:
        raise NotFoundError(f"Video {task.id} has no input image {index} to serve.")
    head = b"".join([chunk async for chunk in files.read_range(key, 0, 31)])
    kind = sniff_image_kind(head)
    media_type = f"image/{kind.value}" if kind else "application/octet-stream"
    return StoredContent(key=key, size=size, media_type=media_type, filename=f"input{index}")
