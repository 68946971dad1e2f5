"""FileStore in a local (or shared, network-mounted) directory, private to its owner: the
directories 0700 and the stored files 0600 (files/private.py says why), whatever the
umask of the process that embeds the gateway."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

from vidugate.files.private import DIR_MODE, FILE_MODE

CHUNK = 256 * 1024


class LocalFileStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        # A lexical check, not resolve(): resolving walks the file system on every call,
        # which showed up as a tenth of a busy worker's time.
        parts = key.split("/")
        if "\\" in key or "\0" in key or any(part in ("", ".", "..") for part in parts):
            raise ValueError(f"not a file-store key: {key!r}")
        return self.root.joinpath(*parts)

    async def put_file(self, key: str, source: Path) -> int:
        target = self._path(key)
        return await asyncio.to_thread(_move, source, target)

    def local_dir(self, prefix: str) -> Path | None:
        return self._path(prefix)

    async def size(self, key: str) -> int | None:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            return None

    async def read_range(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        # Reads go to a thread: a slow disk must not stall the event loop.
        with await asyncio.to_thread(open, self._path(key), "rb") as handle:
            await asyncio.to_thread(handle.seek, start)
            remaining = end - start + 1
            while remaining > 0:
                chunk = await asyncio.to_thread(handle.read, min(CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk

    async def delete_prefix(self, prefix: str) -> None:
        path = self._path(prefix)
        await asyncio.to_thread(_remove, path)

    async def materialize(self, key: str) -> Path:
        path = self._path(key)
        if not path.exists():
            raise FileNotFoundError(key)
        return path


def _move(source: Path, target: Path) -> int:
    target.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.chmod(source, FILE_MODE)  # before it is in place: never readable by others there
    tmp = target.with_name(target.name + ".part")
    # Same filesystem: a rename; otherwise copy then rename, so readers never see half a file.
    try:
        os.replace(source, target)
    except OSError:
        shutil.copyfile(source, tmp)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, target)
        source.unlink(missing_ok=True)
    return target.stat().st_size


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
