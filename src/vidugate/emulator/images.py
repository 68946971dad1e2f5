"""Image fields of a create body: http(s) URLs or `data:image/...;base64,` URIs.

URLs are checked for shape only (the emulator never fetches them: tests and offline use
have no network, and fetching is the platform's business, not the caller's). Data URIs are
decoded strictly (no whitespace, proper padding), must hold png, jpeg or webp bytes (judged
by magic bytes, not by the declared subtype), and their pixel size is read from the header
so start-end ratios and rendered frame sizes can follow the image.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from PIL import Image

from vidugate.emulator.errors import field_invalid
from vidugate.media.image import sniff_image_kind

_DATA_URI = re.compile(r"data:image/[A-Za-z0-9.+-]+;base64,")
# Pillow raises many kinds of errors on a malformed header.
_HEADER_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    Image.DecompressionBombError,
)


@dataclass(frozen=True, slots=True)
class InputImage:
    source: str  # "url" or "data"
    data: bytes | None = None  # decoded bytes of a data URI
    extension: str = ""  # png / jpeg / webp for data URIs
    width: int = 0
    height: int = 0

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data or b"").hexdigest()[:32]


def is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def parse_image(value: object, field: str) -> InputImage:
    """One entry of `images`, or FieldInvalid naming `field` (e.g. `images[1]`)."""
    if not isinstance(value, str) or not value:
        raise field_invalid(f"{field}: must be a non-empty string (an http(s) URL or data URI)")
    if value.startswith(("http://", "https://")):
        if not is_http_url(value):
            raise field_invalid(f"{field}: not a valid http(s) URL")
        return InputImage(source="url")
    match = _DATA_URI.match(value)
    if match is None:
        raise field_invalid(
            f"{field}: must be an http(s) URL or a data URI 'data:image/<type>;base64,...'"
        )
    try:
        data = base64.b64decode(value[match.end() :], validate=True)
    except (binascii.Error, ValueError):
        raise field_invalid(f"{field}: the base64 payload is not valid base64") from None
    kind = sniff_image_kind(data[:16])
    if kind is None:
        raise field_invalid(f"{field}: the image must be png, jpeg or webp")
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except _HEADER_ERRORS:
        raise field_invalid(f"{field}: the image could not be decoded") from None
    if width <= 0 or height <= 0:
        raise field_invalid(f"{field}: the image has no pixels")
    return InputImage(source="data", data=data, extension=kind.value, width=width, height=height)
