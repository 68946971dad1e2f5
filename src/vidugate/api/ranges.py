"""Streaming a stored file with HTTP Range support (one range; that is what players ask)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator

from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from vidugate.errors import GoneError
from vidugate.files.base import FileStore

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end) inclusive; None for the whole file. Raises ValueError when unsatisfiable."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None  # multi-range or garbage: RFC 9110 lets us send the whole file
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        length = int(last)
        if length == 0:
            raise ValueError("empty suffix range")
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise ValueError("range not satisfiable")
    return start, end


def stream_file(
    files: FileStore,
    key: str,
    *,
    size: int,
    media_type: str,
    filename: str,
    range_header: str | None,
) -> Response:
    headers = {
        "accept-ranges": "bytes",
        "content-disposition": f'inline; filename="{filename}"',
        "cache-control": "private, max-age=3600",
    }
    try:
        wanted = parse_range(range_header, size)
    except ValueError:
        headers["content-range"] = f"bytes */{size}"
        return Response(status_code=416, headers=headers)
    if wanted is None:
        start, end, status = 0, size - 1, 200
    else:
        (start, end), status = wanted, 206
        headers["content-range"] = f"bytes {start}-{end}/{size}"
    headers["content-length"] = str(end - start + 1)
    body = files.read_range(key, start, end)
    return _OpenedFirst(
        body, status_code=status, media_type=media_type, headers=headers, filename=filename
    )


class _OpenedFirst(StreamingResponse):
    """Takes the first chunk (so opens the file) before the status line goes out. A file
    removed between the lookup and the answer (a delete, on any process, racing a download)
    is then a clean 410 in the surface's envelope, not a promised Content-Length followed by
    a closed connection and a traceback. Once open, the file streams whole even if it is
    removed meanwhile: an open file stays readable."""

    def __init__(
        self,
        body: AsyncIterable[bytes],
        *,
        status_code: int,
        media_type: str,
        headers: dict[str, str],
        filename: str,
    ) -> None:
        super().__init__(body, status_code=status_code, media_type=media_type, headers=headers)
        self.filename = filename

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks = aiter(self.body_iterator)
        try:
            first = await anext(chunks, b"")
        except FileNotFoundError:
            raise GoneError(f"{self.filename} is no longer stored.") from None
        self.body_iterator = _after(first, chunks)
        await super().__call__(scope, receive, send)


async def _after(
    first: str | bytes | memoryview, rest: AsyncIterator[str | bytes | memoryview]
) -> AsyncIterator[str | bytes | memoryview]:
    yield first
    async for chunk in rest:
        yield chunk
