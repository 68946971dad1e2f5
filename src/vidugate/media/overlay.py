"""Overlays composited straight into yuv420p frames: caption band, time code and watermark.

Everything is drawn once with Pillow as straight-alpha RGBA and converted to premultiplied,
fixed-point Y/U/V planes, so applying an overlay per frame is a handful of integer numpy
operations over its bounding box only (no colour conversion, no full-frame RGB pass).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont, ImageOps

U8 = npt.NDArray[np.uint8]
U16 = npt.NDArray[np.uint16]
F64 = npt.NDArray[np.float64]

WATERMARK_TEXT = "AI generated"
_KR, _KB = 0.2126, 0.0722  # BT.709, matching the colour tags written into the stream


@lru_cache(maxsize=32)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # The bundled font (Pillow >= 10.1) needs no download; it only covers Latin scripts.
    return ImageFont.load_default(size=max(8, size))


def planes(yuv: U8, width: int, height: int) -> tuple[U8, U8, U8]:
    """Views of the Y, U and V planes of a packed yuv420p array as PyAV lays it out."""
    flat = yuv.reshape(-1)
    n = width * height
    q = n // 4
    y = flat[:n].reshape(height, width)
    u = flat[n : n + q].reshape(height // 2, width // 2)
    v = flat[n + q : n + 2 * q].reshape(height // 2, width // 2)
    return y, u, v


def _rgb_to_yuv(rgb: F64) -> tuple[F64, F64, F64]:
    """Full-range RGB in [0, 1] -> limited-range BT.709 Y'CbCr code values."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    ey = _KR * r + (1.0 - _KR - _KB) * g + _KB * b
    y = 16.0 + 219.0 * ey
    u = 128.0 + 224.0 * (b - ey) / (2.0 * (1.0 - _KB))
    v = 128.0 + 224.0 * (r - ey) / (2.0 * (1.0 - _KR))
    return y, u, v


def _half(a: F64) -> F64:
    return 0.25 * (a[0::2, 0::2] + a[1::2, 0::2] + a[0::2, 1::2] + a[1::2, 1::2])


def _fixed(alpha: F64, value: F64) -> tuple[U16, U16]:
    # 8.8 fixed point with the rounding bias folded into the premultiplied term; the worst case
    # 255*(256-a) + 255*a + 128 still fits in uint16.
    a256 = np.rint(alpha * 256.0)
    inv = (256.0 - a256).astype(np.uint16)
    pre = (np.rint(value * a256) + 128.0).astype(np.uint16)
    return inv, pre


@dataclass(frozen=True, slots=True)
class Overlay:
    """A premultiplied yuv420p patch anchored at an even luma position."""

    x: int
    y: int
    inv_y: U16
    pre_y: U16
    inv_c: U16
    pre_u: U16
    pre_v: U16

    def apply(self, yuv: U8, width: int, height: int) -> None:
        yp, up, vp = planes(yuv, width, height)
        h, w = self.inv_y.shape
        region = yp[self.y : self.y + h, self.x : self.x + w]
        region[...] = (region * self.inv_y + self.pre_y) >> 8
        cx, cy, ch, cw = self.x // 2, self.y // 2, h // 2, w // 2
        for plane, pre in ((up, self.pre_u), (vp, self.pre_v)):
            region = plane[cy : cy + ch, cx : cx + cw]
            region[...] = (region * self.inv_c + pre) >> 8


