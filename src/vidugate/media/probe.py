"""What a finished video file really is: its frame size, read from the container header
and stream parameters only. Nothing is decoded, and FFmpeg's probe is capped, so a large
or hostile file costs a bounded read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# FFmpeg reads at most this much to find the streams' parameters (an MP4's are in its
# moov box, read whole wherever it is; H.264 keeps the frame size there, so no frame is
# decoded at all).
PROBE_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class VideoInfo:
    width: int
    height: int

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"


def probe_video(path: Path) -> VideoInfo | None:
    """The first video stream's frame size; None when the file holds no readable video.
    Blocking: call it in a worker thread."""
    # Imported here, not with the module: av is ~25 MB of a process's memory, and a process
    # that serves the API alone never probes.
    import av

    options = {"probesize": str(PROBE_BYTES), "analyzeduration": "0"}
    try:
        with av.open(str(path), mode="r", options=options) as container:
            streams = container.streams.video
            if not streams:
                return None
            width, height = streams[0].codec_context.width, streams[0].codec_context.height
    except (av.FFmpegError, OSError, UnicodeDecodeError):
        return None
    if width <= 0 or height <= 0:
        return None
    return VideoInfo(width, height)
