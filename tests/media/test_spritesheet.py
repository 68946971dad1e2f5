"""Spritesheets of videos made for the test: each frame is one flat colour that names its
index, so a tile says which frame it shows; and of the sandbox's own renders."""

from __future__ import annotations

import io
import math
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from spritelib import assert_tiles_show_frames, open_sheet
from vidugate.media.render import render_video
from vidugate.media.spec import RenderSpec
from vidugate.media.spritesheet import (
    MAX_BYTES,
    SpritesheetError,
    layout_for,
    make_spritesheet,
    tile_times,
)

pytestmark = pytest.mark.slow


def colour_of(index: int) -> tuple[int, int, int]:
    return 30 + 25 * (index % 8), 30 + 18 * (index // 8 % 11), 90 + 40 * (index // 88 % 3)


def write_video(
    path: Path,
    *,
    frames: int,
    fps: int = 24,
    size: tuple[int, int] = (320, 180),
    gop: int = 12,
    first_pts: int = 0,
    noise: bool = False,
) -> Path:
    width, height = size
    rng = np.random.default_rng(5)
    with av.open(str(path), "w", format="mp4") as container:
        options = {"crf": "10", "preset": "ultrafast"}
        stream = container.add_stream("libx264", rate=fps, options=options)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = Fraction(1, fps)
        stream.codec_context.gop_size = gop
        for n in range(frames):
            if noise:
                rgb = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
            else:
                rgb = np.empty((height, width, 3), dtype=np.uint8)
                rgb[:, :] = colour_of(n)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            frame.pts = first_pts + n
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def shown_index(tile: Image.Image, frames: int) -> int:
    """Which frame a tile shows: the one whose colour is nearest its mean."""
    mean = np.asarray(tile, dtype=np.float64).reshape(-1, 3).mean(axis=0)
    distances = [float(np.abs(mean - np.array(colour_of(n))).sum()) for n in range(frames)]
    best = int(np.argmin(distances))
    assert distances[best] < 12, (best, distances[best], mean)
    return best


@pytest.mark.parametrize(
    ("size", "tile", "sheet"),
    [
        ((1280, 720), (256, 144), (1280, 720)),
        ((1920, 1080), (256, 144), (1280, 720)),
        ((720, 1280), (144, 256), (720, 1280)),
        ((960, 960), (144, 144), (720, 720)),
        ((960, 720), (192, 144), (960, 720)),
        ((100, 60), (100, 60), (500, 300)),  # smaller than a tile: never upscaled
        ((4000, 500), (576, 72), (2880, 360)),  # past 4:1: the long side is capped
        ((500, 4000), (72, 576), (360, 2880)),
    ],
)
def test_layout(size: tuple[int, int], tile: tuple[int, int], sheet: tuple[int, int]) -> None:
    layout = layout_for(*size)
    assert (layout.tile_width, layout.tile_height) == tile
    assert (layout.width, layout.height) == sheet
    assert (layout.columns, layout.rows) == (5, 5)


@pytest.mark.parametrize("seek_gap", [None, 0.0, math.inf], ids=["default", "seek", "decode"])
@pytest.mark.parametrize(("fps", "seconds"), [(24, 4), (30, 3)])
def test_each_tile_is_the_frame_on_screen_at_its_time(
    tmp_path: Path, seek_gap: float | None, fps: int, seconds: int
) -> None:
    frames = fps * seconds
    video = write_video(tmp_path / "v.mp4", frames=frames, fps=fps, gop=fps // 2)
    sheet = (
        make_spritesheet(video) if seek_gap is None else make_spritesheet(video, seek_gap=seek_gap)
    )
    assert sheet.times == tile_times(seconds)
    image = open_sheet(sheet.jpeg)
    assert image.image.size == (sheet.layout.width, sheet.layout.height) == (1280, 720)
    expected = [math.floor(t * fps + 1e-6) for t in sheet.times]
    assert [shown_index(image.tile(i), frames) for i in range(25)] == expected


def test_a_stream_that_starts_after_zero(tmp_path: Path) -> None:
    video = write_video(tmp_path / "v.mp4", frames=48, first_pts=12)
    sheet = make_spritesheet(video)
    image = open_sheet(sheet.jpeg)
    expected = [math.floor(t * 24 + 1e-6) for t in sheet.times]
    assert [shown_index(image.tile(i), 48) for i in range(25)] == expected


def test_a_busy_wide_video_stays_within_the_byte_cap(tmp_path: Path) -> None:
    video = write_video(tmp_path / "noise.mp4", frames=3, size=(576, 144), noise=True)
    sheet = make_spritesheet(video)
    assert len(sheet.jpeg) <= MAX_BYTES
    image = open_sheet(sheet.jpeg).image
    assert image.size == (2880, 720)
    # Noise is JPEG's worst case: at the usual quality this sheet would not fit.
    again = io.BytesIO()
    image.save(again, format="JPEG", quality=82)
    assert again.tell() > MAX_BYTES


def test_the_sandbox_render(tmp_path: Path) -> None:
    spec = RenderSpec(
        width=640, height=360, duration=2, prompt="A lighthouse at dusk", seed=7,
        audio=False, bgm=False, watermark=True,
    )  # fmt: skip
    video, thumb = tmp_path / "v.mp4", tmp_path / "t.jpg"
    render_video(spec, video, thumb)
    sheet = make_spritesheet(video)
    assert open_sheet(sheet.jpeg).image.size == (1280, 720)
    assert_tiles_show_frames(sheet.jpeg, video)


def test_what_is_not_a_video(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(2000))
    with pytest.raises(SpritesheetError):
        make_spritesheet(junk)
    with pytest.raises(SpritesheetError):
        make_spritesheet(tmp_path / "missing.mp4")
    image = tmp_path / "picture.jpg"
    Image.new("RGB", (64, 64), "red").save(image)
    with pytest.raises(SpritesheetError):
        make_spritesheet(image)  # a still image: one frame, no duration to spread tiles over


def test_audio_only(tmp_path: Path) -> None:
    path = tmp_path / "a.m4a"
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=48000, layout="stereo")
        samples = np.zeros((2, 1024), dtype=np.float32)
        for n in range(10):
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = 48000, n * 1024
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with pytest.raises(SpritesheetError, match="no video stream"):
        make_spritesheet(path)


def test_frames_too_large_are_not_decoded(tmp_path: Path) -> None:
    # MJPEG makes a 4100x4100 frame (over 16.7 megapixels) cheaply.
    path = tmp_path / "huge.mkv"
    with av.open(str(path), "w", format="matroska") as container:
        stream = container.add_stream("mjpeg", rate=1)
        stream.width, stream.height, stream.pix_fmt = 4100, 4100, "yuvj420p"
        frame = av.VideoFrame(4100, 4100, "yuvj420p")
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.pts = 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with pytest.raises(SpritesheetError, match="too large"):
        make_spritesheet(path)
