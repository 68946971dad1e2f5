"""Images for the tests that need big ones: made row by row, so a picture of 80 megapixels
costs the test process a compressed stream, never the decoded picture."""

from __future__ import annotations

import functools
import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@functools.cache
def flat_png(width: int, height: int, colour: tuple[int, int, int] = (40, 90, 200)) -> bytes:
    """A valid 8-bit RGB PNG of one colour: a few hundred KB however large it says it is
    (8944x8944 is 240 MB decoded, 233 KB here, as in the issue's bomb)."""
    packer = zlib.compressobj(9)
    first = b"\x00" + bytes(colour) * width  # filter "none"
    later = b"\x02" + bytes(3 * width)  # filter "up": the same as the row above
    parts = [packer.compress(first)]
    parts += [packer.compress(later) for _ in range(height - 1)]
    parts.append(packer.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", b"".join(parts))
        + _chunk(b"IEND", b"")
    )