def make_overlay(rgba: U8, x: int, y: int, width: int, height: int) -> Overlay | None:
    """Convert straight-alpha RGBA placed at (x, y) into an Overlay clipped to the frame."""
    # Clip to the frame, then grow the patch to even bounds so chroma lines up with 2x2 blocks.
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + rgba.shape[1], width), min(y + rgba.shape[0], height)
    if x1 <= x0 or y1 <= y0:
        return None
    ex0, ey0 = x0 - x0 % 2, y0 - y0 % 2
    ex1, ey1 = x1 + x1 % 2, y1 + y1 % 2
    patch = np.zeros((ey1 - ey0, ex1 - ex0, 4), dtype=np.float64)
    patch[y0 - ey0 : y1 - ey0, x0 - ex0 : x1 - ex0] = rgba[y0 - y : y1 - y, x0 - x : x1 - x]
    patch /= 255.0
    alpha = patch[..., 3]
    if not np.any(alpha > 0.0):
        return None
    yv, uv, vv = _rgb_to_yuv(patch[..., :3])
    inv_y, pre_y = _fixed(alpha, yv)
    alpha_c = _half(alpha)
    safe = np.where(alpha_c > 0.0, alpha_c, 1.0)
    # Average premultiplied chroma, then un-premultiply: correct 4:2:0 for partial coverage.
    inv_c, pre_u = _fixed(alpha_c, _half(uv * alpha) / safe)
    _, pre_v = _fixed(alpha_c, _half(vv * alpha) / safe)
    return Overlay(ex0, ey0, inv_y, pre_y, inv_c, pre_u, pre_v)


def corner_origin(
    pos: int, box_w: int, box_h: int, width: int, height: int, margin: int
) -> tuple[int, int]:
    """Top-left of a box at corner 1 top-left, 2 top-right, 3 bottom-right, 4 bottom-left."""
    right = pos in (2, 3)
    bottom = pos in (3, 4)
    x = width - margin - box_w if right else margin
    y = height - margin - box_h if bottom else margin
    return x, y


def watermark_margin(height: int) -> int:
    return max(4, round(height * 0.03))


