"""Checking a spritesheet the way a person would: decode the JPEG, cut it into its tiles,
and compare each tile with the video's own frame at the tile's time, decoded from the MP4
frame by frame (independently of the gateway's seeking)."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
from PIL import Image

F64 = npt.NDArray[np.float64]

COLUMNS = ROWS = 5
TILES = COLUMNS * ROWS
# Mean absolute difference per channel (0..255) allowed between a tile and its frame
# scaled alike: JPEG at quality 82 and another scaler cost about 2 levels (measured on the
# sandbox's renders), a frame 2 s away 13 to 25.
TOLERANCE = 4.0


@dataclass(frozen=True)
class Sheet:
    image: Image.Image
    tile_width: int
    tile_height: int

    def tile(self, index: int) -> Image.Image:
        left = (index % COLUMNS) * self.tile_width
        top = (index // COLUMNS) * self.tile_height
        return self.image.crop((left, top, left + self.tile_width, top + self.tile_height))


def open_sheet(jpeg: bytes) -> Sheet:
    image = Image.open(io.BytesIO(jpeg))
    assert image.format == "JPEG"
    image.load()
    assert image.width % COLUMNS == 0, image.size
    assert image.height % ROWS == 0, image.size
    return Sheet(image.convert("RGB"), image.width // COLUMNS, image.height // ROWS)


def frames_at_tile_times(video: bytes | Path) -> list[Image.Image]:
    """The frame on screen at i/25 of the duration, for each tile i: decoded in order."""
    source = io.BytesIO(video) if isinstance(video, bytes) else str(video)
    with av.open(source, mode="r") as container:
        stream = container.streams.video[0]
        assert stream.duration is not None
        assert stream.time_base is not None
        duration = float(stream.duration * stream.time_base)
        frames = [f.to_image() for f in container.decode(stream)]
        rate = float(stream.average_rate or 0)
    wanted = [math.floor(duration * i / TILES * rate + 1e-6) for i in range(TILES)]
    return [frames[min(k, len(frames) - 1)] for k in wanted]


def difference(tile: Image.Image, frame: Image.Image) -> float:
    scaled = frame.resize(tile.size, Image.Resampling.BOX)
    a: F64 = np.asarray(tile, dtype=np.float64)
    b: F64 = np.asarray(scaled, dtype=np.float64)
    return float(np.abs(a - b).mean())


def tile_differences(jpeg: bytes, video: bytes | Path) -> list[float]:
    sheet = open_sheet(jpeg)
    frames = frames_at_tile_times(video)
    return [difference(sheet.tile(i), frames[i]) for i in range(TILES)]


def assert_tiles_show_frames(jpeg: bytes, video: bytes | Path) -> None:
    """Every tile is its own frame, and is told apart from a frame far from it in time (so a
    sheet of the wrong frames, in the wrong order, or of one frame repeated fails)."""
    sheet = open_sheet(jpeg)
    frames = frames_at_tile_times(video)
    own = [difference(sheet.tile(i), frames[i]) for i in range(TILES)]
    assert max(own) <= TOLERANCE, own
    first_vs_last = difference(sheet.tile(0), frames[TILES - 1])
    last_vs_first = difference(sheet.tile(TILES - 1), frames[0])
    assert min(first_vs_last, last_vs_first) > 2 * max(own), (own, first_vs_last, last_vs_first)
