"""The one table of model capabilities. Validation, /v1/models and the docs all read it;
adding a model is adding one entry to MODELS."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

RESOLUTIONS: tuple[str, ...] = ("540p", "720p", "1080p")
ASPECT_RATIOS: tuple[str, ...] = ("16:9", "9:16", "1:1", "4:3", "3:4")


class Mode(StrEnum):
    """How the images of a request are used (Vidu's four create endpoints)."""

    TEXT = "text2video"
    IMAGE = "img2video"
    START_END = "start-end2video"
    REFERENCE = "reference2video"


@dataclass(frozen=True, slots=True)
class ModelSpec:
    id: str
    description: str
    family: str
    min_duration: int
    max_duration: int
    default_duration: int
    resolutions: tuple[str, ...]
    default_resolution: str
    aspect_ratios: tuple[str, ...]
    default_aspect_ratio: str
    audio_default: bool
    # The Vidu endpoints (create modes) the model serves.
    modes: frozenset[Mode]
    # A shorter limit for some modes (q2's start-end2video stops at 8 s upstream).
    max_duration_by_mode: dict[Mode, int] = field(default_factory=dict)
    # Fields accepted for compatibility that change nothing for this model.
    ignored_fields: frozenset[str] = frozenset()
    # bgm has no effect from this duration on (None: always honoured unless ignored).
    bgm_max_duration: int | None = None
    max_prompt_chars: int = 5000
    owned_by: str = "vidu"
    # Typical upstream generation time, used to derive progress for upstreams that give none.
    typical_seconds: float = 60.0
    notes: tuple[str, ...] = field(default=())

    @property
    def durations(self) -> range:
        return range(self.min_duration, self.max_duration + 1)

    def durations_for(self, mode: Mode) -> range:
        return range(self.min_duration, self.max_duration_by_mode.get(mode, self.max_duration) + 1)

    def describe_durations(self, mode: Mode | None = None) -> str:
        allowed = self.durations if mode is None else self.durations_for(mode)
        return f"{allowed.start}-{allowed.stop - 1}"


_Q3_PRO = ModelSpec(
    id="viduq3-pro",
    description="High-quality audio and video in one pass; vivid, lifelike, 3D.",
    family="q3",
    min_duration=1,
    max_duration=16,
    default_duration=5,
    resolutions=RESOLUTIONS,
    default_resolution="720p",
    aspect_ratios=ASPECT_RATIOS,
    default_aspect_ratio="16:9",
    audio_default=True,
    modes=frozenset({Mode.TEXT, Mode.IMAGE, Mode.START_END}),
    ignored_fields=frozenset({"voice_id", "bgm", "movement_amplitude"}),
    typical_seconds=120.0,
)
# q2's start-end videos are 1-8 s upstream (vidu-upstream.md, "Duration").
_Q2_START_END = {Mode.START_END: 8}
_Q2_START_END_NOTE = f"{Mode.START_END.value}: 1-{_Q2_START_END[Mode.START_END]} s."


MODELS: dict[str, ModelSpec] = {
    spec.id: spec
    for spec in (
        _Q3_PRO,
        replace(
            _Q3_PRO,
            id="viduq3-turbo",
            description="viduq3-pro's audio and video, generated faster.",
            typical_seconds=60.0,
        ),
        ModelSpec(
            id="viduq2-pro",
            description="Good results with rich details.",
            family="q2",
            min_duration=1,
            max_duration=10,
            default_duration=5,
            resolutions=RESOLUTIONS,
            default_resolution="720p",
            aspect_ratios=ASPECT_RATIOS,
            default_aspect_ratio="16:9",
            audio_default=False,
            # Text-only requests run upstream as viduq2 (the provider's model map).
            modes=frozenset({Mode.TEXT, Mode.IMAGE, Mode.START_END}),
            max_duration_by_mode=_Q2_START_END,
            bgm_max_duration=8,
            typical_seconds=90.0,
            notes=(_Q2_START_END_NOTE,),
        ),
        ModelSpec(
            id="viduq2-turbo",
            description="Good results, fast generation.",
            family="q2",
            min_duration=1,
            max_duration=10,
            default_duration=5,
            resolutions=RESOLUTIONS,
            default_resolution="720p",
            aspect_ratios=ASPECT_RATIOS,
            default_aspect_ratio="16:9",
            audio_default=False,
            modes=frozenset({Mode.TEXT, Mode.IMAGE, Mode.START_END}),
            max_duration_by_mode=_Q2_START_END,
            bgm_max_duration=8,
            typical_seconds=45.0,
            notes=(_Q2_START_END_NOTE,),
        ),
        ModelSpec(
            id="viduq2",
            description="Vidu's q2 text model: text-to-video and 1-7 reference images.",
            family="q2",
            min_duration=1,
            max_duration=10,
            default_duration=5,
            resolutions=RESOLUTIONS,
            default_resolution="720p",
            aspect_ratios=ASPECT_RATIOS,
            default_aspect_ratio="16:9",
            audio_default=False,
            modes=frozenset({Mode.TEXT, Mode.REFERENCE}),
            bgm_max_duration=8,
            typical_seconds=60.0,
        ),
    )
}


def quality_of(resolution: str) -> str:
    return "high" if resolution == "1080p" else "standard"


def short_side(resolution: str) -> int:
    return int(resolution.removesuffix("p"))


def frame_size(resolution: str, aspect_ratio: str) -> tuple[int, int]:
    """Width and height for a ratio: the short side is the resolution's number, both even."""
    w_part, h_part = (int(part) for part in aspect_ratio.split(":"))
    return frame_size_for_shape(resolution, w_part, h_part)


def frame_size_for_shape(resolution: str, width: int, height: int) -> tuple[int, int]:
    """Frame for an image of width x height: its shape, the resolution's short side."""
    short = short_side(resolution)
    if width >= height:
        return _even(short * width / height), short
    return short, _even(short * height / width)


def size_to_shape(size: str) -> tuple[str, str] | None:
    """The (resolution, aspect_ratio) a "WxH" size stands for, if it is one we produce."""
    for resolution in RESOLUTIONS:
        for ratio in ASPECT_RATIOS:
            width, height = frame_size(resolution, ratio)
            if size == f"{width}x{height}":
                return resolution, ratio
    return None


def supported_sizes(spec: ModelSpec) -> list[str]:
    return [
        "{}x{}".format(*frame_size(resolution, ratio))
        for resolution in spec.resolutions
        for ratio in spec.aspect_ratios
    ]


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)
