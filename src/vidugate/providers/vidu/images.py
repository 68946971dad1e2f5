"""Input images as Vidu takes them: http(s) URLs or data URIs inside a JSON body of at
most ~20 MB. With a public base URL the gateway hands Vidu short-lived signed links to its
own copies; otherwise each image travels as a data URI, re-encoded and scaled down (its
aspect ratio kept) until all of them fit."""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageOps

from vidugate.media.image import sniff_image_kind

# Vidu's body limit is about 20 MB; the other fields need little, keep a margin.
BODY_BUDGET = 19 * 1024 * 1024
MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}

InputUrl = Callable[[str, int], str]


async def upstream_images(
    task_id: str, paths: tuple[Path, ...], input_url: InputUrl | None
) -> list[str]:
    if not paths:
        return []
    if input_url is not None:
        return [input_url(task_id, index) for index in range(len(paths))]
    share = BODY_BUDGET // len(paths)
    return [await asyncio.to_thread(data_uri, path, share) for path in paths]


def data_uri(path: Path, budget: int) -> str:
    """The image as a data URI of at most `budget` characters."""
    raw = path.read_bytes()
    kind = sniff_image_kind(raw[:64])
    if kind is not None and _b64_len(len(raw)) + 32 <= budget:
        return f"data:{MIME[kind.value]};base64,{base64.b64encode(raw).decode()}"
    with Image.open(path) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB")
    scale = 1.0
    while True:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        candidate = image if scale == 1.0 else image.resize(size, Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        candidate.save(buffer, format="JPEG", quality=90)
        data = buffer.getvalue()
        if _b64_len(len(data)) + 32 <= budget or min(size) <= 16:
            return f"data:image/jpeg;base64,{base64.b64encode(data).decode()}"
        # JPEG size goes roughly with the pixel count: shrink by the square root, a bit more.
        scale *= 0.9 * (budget / _b64_len(len(data))) ** 0.5


def _b64_len(size: int) -> int:
    return 4 * ((size + 2) // 3)
