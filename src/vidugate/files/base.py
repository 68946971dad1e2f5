"""The file store interface. Keys are relative, slash-separated names ("videos/<id>/video.mp4").
An S3-compatible store is one more class with these methods."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol


class FileStore(Protocol):
    async def put_file(self, key: str, source: Path) -> int:
        """Move a finished local file under key (the source is consumed); returns its size."""
        ...

    def local_dir(self, prefix: str) -> Path | None:
        """A local directory whose files are the objects under prefix (a file at
        `<dir>/a/b` is the object `<prefix>/a/b`), so a writer can make them in place
        instead of writing them once and moving them here; None for a store that is not a
        local directory. The caller keeps the object names unpublished until the files
        are whole."""
        ...

    async def size(self, key: str) -> int | None:
        """The object's size, or None when there is none."""
        ...

    def read_range(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes start..end inclusive, in chunks."""
        ...

    async def delete_prefix(self, prefix: str) -> None:
        """Remove every object under prefix (missing is fine)."""
        ...

    async def materialize(self, key: str) -> Path:
        """A local path with the object's bytes, for code that needs a file (renderers)."""
        ...
