"""What the sandbox renderer is asked to draw."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FPS = 24


@dataclass(frozen=True, slots=True)
class SubjectPanel:
    """A reference2video subject as the sandbox draws it: its id and its images."""

    id: str
    image_paths: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class RenderSpec:
    """One video to render. Sizes are even; the renderer never changes them."""

    width: int
    height: int
    duration: int  # whole seconds; the video has duration * FPS frames
    prompt: str
    seed: int  # the seed actually used (never 0 here: the gateway picks one when asked for random)
    audio: bool  # dialogue-like audio track (AAC)
    bgm: bool  # background music track (AAC); audio or bgm -> one AAC stream
    image_path: Path | None = None  # first frame, animated afterwards
    end_image_path: Path | None = None  # last frame (start-end videos); None for the seed's modes
    watermark: bool = False
    wm_position: int = 3  # 1 top-left, 2 top-right, 3 bottom-right, 4 bottom-left
    wm_image_path: Path | None = None  # None: the default text mark "AI generated"
    pace: float = 0.0  # minimum wall seconds per second of video (0: as fast as the CPU allows)
    # reference2video's subjects, each drawn as a labelled panel of its images (then
    # image_path is None): media/subjects.py.
    subjects: tuple[SubjectPanel, ...] = ()


@dataclass(frozen=True, slots=True)
class RenderResult:
    video_path: Path
    thumbnail_path: Path
    frames: int
    has_audio: bool
