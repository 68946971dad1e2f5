"""The sandbox renderer: a real, playable H.264/AAC MP4 drawn deterministically from a spec."""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np
import numpy.typing as npt
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.stream import VideoStream
from PIL import Image

from vidugate.media.frames import FrameSource, ImageScene, TextScene, yuv_frame
from vidugate.media.overlay import Overlay, TimeCode, caption_overlay, watermark_overlay
from vidugate.media.sound import SAMPLE_RATE, synthesize
from vidugate.media.spec import FPS, RenderResult, RenderSpec
from vidugate.media.subjects import SubjectScene

U8 = npt.NDArray[np.uint8]

_X264_OPTIONS = {"preset": "ultrafast", "crf": "26"}
_AUDIO_CHUNK = 1024  # the AAC encoder's frame size
_BT709 = 1  # AVCOL_PRI_BT709 == AVCOL_TRC_BT709 == AVCOL_SPC_BT709
_RANGE_MPEG = 1
_THUMB_LONG_SIDE = 640
_SLEEP_SLICE = 0.2  # longest sleep between should_stop checks while pacing


class RenderCancelledError(Exception):
    """should_stop() returned True; no output file was left behind."""


def part_path(path: Path) -> Path:
    """Where `path` is written before it is complete: 'x.mp4' -> 'x.mp4.part'."""
    # Appending (not with_suffix) keeps 'clip.mp4' and 'clip.jpg' from sharing 'clip.part'.
    return path.with_name(path.name + ".part")


def stable_seed(prompt: str, seed: int) -> int:
    digest = hashlib.sha256(prompt.encode("utf-8")).digest()
    return (seed ^ int.from_bytes(digest[:8], "big")) & (2**64 - 1)


class _Overlays:
    def __init__(self, spec: RenderSpec, total: int) -> None:
        w, h = spec.width, spec.height
        self.static: list[Overlay] = []
        self.timecode: TimeCode | None = None
        mark: Overlay | None = None
        mark_box = (0, 0)
        if spec.watermark:
            mark, mark_box = watermark_overlay(w, h, spec.wm_position, spec.wm_image_path)
        if spec.image_path is None and not spec.subjects:
            # Keep the caption clear of a bottom watermark; the time code takes a free top corner.
            bottom_mark = spec.watermark and spec.wm_position in (3, 4)
            caption = caption_overlay(spec.prompt, w, h, mark_box if bottom_mark else (0, 0))
            if caption is not None:
                self.static.append(caption)
            tc_pos = 2 if spec.watermark and spec.wm_position == 1 else 1
            self.timecode = TimeCode(total, FPS, w, h, tc_pos)
        self.mark = mark

    def apply(self, yuv: U8, index: int, width: int, height: int) -> None:
        for overlay in self.static:
            overlay.apply(yuv, width, height)
        if self.timecode is not None:
            tc = self.timecode.overlay(index)
            if tc is not None:
                tc.apply(yuv, width, height)
        if self.mark is not None:
            self.mark.apply(yuv, width, height)


def _open(
    path: Path, spec: RenderSpec, with_audio: bool
) -> tuple[OutputContainer, VideoStream, AudioStream | None]:
    container = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
    video = container.add_stream("libx264", rate=FPS, options=dict(_X264_OPTIONS))
    video.width, video.height, video.pix_fmt = spec.width, spec.height, "yuv420p"
    video.codec_context.time_base = Fraction(1, FPS)
    ctx = video.codec_context
    ctx.gop_size = 2 * FPS
    # A fixed thread setup keeps the bitstream identical on machines with other core counts.
    ctx.thread_count, ctx.thread_type = 2, "FRAME"
    ctx.color_primaries = ctx.color_trc = ctx.colorspace = _BT709
    ctx.color_range = _RANGE_MPEG
    audio: AudioStream | None = None
    if with_audio:
        # The default "twoloop" coder costs ~3x the time for no audible gain on synth tones.
        options = {"aac_coder": "fast"}
        audio = container.add_stream("aac", rate=SAMPLE_RATE, layout="stereo", options=options)
        audio.codec_context.time_base = Fraction(1, SAMPLE_RATE)
        audio.bit_rate = 128_000
    return container, video, audio