def _text_mark(width: int, height: int) -> Image.Image:
    size = max(10, round(min(height / 28.0, width / 24.0)))
    fnt = font(size)
    left, top, right, bottom = fnt.getbbox(WATERMARK_TEXT)
    pad = max(3, size // 3)
    img = Image.new(
        "RGBA", (int(right - left) + 2 * pad, int(bottom - top) + 2 * pad), (0, 0, 0, 0)
    )
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((0, 0, img.width - 1, img.height - 1), radius=pad, fill=(0, 0, 0, 96))
    shadow = max(1, size // 14)
    origin = (pad - left, pad - top)
    draw.text(
        (origin[0] + shadow, origin[1] + shadow), WATERMARK_TEXT, font=fnt, fill=(0, 0, 0, 170)
    )
    draw.text(origin, WATERMARK_TEXT, font=fnt, fill=(255, 255, 255, 215))
    return img


def _image_mark(path: Path, width: int, height: int) -> Image.Image:
    with Image.open(path) as src:
        img = ImageOps.exif_transpose(src).convert("RGBA")
    target_h = max(8, round(height / 8.0))
    scale = min(target_h / img.height, (width / 3.0) / img.width)
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    return img.resize(size, Image.Resampling.LANCZOS)


def watermark_overlay(
    width: int, height: int, position: int, image_path: Path | None
) -> tuple[Overlay | None, tuple[int, int]]:
    """The watermark overlay and the size of its box including margins (to keep text clear)."""
    mark = _image_mark(image_path, width, height) if image_path else _text_mark(width, height)
    margin = watermark_margin(height)
    x, y = corner_origin(position, mark.width, mark.height, width, height, margin)
    overlay = make_overlay(np.asarray(mark, dtype=np.uint8), x, y, width, height)
    return overlay, (mark.width + 2 * margin, mark.height + margin)


def _wrap(text: str, fnt: ImageFont.FreeTypeFont | ImageFont.ImageFont, max_w: float) -> list[str]:
    words = " ".join(text.split())
    if not words:
        return []
    lines: list[str] = []
    for word in words.split(" "):
        # Unbroken runs (URLs, CJK without spaces) are hard-wrapped by character count.
        pieces = [word]
        if fnt.getlength(word) > max_w:
            per = max(1, int(len(word) * max_w / fnt.getlength(word)))
            pieces = textwrap.wrap(word, per, break_long_words=True) or [word]
        for piece in pieces:
            trial = f"{lines[-1]} {piece}" if lines else piece
            if lines and fnt.getlength(trial) <= max_w:
                lines[-1] = trial
            else:
                lines.append(piece)
    if len(lines) > 3:
        lines = lines[:3]
        last = lines[2]
        while last and fnt.getlength(last + "…") > max_w:
            last = last[:-1]
        lines[2] = last.rstrip() + "…"
    return lines


def caption_overlay(
    prompt: str, width: int, height: int, keep_clear: tuple[int, int] = (0, 0)
) -> Overlay | None:
    """A darkened band along the bottom with the prompt, centred, at most three lines.

    keep_clear: (width, height) of a bottom-corner box the text must avoid.
    """
    size = max(10, round(min(height / 24.0, width / 30.0)))
    fnt = font(size)
    inset, lift = max(keep_clear[0], round(width * 0.06)), 0
    if width - 2 * inset < 0.6 * width:
        # Narrow (portrait) frames: sit above the mark rather than squeeze beside it.
        inset, lift = round(width * 0.06), keep_clear[1]
    lines = _wrap(prompt, fnt, width - 2 * inset)
    if not lines:
        return None
    line_h = round(size * 1.3)
    pad = round(size * 0.8)
    band_h = min(height, len(lines) * line_h + 2 * pad + lift)
    ramp = np.clip(np.linspace(-0.35, 1.0, band_h), 0.0, 1.0) ** 0.8 * 150.0
    band = np.zeros((band_h, width, 4), dtype=np.uint8)
    band[..., 3] = ramp.astype(np.uint8)[:, None]
    img = Image.fromarray(band)
    draw = ImageDraw.Draw(img)
    shadow = max(1, size // 12)
    top = band_h - lift - pad - len(lines) * line_h
    for i, line in enumerate(lines):
        x = (width - fnt.getlength(line)) / 2.0
        y = top + i * line_h
        draw.text((x + shadow, y + shadow), line, font=fnt, fill=(0, 0, 0, 200))
        draw.text((x, y), line, font=fnt, fill=(255, 255, 255, 255))
    return make_overlay(np.asarray(img, dtype=np.uint8), 0, height - band_h, width, height)


class TimeCode:
    """A small 'ss.ff  nnn/NNN' box redrawn every frame in a fixed-size box (no jitter)."""

    def __init__(self, total: int, fps: int, width: int, height: int, position: int) -> None:
        self._total, self._fps = total, fps
        self._width, self._height = width, height
        self._size = max(9, round(min(height / 40.0, width / 40.0)))
        self._font = font(self._size)
        widest = self._text(total - 1).translate(str.maketrans("0123456789", "8888888888"))
        left, top, right, bottom = self._font.getbbox(widest)
        self._pad = max(2, self._size // 3)
        self._offset = (self._pad - left, self._pad - top)
        self._box = (int(right - left) + 2 * self._pad, int(bottom - top) + 2 * self._pad)
        margin = watermark_margin(height)
        self._x, self._y = corner_origin(position, *self._box, width, height, margin)

    def _text(self, index: int) -> str:
        seconds, frame = divmod(index, self._fps)
        digits = len(str(self._total))
        return f"{seconds:02d}.{frame:02d}  {index + 1:0{digits}d}/{self._total}"

    def overlay(self, index: int) -> Overlay | None:
        img = Image.new("RGBA", self._box, (0, 0, 0, 0))
        draw = ImageDraw.Draw(img)
        draw.rounded_rectangle((0, 0, img.width - 1, img.height - 1), self._pad, (0, 0, 0, 110))
        draw.text(self._offset, self._text(index), font=self._font, fill=(255, 255, 255, 230))
        rgba = np.asarray(img, dtype=np.uint8)
        return make_overlay(rgba, self._x, self._y, self._width, self._height)
