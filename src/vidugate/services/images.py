"""Input images in: an uploaded file, base64, a data URI or an http(s) URL, each checked by
its bytes, scaled down to what frames need, and kept in the file store for the provider.

Decoding runs in a thread pool of its own (so it never takes the threads that file reads
and downloads use), one decode at a time per API key: one key's uploads queue behind each
other, never in front of another key's. URL fetches of one request share one byte budget."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import platform
import sys
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar

from vidugate.errors import InvalidRequestError, PayloadTooLargeError
from vidugate.files.base import FileStore
from vidugate.media.image import (
    ImageInfo,
    PreparedImage,
    decode_base64_image,
    looks_like_base64_image,
    prepare_image,
)
from vidugate.net.fetch import FetchBudget, UrlFetcher

_COPY_CHUNK = 1024 * 1024
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number, from glibc's malloc.h
T = TypeVar("T")


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


@dataclass(slots=True)
class _Gate:
    slot: asyncio.Semaphore
    users: int = 0


def _return_big_blocks_to_the_os() -> None:
    """glibc serves a large block from its heap once one of that size has been freed, and
    keeps the heap grown: after a few decodes the process would stay ~100 MB larger for
    good. A fixed threshold maps every block of 1 MB or more on its own and unmaps it
    when freed, so memory goes back as soon as a decode ends."""
    if sys.platform != "linux" or platform.libc_ver()[0] != "glibc":
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, 1024 * 1024)


class DecodePool:
    """Runs image work in `threads` threads of its own, one job at a time per owner."""

    def __init__(self, threads: int) -> None:
        _return_big_blocks_to_the_os()
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="vg-image")
        self._gates: dict[str, _Gate] = {}

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def run(
        self, owner: str, fn: Callable[[], T], *, abandoned: Callable[[], None] | None = None
    ) -> T:
        """fn() in the pool once the owner's previous job is over. A caller that stops
        waiting cannot stop a running thread: the owner's slot stays taken until it ends,
        and then `abandoned` cleans up after it."""
        gate = self._gates.get(owner)
        if gate is None:
            gate = self._gates[owner] = _Gate(asyncio.Semaphore(1))
        gate.users += 1
        try:
            await gate.slot.acquire()
        except BaseException:
            self._leave(owner, gate)
            raise
        loop = asyncio.get_running_loop()
        try:
            future = self._executor.submit(fn)
        except BaseException:
            self._release(owner, gate)
            raise

        def ended(_: Future[T]) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nothing to free
                loop.call_soon_threadsafe(self._release, owner, gate)

        future.add_done_callback(ended)
        try:
            return await asyncio.shield(asyncio.wrap_future(future))
        except asyncio.CancelledError:
            future.cancel()  # still queued: it never runs (its slot is freed as it ends)
            if abandoned is not None:
                future.add_done_callback(lambda _: abandoned())
            raise

    def _release(self, owner: str, gate: _Gate) -> None:
        gate.slot.release()
        self._leave(owner, gate)

    def _leave(self, owner: str, gate: _Gate) -> None:
        gate.users -= 1
        if gate.users == 0 and self._gates.get(owner) is gate:
            del self._gates[owner]


class ImageIngest:
    def __init__(
        self,
        files: FileStore,
        fetcher: UrlFetcher,
        work_dir: Path,
        *,
        max_bytes: int,
        pool: DecodePool,
        fetch_budget: int,
    ) -> None:
        self.files = files
        self.fetcher = fetcher
        self.work_dir = work_dir / "incoming"
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.pool = pool
        self.fetch_budget = fetch_budget

    def for_request(self, owner: str) -> RequestImages:
        """The images of one create request by `owner` (an API key id)."""
        return RequestImages(self, owner, FetchBudget(self.fetch_budget))

    async def ingest(
        self, source: ImageSource, key: str, *, param: str, owner: str, budget: FetchBudget
    ) -> StoredImage:
        """Bring one image in, check it, and store it (reduced when larger than needed)."""
        scratch = self.work_dir / uuid.uuid4().hex
        reduced = scratch.with_name(scratch.name + ".reduced")

        def remove() -> None:
            scratch.unlink(missing_ok=True)
            reduced.unlink(missing_ok=True)

        try:
            await self._to_file(source, scratch, param, owner, budget, remove)
            prepared: PreparedImage = await self.pool.run(
                owner, lambda: prepare_image(scratch, reduced, param=param), abandoned=remove
            )
            await self.files.put_file(key, prepared.path)
        finally:
            remove()
        return StoredImage(key=key, info=prepared.info)

    async def _to_file(
        self,
        source: ImageSource,
        dest: Path,
        param: str,
        owner: str,
        budget: FetchBudget,
        remove: Callable[[], None],
    ) -> None:
        if isinstance(source, UploadedImage):
            await asyncio.to_thread(_copy_capped, source.file, dest, self.max_bytes, param)
            return
        text = source.strip()
        if text.startswith(("http://", "https://")):
            await self.fetcher.fetch_to_file(
                text, dest, max_bytes=self.max_bytes, param=param, budget=budget
            )
        elif text.startswith("data:") or looks_like_base64_image(text):
            limit = self.max_bytes
            await self.pool.run(
                owner,
                lambda: decode_base64_image(text, dest, max_bytes=limit, param=param),
                abandoned=remove,
            )
        else:
            raise InvalidRequestError(
                f"{param} must be an image file, an http(s) URL, a data URI or base64 "
                "image data (png, jpeg or webp).",
                param=param,
            )


@dataclass(frozen=True, slots=True)
class RequestImages:
    """One request's images: its URL fetches share one byte budget, its decodes queue
    behind the same key's other decodes."""

    intake: ImageIngest
    owner: str
    budget: FetchBudget

    async def ingest(self, source: ImageSource, key: str, *, param: str) -> StoredImage:
        return await self.intake.ingest(
            source, key, param=param, owner=self.owner, budget=self.budget
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
