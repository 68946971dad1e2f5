"""Spritesheets: a video's frames at 25 evenly spaced times, in one JPEG grid, for previews
and scrubbers (OpenAI's `variant=spritesheet`; OpenAI documents no layout, so this is ours).

The grid is always 5 x 5, read left to right, top to bottom: tile i shows the frame on
screen at i/25 of the video's duration (tile 0 is the first frame). Each tile keeps the
video's shape with a short side of 144 px (less for a smaller video, never upscaled) and a
long side of at most 576 px (4:1). A 16:9 video makes a 1280x720 sheet of 256x144 tiles,
9:16 a 720x1280 one, 1:1 720x720; the largest sheet is 2880x720 px, at most 1 MiB (JPEG
quality 82, lower where that would not fit).

The work is bounded: frames are found by seeking to the keyframe before each time
(decoding forward instead where the next time is near), at most MAX_DECODED_FRAMES are
decoded, each frame is scaled straight to its tile, and a frame larger than
MAX_SOURCE_PIXELS is not decoded at all. Blocking: call it in a worker thread."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import av
import numpy as np
import numpy.typing as npt
from av.video.frame import VideoFrame
from av.video.reformatter import ColorRange, Colorspace, Interpolation
from av.video.stream import VideoStream
from PIL import Image

U8 = npt.NDArray[np.uint8]

COLUMNS = 5
ROWS = 5
TILES = COLUMNS * ROWS
TILE_SHORT_SIDE = 144
TILE_LONG_SIDE = 4 * TILE_SHORT_SIDE
MAX_BYTES = 1024 * 1024
MAX_SOURCE_PIXELS = 4096 * 4096
MAX_DECODED_FRAMES = 5000
# Decoding on from the last frame is cheaper than seeking when the next time is closer
# than a typical keyframe interval (the sandbox's is 2 s; a seek lands on the keyframe
# before the time and decodes from there anyway).
SEEK_GAP_SECONDS = 2.0
_QUALITIES = (82, 65, 45, 25)  # tried in turn until the sheet fits MAX_BYTES
_PROBE_BYTES = 1024 * 1024

# FFmpeg's AVColorSpace values that swscale converts from; the rest fall back by frame size.
_COLORSPACES = {
    1: Colorspace.ITU709,
    5: Colorspace.ITU601,
    6: Colorspace.ITU601,
    7: Colorspace.SMPTE240M,
    9: Colorspace.BT2020,
    10: Colorspace.BT2020,
}


class SpritesheetError(Exception):
    """The file holds no video this module can (or may) make a spritesheet of."""


@dataclass(frozen=True, slots=True)
class Layout:
    tile_width: int
    tile_height: int
    columns: int = COLUMNS
    rows: int = ROWS

    @property
    def width(self) -> int:
        return self.tile_width * self.columns

    @property
    def height(self) -> int:
        return self.tile_height * self.rows

    def box(self, index: int) -> tuple[int, int, int, int]:
        """Tile `index`'s (left, top, right, bottom) in the sheet."""
        left = (index % self.columns) * self.tile_width
        top = (index // self.columns) * self.tile_height
        return left, top, left + self.tile_width, top + self.tile_height


@dataclass(frozen=True, slots=True)
class Spritesheet:
    jpeg: bytes
    layout: Layout
    times: tuple[float, ...]  # each tile's time in seconds from the start, in tile order


def layout_for(width: int, height: int) -> Layout:
    """The tile size for a width x height video."""
    if width <= 0 or height <= 0:
        raise SpritesheetError(f"no frame size ({width}x{height})")
    short, long = min(width, height), max(width, height)
    tile_short = min(TILE_SHORT_SIDE, short)
    tile_long = round(tile_short * long / short)
    if tile_long > TILE_LONG_SIDE:
        tile_long = TILE_LONG_SIDE
        tile_short = round(TILE_LONG_SIDE * short / long)
    tile_short, tile_long = max(1, tile_short), max(1, tile_long)
    if width >= height:
        return Layout(tile_width=tile_long, tile_height=tile_short)
    return Layout(tile_width=tile_short, tile_height=tile_long)


def tile_times(duration: float) -> tuple[float, ...]:
    return tuple(duration * i / TILES for i in range(TILES))


def make_spritesheet(video: Path, *, seek_gap: float = SEEK_GAP_SECONDS) -> Spritesheet:
    """The spritesheet of the first video stream in `video`; SpritesheetError when there is
    none, it cannot be decoded, or it is too large. A time more than `seek_gap` seconds
    past the last frame decoded is sought; a nearer one is decoded up to."""
    try:
        return _make(video, seek_gap)
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise SpritesheetError(f"cannot decode the video: {exc}") from exc


def _make(video: Path, seek_gap: float) -> Spritesheet:
    options = {"probesize": str(_PROBE_BYTES), "analyzeduration": "0"}
    with av.open(str(video), mode="r", options=options) as container:
        if not container.streams.video:
            raise SpritesheetError("the file has no video stream")
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        if width * height > MAX_SOURCE_PIXELS:
            raise SpritesheetError(f"frames of {width}x{height} are too large to decode")
        layout = layout_for(width, height)
        times = tile_times(_duration(container, stream))
        # Frame times count from the stream's start, which an MP4 may put after zero.
        base = stream.time_base
        start = float(stream.start_time * base) if stream.start_time and base else 0.0
        at = tuple(start + when for when in times)
        # One thread: a sheet is a background job next to the API and the renders.
        stream.codec_context.thread_count = 1
        sheet = Image.new("RGB", (layout.width, layout.height))
        for index, frame in enumerate(_frames_at(container, stream, at, seek_gap)):
            tile = _tile(frame, layout)
            sheet.paste(tile, layout.box(index)[:2])
    return Spritesheet(jpeg=_encode(sheet), layout=layout, times=times)


def _duration(container: av.container.InputContainer, stream: VideoStream) -> float:
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    raise SpritesheetError("the video has no duration")


def _frames_at(
    container: av.container.InputContainer,
    stream: VideoStream,
    times: tuple[float, ...],
    seek_gap: float,
) -> Iterator[VideoFrame]:
    """For each time (ascending), the frame on screen then: the last one starting at or
    before it (the first frame for a time before every frame)."""
    assert stream.time_base is not None
    decoded = 0
    frames: Iterator[VideoFrame] | None = None
    shown: VideoFrame | None = None  # the last frame decoded that starts at or before a time
    ahead: VideoFrame | None = None  # the frame after it, decoded already
    for when in times:
        last = ahead or shown
        if frames is None or last is None or when - _time(last) > seek_gap:
            container.seek(math.floor(when / stream.time_base), stream=stream, backward=True)
            frames = container.decode(stream)
            shown = ahead = None
        if ahead is not None and _starts_by(ahead, when):
            shown, ahead = ahead, None
        while ahead is None:
            frame = next(frames, None)
            if frame is None:
                break  # the stream ended: its last frame stays on screen
            decoded += 1
            if decoded > MAX_DECODED_FRAMES:
                raise SpritesheetError(f"more than {MAX_DECODED_FRAMES} frames to decode")
            if shown is None or _starts_by(frame, when):
                shown = frame
            else:
                ahead = frame
        if shown is None:
            raise SpritesheetError("the video has no frames")
        yield shown


def _starts_by(frame: VideoFrame, when: float) -> bool:
    # The tolerance absorbs float rounding of a frame time that equals `when` exactly.
    return _time(frame) <= when + 1e-6


def _time(frame: VideoFrame) -> float:
    return float(frame.time) if frame.time is not None else 0.0


def _tile(frame: VideoFrame, layout: Layout) -> Image.Image:
    colorspace = _COLORSPACES.get(
        int(frame.colorspace), Colorspace.ITU709 if frame.height >= 720 else Colorspace.ITU601
    )
    full_range = int(frame.color_range) == ColorRange.JPEG
    rgb = frame.reformat(
        width=layout.tile_width,
        height=layout.tile_height,
        format="rgb24",
        src_colorspace=colorspace,
        src_color_range=ColorRange.JPEG if full_range else ColorRange.MPEG,
        dst_color_range=ColorRange.JPEG,
        interpolation=Interpolation.AREA,
        threads=1,
    ).to_ndarray()
    return Image.fromarray(cast(U8, rgb))


def _encode(sheet: Image.Image) -> bytes:
    for quality in _QUALITIES:
        buffer = io.BytesIO()
        sheet.save(buffer, format="JPEG", quality=quality)
        if buffer.tell() <= MAX_BYTES:
            return buffer.getvalue()
    raise SpritesheetError(f"the sheet does not fit in {MAX_BYTES} bytes")
