"""The one table of model capabilities. Validation, /v1/models and the docs all read it;
adding a model is adding one entry to MODELS.

A model's rules are given per Vidu endpoint (mode), because Vidu's are: vidu2.0 makes 4 or
8 s image videos but 4 s reference videos, and its resolutions depend on the duration.

Sources (research notes of issue 10): Vidu's own platform pages, the CN copy from before q3
(durations, resolutions, endpoints, image counts, prompt 2000) and the international
text-to-video page of the q3 period (prompt 5000 on text2video for every model, style).
Where they disagree the newer Vidu page wins for the endpoint it describes; where resellers
list more than Vidu (viduq2-pro-fast or viduq1-classic on reference2video, vidu2.0 on
text2video), Vidu's own list is kept."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

RESOLUTIONS: tuple[str, ...] = ("360p", "540p", "720p", "1080p")
ASPECT_RATIOS: tuple[str, ...] = ("16:9", "9:16", "1:1", "4:3", "3:4")
# 4:3 and 3:4 are for q2 and q3 only (Vidu's text2video and reference2video pages).
BASIC_RATIOS: tuple[str, ...] = ("16:9", "9:16", "1:1")
STYLES: tuple[str, ...] = ("general", "anime")


class Mode(StrEnum):
    """How the images of a request are used (Vidu's four create endpoints)."""

    TEXT = "text2video"
    IMAGE = "img2video"
    START_END = "start-end2video"
    REFERENCE = "reference2video"


# (fewest, most) images each mode takes, and what they are; a model may take fewer.
MODE_IMAGES: dict[Mode, tuple[int, int, str]] = {
    Mode.TEXT: (0, 0, "none"),
    Mode.IMAGE: (1, 1, "the first frame"),
    Mode.START_END: (2, 2, "the first and the last frame"),
    Mode.REFERENCE: (1, 7, "reference images"),
}
# In these modes the images set the frame's shape; an aspect_ratio changes nothing.
IMAGE_FRAMED = frozenset({Mode.IMAGE, Mode.START_END})


@dataclass(frozen=True, slots=True)
class Resolutions:
    allowed: tuple[str, ...]
    default: str

    def describe(self) -> str:
        shown = ", ".join(self.allowed)
        return shown if len(self.allowed) == 1 else f"{shown} ({self.default})"


@dataclass(frozen=True, slots=True)
class ModeRules:
    """What a model takes on one of Vidu's endpoints. In the modes whose images set the
    frame (IMAGE_FRAMED), aspect_ratios only names the shapes a `size` may ask for."""

    durations: tuple[int, ...]
    default_duration: int
    resolutions: Resolutions
    aspect_ratios: tuple[str, ...] = ASPECT_RATIOS
    default_aspect_ratio: str = "16:9"
    # Other resolutions at some durations (vidu2.0: 8 s is 720p only).
    resolutions_by_duration: Mapping[int, Resolutions] = field(default_factory=dict)
    # Fewer images than the mode takes (vidu2.0's reference2video: 3); None: the mode's.
    max_images: int | None = None
    max_prompt_chars: int = 2000

    def resolutions_at(self, duration: int) -> Resolutions:
        return self.resolutions_by_duration.get(duration, self.resolutions)

    def allowed_durations(self) -> str:
        """The durations as an error message gives them: "1-10", "5", "4, 8"."""
        first, last = self.durations[0], self.durations[-1]
        if len(self.durations) > 2 and self.durations == tuple(range(first, last + 1)):
            return f"{first}-{last}"
        return ", ".join(str(d) for d in self.durations)

    def describe_durations(self) -> str:
        """The durations as the README gives them: "1–16 s (5)", "5 s", "4 or 8 s (4)"."""
        first, last = self.durations[0], self.durations[-1]
        if len(self.durations) == 1:
            return f"{first} s"
        if self.durations == tuple(range(first, last + 1)) and len(self.durations) > 2:
            shown = f"{first}–{last}"
        else:
            shown = ", ".join(str(d) for d in self.durations[:-1]) + f" or {last}"
        return f"{shown} s ({self.default_duration})"

    def duration_groups(self) -> list[tuple[tuple[int, ...], Resolutions]]:
        """The durations that share their resolutions, in order, with those resolutions."""
        groups: list[tuple[tuple[int, ...], Resolutions]] = []
        for duration in self.durations:
            at = self.resolutions_at(duration)
            if groups and groups[-1][1] == at:
                groups[-1] = (groups[-1][0] + (duration,), at)
            else:
                groups.append(((duration,), at))
        return groups

    def describe_resolutions(self) -> str:
        """As the README gives them: "540p, 720p, 1080p (720p)", "4 s: ...; 8 s: 720p"."""
        groups = self.duration_groups()
        if len(groups) == 1:
            return groups[0][1].describe()
        return "; ".join(f"{_seconds(durations)}: {at.describe()}" for durations, at in groups)


@dataclass(frozen=True, slots=True)
class ModelSpec:
    id: str
    description: str
    family: str
    # The Vidu endpoints (create modes) the model serves, each with its rules.
    rules: Mapping[Mode, ModeRules]
    audio_default: bool
    # Fields accepted for compatibility that change nothing for this model.
    ignored_fields: frozenset[str] = frozenset()
    # bgm has no effect from this duration on (None: always honoured unless ignored).
    bgm_max_duration: int | None = None
    owned_by: str = "vidu"
    # Typical upstream generation time, used to derive progress for upstreams that give none.
    typical_seconds: float = 60.0
    notes: tuple[str, ...] = ()

    @property
    def modes(self) -> frozenset[Mode]:
        return frozenset(self.rules)

    @property
    def main(self) -> ModeRules:
        """The rules of the model's first mode (text, image, start-end, reference), whose
        defaults a summary shows."""
        return next(self.rules[mode] for mode in Mode if mode in self.rules)

    @property
    def durations(self) -> tuple[int, ...]:
        return tuple(sorted({d for rules in self.rules.values() for d in rules.durations}))

    @property
    def min_duration(self) -> int:
        return self.durations[0]

    @property
    def max_duration(self) -> int:
        return self.durations[-1]

    @property
    def default_duration(self) -> int:
        return self.main.default_duration

    @property
    def resolutions(self) -> tuple[str, ...]:
        taken = {
            resolution
            for rules in self.rules.values()
            for duration in rules.durations
            for resolution in rules.resolutions_at(duration).allowed
        }
        return tuple(r for r in RESOLUTIONS if r in taken)

    @property
    def default_resolution(self) -> str:
        return self.main.resolutions_at(self.main.default_duration).default

    @property
    def aspect_ratios(self) -> tuple[str, ...]:
        taken = {ratio for rules in self.rules.values() for ratio in rules.aspect_ratios}
        return tuple(r for r in ASPECT_RATIOS if r in taken)

    @property
    def default_aspect_ratio(self) -> str:
        return self.main.default_aspect_ratio

    @property
    def max_prompt_chars(self) -> int:
        return max(rules.max_prompt_chars for rules in self.rules.values())

    def image_range(self, mode: Mode) -> tuple[int, int]:
        """(fewest, most) images the model takes in a mode it serves."""
        fewest, most, _ = MODE_IMAGES[mode]
        limit = self.rules[mode].max_images
        return fewest, most if limit is None else min(most, limit)


def _seconds(durations: tuple[int, ...]) -> str:
    first, last = durations[0], durations[-1]
    if len(durations) > 2 and durations == tuple(range(first, last + 1)):
        return f"{first}–{last} s"
    return ", ".join(str(d) for d in durations) + " s"


_Q_RESOLUTIONS = Resolutions(("540p", "720p", "1080p"), "720p")
_Q1_RESOLUTIONS = Resolutions(("1080p",), "1080p")
# q3: 1-16 s everywhere; prompts of up to 5000 characters (Vidu's text-to-video page).
_Q3 = ModeRules(
    durations=tuple(range(1, 17)),
    default_duration=5,
    resolutions=_Q_RESOLUTIONS,
    max_prompt_chars=5000,
)
# Vidu's international text-to-video page (q3 period) takes 5000 characters from every
# model; its other pages (CN, before q3) say 2000, which older models keep elsewhere.
_TEXT_PROMPT = 5000
_Q2_TEXT = ModeRules(
    durations=tuple(range(1, 11)),
    default_duration=5,
    resolutions=_Q_RESOLUTIONS,
    max_prompt_chars=_TEXT_PROMPT,
)
_Q2_IMAGE = replace(_Q2_TEXT, max_prompt_chars=2000)
# q2's start-end videos are 1-8 s upstream (vidu-upstream.md, "Duration").
_Q2_START_END = replace(_Q2_IMAGE, durations=tuple(range(1, 9)))
_Q2_REFERENCE = _Q2_IMAGE
# viduq2-pro-fast has no 540p (Vidu's img2video and start-end2video pages).
_FAST_RESOLUTIONS = Resolutions(("720p", "1080p"), "720p")
# q1: 5 s and 1080p only, on every endpoint it serves; 16:9, 9:16 or 1:1 where a ratio is
# given (text2video, reference2video); style (general, anime) on text2video.
_Q1 = ModeRules(durations=(5,), default_duration=5, resolutions=_Q1_RESOLUTIONS)
_Q1_RATIO = replace(_Q1, aspect_ratios=BASIC_RATIOS)
# vidu2.0: 4 or 8 s (4); at 4 s 360p (default), 720p or 1080p, at 8 s 720p only.
_V2_IMAGE = ModeRules(
    durations=(4, 8),
    default_duration=4,
    resolutions=Resolutions(("360p", "720p", "1080p"), "360p"),
    resolutions_by_duration={8: Resolutions(("720p",), "720p")},
)
# ... and its reference videos: 4 s, 360p (default) or 720p, 1-3 images.
_V2_REFERENCE = ModeRules(
    durations=(4,),
    default_duration=4,
    resolutions=Resolutions(("360p", "720p"), "360p"),
    aspect_ratios=BASIC_RATIOS,
    max_images=3,
)
_Q3_IGNORED = frozenset({"voice_id", "bgm", "movement_amplitude", "style"})
_Q2_IGNORED = frozenset({"style"})
_Q2_START_END_NOTE = f"{Mode.START_END.value}: 1-8 s."

_Q3_PRO = ModelSpec(
    id="viduq3-pro",
    description="High-quality audio and video in one pass; vivid, lifelike, 3D.",
    family="q3",
    rules={Mode.TEXT: _Q3, Mode.IMAGE: _Q3, Mode.START_END: _Q3},
    audio_default=True,
    ignored_fields=_Q3_IGNORED,
    typical_seconds=120.0,
)
_Q2_PRO = ModelSpec(
    id="viduq2-pro",
    description="Good results with rich details.",
    family="q2",
    # Text-only requests run upstream as viduq2 (the provider's model map).
    rules={Mode.TEXT: _Q2_TEXT, Mode.IMAGE: _Q2_IMAGE, Mode.START_END: _Q2_START_END},
    audio_default=False,
    ignored_fields=_Q2_IGNORED,
    bgm_max_duration=8,
    typical_seconds=90.0,
    notes=(_Q2_START_END_NOTE,),
)
_Q1_SPEC = ModelSpec(
    id="viduq1",
    description="Clear images, smooth transitions, steady camera; 5 s at 1080p.",
    family="q1",
    rules={
        Mode.TEXT: replace(_Q1_RATIO, max_prompt_chars=_TEXT_PROMPT),
        Mode.IMAGE: _Q1,
        Mode.START_END: _Q1,
        Mode.REFERENCE: _Q1_RATIO,
    },
    audio_default=False,
    typical_seconds=60.0,
    notes=("style (general, anime): text2video only.",),
)

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
        _Q2_PRO,
        replace(
            _Q2_PRO,
            id="viduq2-turbo",
            description="Good results, fast generation.",
            typical_seconds=45.0,
        ),
        ModelSpec(
            id="viduq2-pro-fast",
            description="viduq2-pro's quality at the lowest price, 2-3x faster than "
            "viduq2-turbo; 720p and 1080p.",
            family="q2",
            rules={
                Mode.IMAGE: replace(_Q2_IMAGE, resolutions=_FAST_RESOLUTIONS),
                Mode.START_END: replace(_Q2_START_END, resolutions=_FAST_RESOLUTIONS),
            },
            audio_default=False,
            bgm_max_duration=8,
            typical_seconds=30.0,
            notes=(_Q2_START_END_NOTE,),
        ),
        ModelSpec(
            id="viduq2",
            description="Vidu's q2 text model: text-to-video and 1-7 reference images.",
            family="q2",
            rules={Mode.TEXT: _Q2_TEXT, Mode.REFERENCE: _Q2_REFERENCE},
            audio_default=False,
            ignored_fields=_Q2_IGNORED,
            bgm_max_duration=8,
            typical_seconds=60.0,
        ),
        _Q1_SPEC,
        ModelSpec(
            id="viduq1-classic",
            description="viduq1 with richer transitions and camera moves; 5 s at 1080p.",
            family="q1",
            rules={Mode.IMAGE: _Q1, Mode.START_END: _Q1},
            audio_default=False,
            typical_seconds=60.0,
        ),
        ModelSpec(
            id="vidu2.0",
            description="Fast generation: 4 s (360p-1080p) or 8 s (720p) videos.",
            family="2.0",
            rules={Mode.IMAGE: _V2_IMAGE, Mode.START_END: _V2_IMAGE, Mode.REFERENCE: _V2_REFERENCE},
            audio_default=False,
            typical_seconds=30.0,
            notes=("8 s: 720p only.", f"{Mode.REFERENCE.value}: 4 s, 360p or 720p, 1-3 images."),
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
