"""What the emulated platform accepts and charges: models per endpoint, limits, prices, sizes.

All of it is data in the tables below, so a model is one row, not code. The rules are read
from Vidu's own platform pages (the CN pages from before q3, per endpoint; the international
text-to-video page of the q3 period), independently of the gateway's table:
- per endpoint, the models it lists: text2video q3, viduq2, viduq1; img2video q3,
  viduq2-pro-fast, viduq2-pro, viduq2-turbo, viduq1, viduq1-classic, vidu2.0; start-end2video
  the same; reference2video viduq2, viduq1, vidu2.0;
- durations and resolutions per model and endpoint: q3 1-16 s; q2 1-10 s, start-end 1-8;
  viduq2-pro-fast 720p or 1080p only; q1 5 s at 1080p; vidu2.0 4 or 8 s, 360p/720p/1080p at
  4 s (360p default) and 720p only at 8 s, and on reference2video 4 s at 360p or 720p;
- reference images: 1-7 (vidu2.0 1-3); the subject form 1-7 subjects of 1-3 images, 1-7 (vidu2.0
  1-3) in all;
- prompts: text2video 5000 characters for every model (the newer page); elsewhere 5000 for
  q3 and 2000 for older models (the CN pages);
- aspect ratios: q2/q3 take 16:9, 9:16, 1:1, 4:3, 3:4; q1 and 2.0 take 16:9, 9:16, 1:1;
- prices, in credits per second of video (table `_PER_SECOND`, chosen so that the doc's
  example, viduq3-pro 5 s 720p, costs 20): off-peak halves the price (rounded up),
  `is_rec` then adds 10.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import StrEnum


class Endpoint(StrEnum):
    TEXT = "text2video"
    IMAGE = "img2video"
    START_END = "start-end2video"
    REFERENCE = "reference2video"


@dataclass(frozen=True, slots=True)
class ModelRule:
    durations: tuple[int, ...]
    default_duration: int
    resolutions: tuple[str, ...]
    default_resolution: str
    ratios: tuple[str, ...]
    prompt_max: int
    takes_movement: bool  # False: a movement_amplitude in the body is refused
    # duration -> (resolutions, default) where they differ from the above (vidu2.0 at 8 s).
    by_duration: dict[int, tuple[tuple[str, ...], str]] = field(default_factory=dict)
    max_images: int = 7  # reference images (or subject images in all)

    def resolutions_at(self, duration: int) -> tuple[tuple[str, ...], str]:
        return self.by_duration.get(duration, (self.resolutions, self.default_resolution))


_Q3 = ModelRule(
    durations=tuple(range(1, 17)),
    default_duration=5,
    resolutions=("540p", "720p", "1080p"),
    default_resolution="720p",
    ratios=("16:9", "9:16", "1:1", "4:3", "3:4"),
    prompt_max=5000,
    takes_movement=False,
)
_Q2 = ModelRule(
    durations=tuple(range(1, 11)),
    default_duration=5,
    resolutions=("540p", "720p", "1080p"),
    default_resolution="720p",
    ratios=("16:9", "9:16", "1:1", "4:3", "3:4"),
    prompt_max=2000,
    takes_movement=True,
)
_Q2_FAST = replace(_Q2, resolutions=("720p", "1080p"))
_Q1 = ModelRule(
    durations=(5,),
    default_duration=5,
    resolutions=("1080p",),
    default_resolution="1080p",
    ratios=("16:9", "9:16", "1:1"),
    prompt_max=2000,
    takes_movement=True,
)
_V2 = ModelRule(
    durations=(4, 8),
    default_duration=4,
    resolutions=("360p", "720p", "1080p"),
    default_resolution="360p",
    ratios=("16:9", "9:16", "1:1"),
    prompt_max=2000,
    takes_movement=True,
    by_duration={8: (("720p",), "720p")},
    max_images=3,
)

MODELS: dict[str, ModelRule] = {
    "viduq3-pro": _Q3,
    "viduq3-turbo": _Q3,
    "viduq2": _Q2,
    "viduq2-pro": _Q2,
    "viduq2-pro-fast": _Q2_FAST,
    "viduq2-turbo": _Q2,
    "viduq1": _Q1,
    "viduq1-classic": _Q1,
    "vidu2.0": _V2,
}

ENDPOINT_MODELS: dict[Endpoint, tuple[str, ...]] = {
    Endpoint.TEXT: ("viduq3-pro", "viduq3-turbo", "viduq2", "viduq1"),
    Endpoint.IMAGE: (
        "viduq3-pro",
        "viduq3-turbo",
        "viduq2-pro-fast",
        "viduq2-pro",
        "viduq2-turbo",
        "viduq1",
        "viduq1-classic",
        "vidu2.0",
    ),
    Endpoint.START_END: (
        "viduq3-pro",
        "viduq3-turbo",
        "viduq2-pro-fast",
        "viduq2-pro",
        "viduq2-turbo",
        "viduq1",
        "viduq1-classic",
        "vidu2.0",
    ),
    Endpoint.REFERENCE: ("viduq2", "viduq1", "vidu2.0"),
}
# Where an endpoint's page gives a model other rules than its own row: q2's start-end
# videos stop at 8 s; vidu2.0's reference videos are 4 s at 360p or 720p; every model's
# text2video prompt may have 5000 characters.
_ENDPOINT_RULES: dict[tuple[Endpoint, str], ModelRule] = {
    **{
        (Endpoint.START_END, model): replace(MODELS[model], durations=tuple(range(1, 9)))
        for model in ("viduq2-pro-fast", "viduq2-pro", "viduq2-turbo")
    },
    (Endpoint.REFERENCE, "vidu2.0"): replace(
        _V2, durations=(4,), resolutions=("360p", "720p"), by_duration={}
    ),
    **{
        (Endpoint.TEXT, model): replace(MODELS[model], prompt_max=5000)
        for model in ENDPOINT_MODELS[Endpoint.TEXT]
    },
}

# (min, max) number of images per endpoint (a model may take fewer: ModelRule.max_images).
IMAGE_COUNTS: dict[Endpoint, tuple[int, int]] = {
    Endpoint.TEXT: (0, 0),
    Endpoint.IMAGE: (1, 1),
    Endpoint.START_END: (2, 2),
    Endpoint.REFERENCE: (1, 7),
}
# The subject form of reference2video.
MAX_SUBJECTS = 7
MAX_SUBJECT_IMAGES = 3

TAKES_ASPECT_RATIO = frozenset({Endpoint.TEXT, Endpoint.REFERENCE})
START_END_RATIO_RANGE = (0.8, 1.25)
IS_REC_CREDITS = 10

_PER_SECOND: dict[str, dict[str, int]] = {
    "viduq3-pro": {"540p": 3, "720p": 4, "1080p": 8},
    "viduq3-turbo": {"540p": 2, "720p": 3, "1080p": 6},
    "viduq2": {"540p": 2, "720p": 3, "1080p": 6},
    "viduq2-pro": {"540p": 2, "720p": 3, "1080p": 6},
    "viduq2-pro-fast": {"720p": 2, "1080p": 4},
    "viduq2-turbo": {"540p": 1, "720p": 2, "1080p": 4},
    "viduq1": {"1080p": 4},
    "viduq1-classic": {"1080p": 4},
    "vidu2.0": {"360p": 1, "720p": 2, "1080p": 5},
}


def rule_for(endpoint: Endpoint, model: str) -> ModelRule:
    """A model's rules on one endpoint."""
    return _ENDPOINT_RULES.get((endpoint, model), MODELS[model])


def durations_for(endpoint: Endpoint, model: str) -> tuple[int, ...]:
    return rule_for(endpoint, model).durations


def price(model: str, duration: int, resolution: str, *, off_peak: bool, is_rec: bool) -> int:
    credits = _PER_SECOND[model][resolution] * duration
    if off_peak:
        credits = math.ceil(credits / 2)
    return credits + (IS_REC_CREDITS if is_rec else 0)


def _even(x: float) -> int:
    return max(2, int(round(x / 2)) * 2)


def frame_size(resolution: str, ratio: float) -> tuple[int, int]:
    """(width, height): the short side is the resolution's number, the long side follows
    `ratio` (width / height); both even, as H.264 in yuv420p needs."""
    short = int(resolution.removesuffix("p"))
    if ratio >= 1:
        return _even(short * ratio), short
    return short, _even(short / ratio)


def ratio_of(aspect_ratio: str) -> float:
    width, height = aspect_ratio.split(":")
    return int(width) / int(height)
