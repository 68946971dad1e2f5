"""What the emulated platform accepts and charges: models per endpoint, limits, prices, sizes.

All of it is data in the tables below, so a model is one row, not code.

Where vidu-upstream.md is silent the emulator chooses, plausibly for Vidu:
- prompt length: 5000 characters for q3 (the doc), 2000 for older models ("less");
- vidu2.0: durations 4 or 8 s (default 4), resolutions 360p/720p/1080p (default 360p),
  16:9/9:16/1:1, as in Vidu's own docs for that generation;
- aspect ratios: q2/q3 take 16:9, 9:16, 1:1, 4:3, 3:4; q1 and 2.0 take 16:9, 9:16, 1:1;
- prices, in credits per second of video (table `_PER_SECOND`, chosen so that the doc's
  example, viduq3-pro 5 s 720p, costs 20): off-peak halves the price (rounded up),
  `is_rec` then adds 10.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
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
)

MODELS: dict[str, ModelRule] = {
    "viduq3-pro": _Q3,
    "viduq3-turbo": _Q3,
    "viduq2": _Q2,
    "viduq2-pro": _Q2,
    "viduq2-pro-fast": _Q2,
    "viduq2-turbo": _Q2,
    "viduq1": _Q1,
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
        "vidu2.0",
    ),
    Endpoint.START_END: (
        "viduq3-pro",
        "viduq3-turbo",
        "viduq2-pro",
        "viduq2-turbo",
        "viduq1",
        "vidu2.0",
    ),
    Endpoint.REFERENCE: ("viduq2", "viduq1", "vidu2.0"),
}

# (min, max) number of images per endpoint.
IMAGE_COUNTS: dict[Endpoint, tuple[int, int]] = {
    Endpoint.TEXT: (0, 0),
    Endpoint.IMAGE: (1, 1),
    Endpoint.START_END: (2, 2),
    Endpoint.REFERENCE: (1, 7),
}

TAKES_ASPECT_RATIO = frozenset({Endpoint.TEXT, Endpoint.REFERENCE})
START_END_Q2_MAX_DURATION = 8
START_END_RATIO_RANGE = (0.8, 1.25)
IS_REC_CREDITS = 10

_PER_SECOND: dict[str, dict[str, int]] = {
    "viduq3-pro": {"540p": 3, "720p": 4, "1080p": 8},
    "viduq3-turbo": {"540p": 2, "720p": 3, "1080p": 6},
    "viduq2": {"540p": 2, "720p": 3, "1080p": 6},
    "viduq2-pro": {"540p": 2, "720p": 3, "1080p": 6},
    "viduq2-pro-fast": {"540p": 1, "720p": 2, "1080p": 4},
    "viduq2-turbo": {"540p": 1, "720p": 2, "1080p": 4},
    "viduq1": {"1080p": 4},
    "vidu2.0": {"360p": 1, "720p": 2, "1080p": 5},
}


def durations_for(endpoint: Endpoint, model: str) -> tuple[int, ...]:
    rule = MODELS[model]
    if endpoint is Endpoint.START_END and rule is _Q2:
        return tuple(d for d in rule.durations if d <= START_END_Q2_MAX_DURATION)
    return rule.durations


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
