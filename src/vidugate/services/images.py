"""Input images in: an uploaded file, base64, a data URI or an http(s) URL, each checked by
its bytes and kept in storage for the provider."""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from vidugate.errors import InvalidRequestError, PayloadTooLargeError
from vidugate.media.image import (
    ImageInfo,
    decode_base64_image,
    inspect_image,
    looks_like_base64_image,
)
from vidugate.net.fetch import UrlFetcher
from vidugate.storage.base import Storage

_COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class UploadedImage:
    """A file part, already spooled by the multipart parser."""

    file: BinaryIO
    filename: str | None = None


ImageSource = UploadedImage | str


@dataclass(frozen=True, slots=True)
class StoredImage:
    key: str
    info: ImageInfo


class ImageIngest:
    def __init__(
        self, storage: Storage, fetcher: UrlFetcher, work_dir: Path, *, max_bytes: int
    ) -> None:
        self.storage = storage
        self.fetcher = fetcher
        self.work_dir = work_dir / "incoming"
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes

    async def ingest(self, source: ImageSource, key: str, *, param: str) -> StoredImage:
        """Bring one image in, check it, and store it under key."""
        scratch = self.work_dir / uuid.uuid4().hex
        try:
            await self._to_file(source, scratch, param)
            info = await asyncio.to_thread(inspect_image, scratch, param=param)
            await self.storage.put_file(key, scratch)
        finally:
            scratch.unlink(missing_ok=True)
        return StoredImage(key=key, info=info)

    async def _to_file(self, source: ImageSource, dest: Path, param: str) -> None:
        if isinstance(source, UploadedImage):
            await asyncio.to_thread(_copy_capped, source.file, dest, self.max_bytes, param)
            return
        text = source.strip()
        if text.startswith(("http://", "https://")):
            await self.fetcher.fetch_to_file(text, dest, max_bytes=self.max_bytes, param=param)
        elif text.startswith("data:") or looks_like_base64_image(text):
            await asyncio.to_thread(
                decode_base64_image, text, dest, max_bytes=self.max_bytes, param=param
            )
        else:
            raise InvalidRequestError(
                f"{param} must be an image file, an http(s) URL, a data URI or base64 "
                "image data (png, jpeg or webp).",
                param=param,
            )


def _copy_capped(source: BinaryIO, dest: Path, limit: int, param: str) -> None:
    source.seek(0)
    written = 0
    with open(dest, "wb") as out:
        while chunk := source.read(_COPY_CHUNK):
            written += len(chunk)
            if written > limit:
                out.close()
                os.unlink(dest)
                raise PayloadTooLargeError(
                    f"{param} is larger than {limit // (1024 * 1024)} MB.", param=param
                )
            out.write(chunk)
    if written == 0:
        raise InvalidRequestError(f"{param} is an empty file.", param=param)