def _encode(
    container: OutputContainer,
    video: VideoStream,
    audio: AudioStream | None,
    source: FrameSource,
    overlays: _Overlays,
    spec: RenderSpec,
    pcm: npt.NDArray[np.float32] | None,
    progress: Callable[[int, int], None] | None,
    should_stop: Callable[[], bool] | None,
    deadline: Callable[[int], float],
    thumb_index: int,
) -> U8:
    total = spec.duration * FPS
    step = max(1, total // 40)
    sent = 0  # audio samples already handed to the encoder
    thumb: U8 | None = None
    if progress is not None:
        progress(0, total)
    for i in range(total):
        if should_stop is not None and should_stop():
            raise RenderCancelledError
        yuv = source.frame(i)
        overlays.apply(yuv, i, spec.width, spec.height)
        if i == thumb_index:
            thumb = yuv.copy()
        frame = yuv_frame(yuv, spec.width, spec.height)
        frame.pts = i
        container.mux(video.encode(frame))
        if audio is not None and pcm is not None:
            # Feed audio up to the current video time so packets interleave in the file.
            upto = pcm.shape[1] if i == total - 1 else (i + 1) * SAMPLE_RATE // FPS
            while sent < upto:
                chunk = np.ascontiguousarray(pcm[:, sent : min(sent + _AUDIO_CHUNK, upto)])
                aframe = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
                aframe.sample_rate, aframe.pts = SAMPLE_RATE, sent
                container.mux(audio.encode(aframe))
                sent += chunk.shape[1]
        if progress is not None and ((i + 1) % step == 0 or i + 1 == total):
            progress(i + 1, total)
        _pace(deadline(i), should_stop)
    container.mux(video.encode(None))
    if audio is not None:
        container.mux(audio.encode(None))
    assert thumb is not None
    return thumb


def _pace(until: float, should_stop: Callable[[], bool] | None) -> None:
    # Sleeping in slices keeps cancellation responsive even at a slow pace.
    while (remaining := until - time.monotonic()) > 0:
        time.sleep(min(remaining, _SLEEP_SLICE))
        if should_stop is not None and should_stop():
            raise RenderCancelledError


def _write_thumbnail(yuv: U8, spec: RenderSpec, out: Path) -> None:
    rgb = (
        yuv_frame(yuv, spec.width, spec.height)
        .reformat(
            format="rgb24", src_colorspace="ITU709", src_color_range="MPEG", dst_color_range="JPEG"
        )
        .to_ndarray()
    )
    img = Image.fromarray(cast(U8, rgb))
    img.thumbnail((_THUMB_LONG_SIDE, _THUMB_LONG_SIDE), Image.Resampling.LANCZOS)
    tmp = part_path(out)
    try:
        img.save(tmp, format="JPEG", quality=88)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def render_video(
    spec: RenderSpec,
    video_out: Path,
    thumbnail_out: Path,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> RenderResult:
    """Render `spec` to an MP4 at `video_out` and a JPEG at `thumbnail_out`.

    Raises RenderCancelledError when `should_stop()` turns true; then neither the video
    nor its `.part` file exists (an older file already at `video_out` is left alone).
    """
    started = time.monotonic()
    total = spec.duration * FPS
    if total <= 0 or spec.width <= 0 or spec.height <= 0 or spec.width % 2 or spec.height % 2:
        raise ValueError(f"cannot render {spec.width}x{spec.height} for {spec.duration}s")
    seq = stable_seed(spec.prompt, spec.seed)
    visual_rng = np.random.default_rng([seq, 1])
    source: FrameSource
    if spec.subjects:
        # Every frame shows every subject: the thumbnail is the first.
        source = SubjectScene(spec.width, spec.height, total, spec.subjects, visual_rng)
        thumb_index = 0
    elif spec.image_path is not None:
        source = ImageScene(
            spec.width, spec.height, total, spec.image_path, spec.end_image_path, visual_rng
        )
        thumb_index = 0
    else:
        source = TextScene(spec.width, spec.height, total, visual_rng)
        thumb_index = total // 3
    overlays = _Overlays(spec, total)
    has_audio = spec.audio or spec.bgm
    pcm = None
    if has_audio:
        pcm = synthesize(spec.duration, spec.audio, spec.bgm, np.random.default_rng([seq, 2]))

    def deadline(index: int) -> float:
        return started + spec.pace * spec.duration * (index + 1) / total

    tmp = part_path(video_out)
    try:
        container, video, audio = _open(tmp, spec, has_audio)
        try:
            thumb = _encode(
                container, video, audio, source, overlays, spec, pcm,
                progress, should_stop, deadline, thumb_index,
            )  # fmt: skip
        except BaseException:
            with contextlib.suppress(Exception):
                container.close()
            raise
        container.close()
        _write_thumbnail(thumb, spec, thumbnail_out)
        os.replace(tmp, video_out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return RenderResult(
        video_path=video_out, thumbnail_path=thumbnail_out, frames=total, has_audio=has_audio
    )
