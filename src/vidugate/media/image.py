"""Input images: sniffing by magic bytes, bounded decoding with Pillow (checked, and scaled
down to what the largest output frame needs), inline base64 decoding."""

from __future__ import annotations

import base64
import binascii
import math
import re
import struct
import zlib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from PIL import ExifTags, Image

from vidugate.errors import InvalidRequestError, PayloadTooLargeError, UnsupportedMediaError

# The most pixels an input image may declare. PNG and WebP cannot be decoded at a reduced
# scale, so one decode holds up to 4 bytes per declared pixel (160 MB at this cap) for a
# moment before it is scaled down; anything larger is refused from its header, before any
# decoder runs (libwebp allocates the whole canvas as soon as a file is opened).
MAX_IMAGE_PIXELS = 40_000_000
# Pillow's own bomb guard, set on purpose to the same cap: every file we open has passed our
# header check at this cap, so Pillow's warning (or error, at twice the cap) can only fire
# for a file whose header lied (a JPEG with a second, larger frame header), and is caught.
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
MAX_ASPECT_RATIO = 4  # width:height within 1:4 .. 4:1, inclusive
# Stored images are scaled down to this shorter side: the largest frame made is 1080p
# (short side 1080), and the sandbox zooms in by up to 1.12; the rest is margin.
STORED_SHORT_SIDE = 1440
_BAND_ROWS = 64  # rows of the reduced image made per band while scaling down
_MAX_JPEG_SEGMENTS = 65_536  # before the frame header; real files have a few dozen
_QUALITY = 92

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
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# JPEG start-of-frame markers (C4, C8 and CC are other segments in that range).
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


class ImageKind(StrEnum):
    PNG = "png"
    JPEG = "jpeg"
    WEBP = "webp"


_PILLOW_FORMAT = {ImageKind.PNG: "PNG", ImageKind.JPEG: "JPEG", ImageKind.WEBP: "WEBP"}


@dataclass(frozen=True, slots=True)
class ImageInfo:
    kind: ImageKind
    width: int  # upright (EXIF orientation applied), as the image is shown
    height: int


@dataclass(frozen=True, slots=True)
class PreparedImage:
    """A checked image: ``path`` is the file to keep, the original or its reduced copy."""

    path: Path
    info: ImageInfo
    reduced: bool


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


def _check_pixels(width: int, height: int, param: str) -> None:
    if width * height > MAX_IMAGE_PIXELS:
        raise InvalidRequestError(
            f"The image is {width}x{height} ({width * height / 1e6:.1f} megapixels); at most "
            f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels are accepted: scale it down.",
            param=param,
        )


def _check_ratio(width: int, height: int, param: str) -> None:
    if width > MAX_ASPECT_RATIO * height or height > MAX_ASPECT_RATIO * width:
        raise InvalidRequestError(
            f"The image is {width}x{height}; its width:height ratio must be between "
            f"1:{MAX_ASPECT_RATIO} and {MAX_ASPECT_RATIO}:1.",
            param=param,
        )


def _jpeg_size(fh: BinaryIO) -> tuple[int, int] | None:
    """The largest frame a JPEG declares before its first scan (Pillow takes the last)."""
    fh.seek(2)
    best: tuple[int, int] | None = None
    for _ in range(_MAX_JPEG_SEGMENTS):
        head = fh.read(2)
        while head[:1] == b"\xff" and head[1:2] == b"\xff":  # fill bytes before a marker
            head = head[1:] + fh.read(1)
        if len(head) < 2 or head[0] != 0xFF:
            return None
        marker = head[1]
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue  # no length
        if marker in (0xD9, 0xDA):
            return best  # end of image, start of scan
        raw = fh.read(2)
        if len(raw) < 2:
            return None
        length = int.from_bytes(raw, "big")
        if length < 2:
            return None
        if marker in _JPEG_SOF:
            body = fh.read(5)
            if len(body) < 5:
                return None
            height, width = struct.unpack(">HH", body[1:5])
            if best is None or width * height > best[0] * best[1]:
                best = (width, height)
            fh.seek(length - 7, 1)
        else:
            fh.seek(length - 2, 1)
    return None


