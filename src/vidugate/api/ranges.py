"""Streaming a stored file with HTTP Range support (one range; that is what players ask)."""

from __future__ import annotations

import re

from starlette.responses import Response, StreamingResponse

from vidugate.storage.base import Storage

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
    storage: Storage,
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
    body = storage.read_range(key, start, end)
    return StreamingResponse(body, status_code=status, media_type=media_type, headers=headers)
