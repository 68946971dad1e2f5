"""Input images: sniffing by magic bytes, inspection with Pillow, inline base64 decoding."""

from __future__ import annotations

import base64
import binascii
import re
import struct
import zlib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from PIL import Image

from vidugate.errors import InvalidRequestError, PayloadTooLargeError, UnsupportedMediaError

# Below Pillow's own DecompressionBombWarning threshold (~89.5 MP), so an image we accept
# never trips it; Pillow's warning/error on anything larger is turned into our refusal.
MAX_IMAGE_PIXELS = 80_000_000
MAX_ASPECT_RATIO = 4  # width:height within 1:4 .. 4:1, inclusive

_WHITESPACE = " \t\r\n\f\v"
_DELETE_WHITESPACE = str.maketrans("", "", _WHITESPACE)
_URLSAFE_TO_STANDARD = str.maketrans("-_", "+/")
_BASE64_BODY = re.compile(r"[A-Za-z0-9+/_-]+")
_DATA_PREFIX = re.compile(r"\s*data:", re.IGNORECASE)
_DATA_URI = re.compile(r"\s*data:([^,]{0,256}),", re.IGNORECASE)
_LOOKAHEAD_CHARS = 512
# Pillow raises a wide range of exceptions on malformed input.
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    zlib.error,
    IndexError,
    KeyError,
    TypeError,
)


class ImageKind(StrEnum):
    PNG = "png"
    JPEG = "jpeg"
    WEBP = "webp"


_PILLOW_FORMAT = {ImageKind.PNG: "PNG", ImageKind.JPEG: "JPEG", ImageKind.WEBP: "WEBP"}


@dataclass(frozen=True, slots=True)
class ImageInfo:
    kind: ImageKind
    width: int
    height: int


def sniff_image_kind(head: bytes) -> ImageKind | None:
    """The kind of image ``head`` (the first 12+ bytes of a file) starts, by magic bytes."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageKind.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return ImageKind.JPEG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ImageKind.WEBP
    return None


def _invalid_image(param: str) -> InvalidRequestError:
    return InvalidRequestError(
        "The image could not be decoded: the file is corrupt or truncated.",
        param=param,
        code="invalid_image",
    )


def _too_many_pixels(param: str, size: str = "") -> InvalidRequestError:
    return InvalidRequestError(
        f"The image{size} has more than the {MAX_IMAGE_PIXELS} pixels allowed.", param=param
    )


def inspect_image(path: Path, *, param: str) -> ImageInfo:
    """Check that ``path`` is a decodable png/jpeg/webp within the size and ratio limits."""
    with path.open("rb") as fh:
        kind = sniff_image_kind(fh.read(16))
    if kind is None:
        raise UnsupportedMediaError("The image must be a png, jpeg or webp file.", param=param)
    try:
        with Image.open(path, formats=[_PILLOW_FORMAT[kind]]) as im:
            width, height = im.size
            if width * height > MAX_IMAGE_PIXELS:
                raise _too_many_pixels(param, f" ({width}x{height})")
            if width > MAX_ASPECT_RATIO * height or height > MAX_ASPECT_RATIO * width:
                raise InvalidRequestError(
                    f"The image is {width}x{height}; its width:height ratio must be between "
                    f"1:{MAX_ASPECT_RATIO} and {MAX_ASPECT_RATIO}:1.",
                    param=param,
                )
            if kind is ImageKind.JPEG:  # decode at reduced scale: checks every block, less RAM
                im.draft(None, (max(1, width // 8), max(1, height // 8)))
            im.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(param) from None
    except _DECODE_ERRORS:
        raise _invalid_image(param) from None
    return ImageInfo(kind=kind, width=width, height=height)


def _invalid_base64(message: str, param: str) -> InvalidRequestError:
    return InvalidRequestError(message, param=param, code="invalid_base64")


def _too_large(max_bytes: int, param: str) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"The decoded image is larger than the {max_bytes}-byte limit.", param=param
    )


def _payload_start(text: str, param: str) -> int:
    """Where the base64 payload starts in ``text``: after a data URI header, if any."""
    match = _DATA_URI.match(text)
    if match is None:
        if _DATA_PREFIX.match(text):
            raise _invalid_base64("The data URI is malformed.", param)
        return 0
    media_type, *params = (p.strip().lower() for p in match.group(1).split(";"))
    if not media_type.startswith("image/"):
        raise UnsupportedMediaError(
            f"The data URI must carry an image (png, jpeg or webp), not {media_type or 'text'!r}.",
            param=param,
        )
    if "base64" not in params:
        raise _invalid_base64("The data URI must be base64-encoded (';base64,').", param)
    return match.end()


def decode_base64_image(text: str, dest: Path, *, max_bytes: int, param: str) -> int:
    """Decode plain base64 (standard or URL-safe) or a base64 data URI into ``dest``."""
    start = _payload_start(text, param)
    # Size check before copying or decoding: at most two characters are padding.
    whitespace = sum(text.count(c, start) for c in _WHITESPACE)
    if (len(text) - start - whitespace - 2) * 3 // 4 > max_bytes:
        raise _too_large(max_bytes, param)
    compact = text[start:].translate(_DELETE_WHITESPACE)
    body = compact.rstrip("=")
    padding = len(compact) - len(body)
    if (
        not _BASE64_BODY.fullmatch(body)
        or len(body) % 4 == 1
        or padding > 2
        or (padding and len(compact) % 4)
    ):
        raise _invalid_base64("The image is not valid base64.", param)
    if len(body) * 3 // 4 > max_bytes:
        raise _too_large(max_bytes, param)
    standard = body.translate(_URLSAFE_TO_STANDARD) + "=" * (-len(body) % 4)
    try:
        data = base64.b64decode(standard, validate=True)
    except binascii.Error:
        raise _invalid_base64("The image is not valid base64.", param) from None
    dest.write_bytes(data)
    return len(data)


def looks_like_base64_image(text: str) -> bool:
    """True for a data URI, or for base64 whose first bytes are a png/jpeg/webp signature."""
    head = text[:_LOOKAHEAD_CHARS].translate(_DELETE_WHITESPACE)
    if head[:5].lower() == "data:":
        return True
    if len(text) <= _LOOKAHEAD_CHARS:
        head = head.rstrip("=")
    if len(head) < 16 or not _BASE64_BODY.fullmatch(head):
        return False
    try:
        first = base64.b64decode(head[:16].translate(_URLSAFE_TO_STANDARD), validate=True)
    except binascii.Error:
        return False
    return sniff_image_kind(first) is not None