def declared_size(path: Path, kind: ImageKind) -> tuple[int, int] | None:
    """Width x height as the file's header states them, read without any decoder."""
    with path.open("rb") as fh:
        if kind is ImageKind.JPEG:
            return _jpeg_size(fh)
        head = fh.read(30)
    if kind is ImageKind.PNG:
        if head[12:16] != b"IHDR":
            return None
        width, height = struct.unpack(">II", head[16:24])
        return width, height
    chunk, data = head[12:16], head[20:30]  # WebP: the first chunk says which codec
    if chunk == b"VP8X" and len(data) == 10:
        return 1 + int.from_bytes(data[4:7], "little"), 1 + int.from_bytes(data[7:10], "little")
    if chunk == b"VP8L" and len(data) >= 5 and data[0] == 0x2F:
        bits = int.from_bytes(data[1:5], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if chunk == b"VP8 " and len(data) == 10 and data[3:6] == b"\x9d\x01\x2a":
        return (
            int.from_bytes(data[6:8], "little") & 0x3FFF,
            int.from_bytes(data[8:10], "little") & 0x3FFF,
        )
    return None


def stored_size(width: int, height: int) -> tuple[int, int] | None:
    """The size an image is kept at, or None when it is kept as it came."""
    short = min(width, height)
    if short <= STORED_SHORT_SIDE:
        return None
    scale = STORED_SHORT_SIDE / short
    return max(1, round(width * scale)), max(1, round(height * scale))


def prepare_image(path: Path, reduced_path: Path, *, param: str) -> PreparedImage:
    """Check that ``path`` is a decodable png/jpeg/webp within the pixel and ratio limits,
    decoding no more than needed; when it is larger than frames need, write a copy scaled
    down to :data:`STORED_SHORT_SIDE` (upright, same format) to ``reduced_path``."""
    with path.open("rb") as fh:
        kind = sniff_image_kind(fh.read(16))
    if kind is None:
        raise UnsupportedMediaError("The image must be a png, jpeg or webp file.", param=param)
    declared = declared_size(path, kind)
    if declared is None or 0 in declared:
        raise _invalid_image(param)
    _check_pixels(*declared, param)
    _check_ratio(*declared, param)
    try:
        with Image.open(path, formats=[_PILLOW_FORMAT[kind]]) as im:
            width, height = im.size
            _check_pixels(width, height, param)
            _check_ratio(width, height, param)
            target = stored_size(width, height)
            if kind is ImageKind.JPEG:
                # Decoded at a reduced scale (1/2..1/8): every block is still checked.
                im.draft(None, target or (max(1, width // 8), max(1, height // 8)))
            im.load()
            orientation = _orientation(im)
            if target is None:
                if orientation in (5, 6, 7, 8):
                    width, height = height, width
                return PreparedImage(path, ImageInfo(kind, width, height), reduced=False)
            small = _shrink(im, target)
            if orientation in _UPRIGHT:
                small = small.transpose(_UPRIGHT[orientation])
            _save(small, reduced_path, kind, im.info.get("icc_profile"))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidRequestError(
            f"The image has more than the {MAX_IMAGE_PIXELS // 1_000_000} megapixels accepted.",
            param=param,
        ) from None
    except _DECODE_ERRORS:
        raise _invalid_image(param) from None
    return PreparedImage(reduced_path, ImageInfo(kind, small.width, small.height), reduced=True)


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(ExifTags.Base.Orientation, 1)
    except _DECODE_ERRORS:
        return 1  # unreadable EXIF: shown as stored, as viewers do
    return value if isinstance(value, int) else 1


def _working_mode(im: Image.Image) -> str:
    """The 8-bit mode an image is scaled in (and kept in): L, LA, RGB or RGBA."""
    if im.mode in ("1", "L") or im.mode.startswith(("I", "F")):
        return "L"
    if im.mode in ("LA", "La"):
        return "LA"
    if im.mode in ("RGBA", "RGBa", "PA") or (im.mode == "P" and im.has_transparency_data):
        return "RGBA"
    return "RGB"


def _to_mode(band: Image.Image, mode: str) -> Image.Image:
    if band.mode.startswith(("I", "F")):  # 16-bit grey: keep the top 8 bits
        band = band.convert("I").point(lambda v: v / 256)
    return band if band.mode == mode else band.convert(mode)


def _shrink(im: Image.Image, target: tuple[int, int]) -> Image.Image:
    """Scale a loaded image down to ``target``: first by a whole factor, band by band (box
    averages: no seams), so the decoded image is the only full-size copy ever held; then
    by Lanczos from at most twice the target."""
    width, height = im.size
    mode = _working_mode(im)
    factor = max(1, min(width // target[0], height // target[1]))
    if factor == 1:
        return _to_mode(im, mode).resize(target, Image.Resampling.LANCZOS)
    reduced = Image.new(mode, (math.ceil(width / factor), math.ceil(height / factor)))
    rows = factor * _BAND_ROWS
    for top in range(0, height, rows):
        band = _to_mode(im.crop((0, top, width, min(height, top + rows))), mode)
        reduced.paste(band.reduce(factor), (0, top // factor))
    if reduced.size == target:
        return reduced
    return reduced.resize(target, Image.Resampling.LANCZOS)


def _save(im: Image.Image, dest: Path, kind: ImageKind, icc: object) -> None:
    options: dict[str, object] = {}
    if isinstance(icc, bytes):
        options["icc_profile"] = icc
    if kind is ImageKind.JPEG:
        im.save(dest, "JPEG", quality=_QUALITY, **options)
    elif kind is ImageKind.WEBP:
        im.save(dest, "WEBP", quality=_QUALITY, **options)
    else:
        im.save(dest, "PNG", **options)


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
