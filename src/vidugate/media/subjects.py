"""The sandbox's reference2video with subjects: each subject is a panel labelled @id that
shows all of its images, whole; a bright frame moves from panel to panel, so the subjects
take turns over the clip, the way a prompt's @1 ... @2 would make them."""

from __future__ import annotations

import colorsys
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont, ImageOps

from vidugate.media.frames import load_rgb, to_yuv420p
from vidugate.media.overlay import Overlay, font, make_overlay
from vidugate.media.spec import SubjectPanel

U8 = npt.NDArray[np.uint8]

_LABEL_COLOUR = (255, 255, 255)
_TURN_COLOUR = (255, 214, 64, 255)


@dataclass(frozen=True, slots=True)
class Box:
    x: int
    y: int
    width: int
    height: int


def grid(count: int, width: int, height: int) -> list[Box]:
    """`count` panels in rows and columns filling the frame, the columns chosen so panels
    are as large as can be (their shorter side longest), then with fewest empty cells."""
    best: tuple[float, int, int] | None = None
    for columns in range(1, count + 1):
        rows = math.ceil(count / columns)
        score = min(width / columns, height / rows)
        empty = rows * columns - count
        if best is None or (score, -empty) > (best[0], -best[2]):
            best = (score, columns, empty)
    assert best is not None
    columns = best[1]
    rows = math.ceil(count / columns)
    xs = [round(width * c / columns) for c in range(columns + 1)]
    ys = [round(height * r / rows) for r in range(rows + 1)]
    return [
        Box(xs[i % columns], ys[i // columns], xs[i % columns + 1] - xs[i % columns],
            ys[i // columns + 1] - ys[i // columns])
        for i in range(count)
    ]  # fmt: skip


def tiles(count: int, box: Box, gap: int) -> list[Box]:
    """`count` tiles side by side along the box's longer side, `gap` pixels apart."""
    across = box.width >= box.height
    length = (box.width if across else box.height) - gap * (count - 1)
    step = length / count
    result = []
    for index in range(count):
        start = round(index * (step + gap))
        end = round(index * (step + gap) + step)
        if across:
            result.append(Box(box.x + start, box.y, end - start, box.height))
        else:
            result.append(Box(box.x, box.y + start, box.width, end - start))
    return result


class SubjectScene:
    """The frames of a subjects video: the panels drawn once, a turn frame moved over them."""

    def __init__(
        self,
        width: int,
        height: int,
        total: int,
        subjects: Sequence[SubjectPanel],
        rng: np.random.Generator,
    ) -> None:
        self._width, self._height, self._total = width, height, max(1, total)
        hue = float(rng.random())
        canvas = Image.new("RGB", (width, height), _rgb(hue, 0.35, 0.12))
        draw = ImageDraw.Draw(canvas)
        panels = grid(len(subjects), width, height)
        self._margin = max(2, round(min(width, height) / 90))
        self._turns: list[Overlay | None] = []
        for subject, panel in zip(subjects, panels, strict=True):
            inner = _inset(panel, self._margin)
            draw.rectangle(_corners(inner), fill=_rgb(hue, 0.25, 0.22))
            images_box = self._label(draw, subject.id, inner)
            places = tiles(len(subject.image_paths), images_box, self._margin)
            for path, tile in zip(subject.image_paths, places, strict=True):
                _paste_whole(canvas, path, tile)
            self._turns.append(self._turn_frame(panel))
        rgb = np.asarray(canvas, dtype=np.uint8)
        self._base = to_yuv420p(av.VideoFrame.from_ndarray(rgb, format="rgb24"), width, height)

    def _label(self, draw: ImageDraw.ImageDraw, subject_id: str, inner: Box) -> Box:
        """Draws "@id" along the panel's top; returns the room left for the images."""
        size = max(9, min(40, round(min(inner.height / 9, inner.width / 8))))
        fnt = font(size)
        band = round(size * 1.5)
        text = _fitted(f"@{subject_id}", fnt, inner.width - 2 * self._margin)
        draw.rectangle(_corners(Box(inner.x, inner.y, inner.width, band)), fill=(0, 0, 0))
        left, top, _, bottom = fnt.getbbox(text)
        y = inner.y + (band - (bottom - top)) / 2 - top
        draw.text((inner.x + self._margin - left, y), text, font=fnt, fill=_LABEL_COLOUR)
        room = Box(inner.x, inner.y + band + self._margin, inner.width, inner.height - band)
        return _inset(Box(room.x, room.y, room.width, room.height - self._margin), self._margin)

    def _turn_frame(self, panel: Box) -> Overlay | None:
        """A frame in the panel's margin: it never covers the subject's images."""
        image = Image.new("RGBA", (panel.width, panel.height), (0, 0, 0, 0))
        ImageDraw.Draw(image).rectangle(
            (0, 0, panel.width - 1, panel.height - 1), outline=_TURN_COLOUR, width=self._margin
        )
        rgba = np.asarray(image, dtype=np.uint8)
        return make_overlay(rgba, panel.x, panel.y, self._width, self._height)

    def frame(self, index: int) -> U8:
        yuv = self._base.copy()
        turn = self._turns[min(len(self._turns) - 1, index * len(self._turns) // self._total)]
        if turn is not None:
            turn.apply(yuv, self._width, self._height)
        return yuv


def _paste_whole(canvas: Image.Image, path: Path, tile: Box) -> None:
    if tile.width < 2 or tile.height < 2:
        return
    image = load_rgb(path, max(tile.width, tile.height))
    shown = ImageOps.contain(image, (tile.width, tile.height), Image.Resampling.LANCZOS)
    x = tile.x + (tile.width - shown.width) // 2
    y = tile.y + (tile.height - shown.height) // 2
    canvas.paste(shown, (x, y))


def _fitted(text: str, fnt: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int) -> str:
    """text, cut short with an ellipsis where it would not fit `width` pixels."""
    if fnt.getlength(text) <= width:
        return text
    while len(text) > 2 and fnt.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _inset(box: Box, by: int) -> Box:
    return Box(box.x + by, box.y + by, max(1, box.width - 2 * by), max(1, box.height - 2 * by))


def _corners(box: Box) -> tuple[int, int, int, int]:
    return box.x, box.y, box.x + box.width - 1, box.y + box.height - 1


def _rgb(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(hue % 1.0, saturation, value)
    return round(r * 255), round(g * 255), round(b * 255)
