"""Which stored file answers a content request, and whether it may be served yet; a
completed task's spritesheet is made here, the first time it is asked for."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from vidugate.domain.tasks import TaskStatus, VideoTask
from vidugate.errors import ConflictError, GoneError, InvalidRequestError, NotFoundError
from vidugate.files.base import FileStore
from vidugate.logs import get_logger
from vidugate.media.image import sniff_image_kind

log = get_logger("vidugate.content")


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


def served_video_key(task: VideoTask) -> str | None:
    """The video a client gets by default: the watermarked copy when there is one."""
    return task.watermarked_key or task.video_key


class Spritesheets:
    """Each completed task's spritesheet, made from its stored video the first time it is
    asked for and stored beside it (at the key the completion named), once per key however
    many ask at once. Not made when the task completes: a sheet costs ~30 ms of CPU
    (decoding 25 frames, encoding a JPEG), four times the rest of a completion, and a
    burst of completions on one core could not afford it; most clients never ask."""

    def __init__(self, files: FileStore, work_dir: Path, *, threads: int = 1) -> None:
        self.files = files
        self.work_dir = work_dir / "spritesheets"
        # Sheets are made in threads; this bounds how many at once.
        self._slots = asyncio.Semaphore(threads)
        self._making: dict[str, asyncio.Future[int | None]] = {}

    async def ensure(self, task: VideoTask, key: str) -> int | None:
        """The size of the sheet stored at key, made now if it is not there yet; None when
        the video cannot be decoded into one (or is no longer stored)."""
        making = self._making.get(key)
        if making is None:
            making = asyncio.ensure_future(self._make(task, key))
            self._making[key] = making
            making.add_done_callback(lambda _: self._making.pop(key, None))
        # Shielded: one asker hanging up must not cancel the sheet the others wait for.
        return await asyncio.shield(making)

    async def _make(self, task: VideoTask, key: str) -> int | None:
        source = served_video_key(task)
        if source is None:
            return None
        scratch = self.work_dir / f"{task.id}.{secrets.token_hex(6)}.jpg"
        async with self._slots:
            try:
                video = await self.files.materialize(source)
                refused = await asyncio.to_thread(_write_sheet, video, scratch)
            except FileNotFoundError:
                return None
            if refused is not None:
                log.warning("content.no_spritesheet", task_id=task.id, reason=refused)
                return None
        try:
            return await self.files.put_file(key, scratch)
        finally:
            with contextlib.suppress(FileNotFoundError):
                await asyncio.to_thread(scratch.unlink)


def _write_sheet(video: Path, out: Path) -> str | None:
    """The video's sheet written to out; or why the video cannot be made into one."""
    # Imported here, in the thread that makes the first sheet: av and numpy are ~40 MB of
    # a process's memory that a process serving the API alone never needs.
    from vidugate.media.spritesheet import SpritesheetError, make_spritesheet

    try:
        sheet = make_spritesheet(video)
    except SpritesheetError as exc:
        return str(exc)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(sheet.jpeg)
    return None


async def locate(
    files: FileStore,
    task: VideoTask,
    variant: Variant,
    *,
    now: float,
    sheets: Spritesheets | None = None,
) -> StoredContent:
    """The stored file for a task's variant. With `sheets`, a spritesheet not yet made is
    made now; without, it is reported missing."""
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
    if task.expired(now):
        raise GoneError(f"The content of video {task.id} has expired and was removed.")
    key = {
        Variant.VIDEO: served_video_key(task),
        Variant.THUMBNAIL: task.thumbnail_key,
        Variant.ORIGINAL: task.video_key if task.watermarked_key else None,
        Variant.SPRITESHEET: task.spritesheet_key,
    }[variant]
    size = await files.size(key) if key else None
    if variant is Variant.SPRITESHEET and key is not None and size is None and sheets:
        size = await sheets.ensure(task, key)
    if key is None or size is None:
        if variant is Variant.SPRITESHEET:
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
