"""A video request: the fields a client may give, and the rules that turn them into
what a provider is asked to make. Pure; every rejection names its field."""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from dataclasses import fields as dataclass_fields

# Re-exported: the surfaces read the caps where they read the request.
from vidugate.domain.caps import MAX_NAME_CHARS as MAX_NAME_CHARS
from vidugate.domain.caps import check_caps as check_caps
from vidugate.domain.caps import check_idempotency_key as check_idempotency_key
from vidugate.domain.models import (
    MODE_IMAGES,
    MODELS,
    STYLES,
    Mode,
    ModelSpec,
    ModeRules,
    frame_size,
    frame_size_for_shape,
)
from vidugate.domain.subjects import Subject, check_subjects
from vidugate.errors import InvalidRequestError

MAX_SEED = 2_147_483_647
# About what a request holds besides its long texts, and what a task holds besides its
# request (measured: ~1.2 KB for both), for caches' byte budgets.
REQUEST_OVERHEAD = 1024
# The two frames of a start-end video must have close shapes (Vidu: ratio within 0.8..1.25).
START_END_RATIO = (0.8, 1.25)


@dataclass(frozen=True, slots=True)
class VideoFields:
    """The fields as given (already type-checked); None means not given."""

    model: str
    prompt: str | None = None
    aspect_ratio: str | None = None
    audio: bool | None = None
    voice_id: str | None = None
    is_rec: bool | None = None
    bgm: bool | None = None
    duration: int | None = None
    seed: int | None = None
    resolution: str | None = None
    payload: str | None = None
    off_peak: bool | None = None
    watermark: bool | None = None
    wm_position: int | None = None
    wm_url: str | None = None
    meta_data: str | None = None
    movement_amplitude: str | None = None
    callback_url: str | None = None
    style: str | None = None
    # reference2video's subject form (None: the flat images list, if any).
    subjects: tuple[Subject, ...] | None = None


@dataclass(frozen=True, slots=True)
class VideoRequest:
    """A validated request with every default applied."""

    model: str
    mode: Mode
    prompt: str
    aspect_ratio: str
    resolution: str
    duration: int
    seed: int  # 0 until the gateway picks one (see with_seed)
    audio: bool
    bgm: bool
    voice_id: str | None
    is_rec: bool
    payload: str | None
    off_peak: bool
    watermark: bool
    wm_position: int
    wm_url: str | None
    meta_data: str | None
    movement_amplitude: str | None = None
    # The task's own webhook URL (Vidu's callback_url, /v1/videos' webhook_url).
    callback_url: str | None = None
    image_count: int = 0
    # Set once the images are known: the shape of the video actually produced.
    width: int = 0
    height: int = 0
    extra: dict[str, str] = field(default_factory=dict)
    style: str | None = None
    # The images in subjects' order (empty: a flat list of images, or none).
    subjects: tuple[Subject, ...] = ()

    def __post_init__(self) -> None:
        # A stored request comes back from its JSON with subjects as objects.
        if not isinstance(self.subjects, tuple) or any(
            isinstance(subject, dict) for subject in self.subjects
        ):
            subjects = tuple(
                Subject(**subject) if isinstance(subject, dict) else subject
                for subject in self.subjects
            )
            object.__setattr__(self, "subjects", subjects)

    @property
    def spec(self) -> ModelSpec:
        return MODELS[self.model]

    def approx_bytes(self) -> int:
        """About the memory this request holds, for caches' byte budgets."""
        texts = [self.prompt, self.payload, self.meta_data, self.voice_id, self.wm_url]
        texts += [self.callback_url, *self.extra.keys(), *self.extra.values()]
        texts += [text for subject in self.subjects for text in (subject.id, subject.voice_id)]
        return REQUEST_OVERHEAD + sum(sys.getsizeof(text) for text in texts if text is not None)

    def with_seed(self) -> VideoRequest:
        """Absent or 0 means random: pick the seed now and keep it, so the task can be redone."""
        if self.seed:
            return self
        return replace(self, seed=secrets.randbelow(MAX_SEED) + 1)

    def with_frame(self, image_shape: tuple[int, int] | None) -> VideoRequest:
        if image_shape is None or self.mode is Mode.REFERENCE:
            width, height = frame_size(self.resolution, self.aspect_ratio)
        else:
            width, height = frame_size_for_shape(self.resolution, *image_shape)
        return replace(self, width=width, height=height)


def _allowed(values: object) -> str:
    if isinstance(values, (list, tuple, frozenset, set)):
        return ", ".join(str(v) for v in values)
    return str(values)


def model_spec(model: str) -> ModelSpec:
    spec = MODELS.get(model)
    if spec is None:
        raise InvalidRequestError(
            f"Unknown model {model!r}. Supported models: {_allowed(list(MODELS))}.",
            param="model",
        )
    return spec


def build_request(fields: VideoFields, *, mode: Mode, image_count: int) -> VideoRequest:
    """Apply the model's rules and defaults. Images are counted here and inspected elsewhere."""
    check_caps({f.name: getattr(fields, f.name) for f in dataclass_fields(fields)})
    spec = model_spec(fields.model)
    rules = _mode_rules(spec, mode)
    subjects = check_subjects(fields.subjects, spec, mode, image_count)
    if not subjects:
        _check_image_count(spec, mode, image_count)

    is_rec = bool(fields.is_rec)
    prompt = fields.prompt or ""
    if len(prompt) > rules.max_prompt_chars:
        raise InvalidRequestError(
            f"prompt has {len(prompt)} characters; at most {rules.max_prompt_chars} are "
            f"allowed{_where(spec, mode, lambda r: r.max_prompt_chars)}.",
            param="prompt",
        )
    if not prompt.strip() and not is_rec and image_count == 0:
        raise InvalidRequestError(
            "prompt is required: a non-empty text (it may be empty only with is_rec=true "
            "or an image).",
            param="prompt",
            code="missing_required_parameter" if fields.prompt is None else "invalid_value",
        )

    aspect_ratio = fields.aspect_ratio or rules.default_aspect_ratio
    if aspect_ratio not in rules.aspect_ratios:
        raise InvalidRequestError(
            f"aspect_ratio {aspect_ratio!r} is not supported by "
            f"{spec.id}{_where(spec, mode, lambda r: r.aspect_ratios)}; "
            f"allowed: {_allowed(rules.aspect_ratios)}.",
            param="aspect_ratio",
        )
    duration = rules.default_duration if fields.duration is None else fields.duration
    if duration not in rules.durations:
        raise InvalidRequestError(
            f"duration {duration} is not allowed for "
            f"{spec.id}{_where(spec, mode, lambda r: r.durations)}; allowed: "
            f"{rules.allowed_durations()} seconds.",
            param="duration",
        )
    offered = rules.resolutions_at(duration)
    resolution = fields.resolution or offered.default
    if resolution not in offered.allowed:
        at = f" at {duration} s" if len(rules.duration_groups()) > 1 else ""
        raise InvalidRequestError(
            f"resolution {resolution!r} is not supported by "
            f"{spec.id}{_where(spec, mode, _resolution_sets)}{at}; "
            f"allowed: {_allowed(offered.allowed)}.",
            param="resolution",
        )
    seed = fields.seed or 0
    if not 0 <= seed <= MAX_SEED:
        raise InvalidRequestError(
            f"seed must be between 0 and {MAX_SEED} (0 or absent: random).", param="seed"
        )
    if fields.meta_data is not None:
        _check_meta_data(fields.meta_data)
    wm_position = 3 if fields.wm_position is None else fields.wm_position
    if wm_position not in (1, 2, 3, 4):
        raise InvalidRequestError(
            "wm_position must be 1 (top-left), 2 (top-right), 3 (bottom-right) or 4 (bottom-left).",
            param="wm_position",
        )
    if fields.wm_url is not None and not fields.wm_url.startswith(("http://", "https://")):
        raise InvalidRequestError(
            "wm_url must be an http(s) URL of a watermark image.", param="wm_url"
        )
    if fields.callback_url is not None and not fields.callback_url.startswith(
        ("http://", "https://")
    ):
        raise InvalidRequestError("callback_url must be an http(s) URL.", param="callback_url")
    if fields.movement_amplitude is not None and fields.movement_amplitude not in (
        "auto",
        "small",
        "medium",
        "large",
    ):
        raise InvalidRequestError(
            "movement_amplitude must be auto, small, medium or large.", param="movement_amplitude"
        )
    _check_style(fields.style, mode)

    off_peak = bool(fields.off_peak)
    if off_peak and fields.audio:
        raise InvalidRequestError(
            "off_peak cannot be combined with audio=true; set audio=false or off_peak=false.",
            param="off_peak",
        )
    # Off-peak generation has no audio upstream, so an unstated audio follows it.
    audio = fields.audio if fields.audio is not None else (spec.audio_default and not off_peak)
    bgm = bool(fields.bgm) and "bgm" not in spec.ignored_fields
    if spec.bgm_max_duration is not None and duration > spec.bgm_max_duration:
        bgm = False
    voice_id = fields.voice_id or None

    return VideoRequest(
        model=spec.id,
        mode=mode,
        prompt=prompt,
        aspect_ratio=aspect_ratio,
        resolution=resolution,
        duration=duration,
        seed=seed,
        audio=audio,
        bgm=bgm,
        voice_id=voice_id,
        is_rec=is_rec,
        payload=fields.payload,
        off_peak=off_peak,
        watermark=bool(fields.watermark),
        wm_position=wm_position,
        wm_url=fields.wm_url,
        meta_data=fields.meta_data,
        movement_amplitude=fields.movement_amplitude,
        callback_url=fields.callback_url,
        image_count=image_count,
        style=fields.style,
        subjects=subjects,
    )


def _mode_rules(spec: ModelSpec, mode: Mode) -> ModeRules:
    rules = spec.rules.get(mode)
    if rules is None:
        raise InvalidRequestError(
            f"Model {spec.id} does not support {mode.value}; it supports "
            f"{_allowed([m.value for m in Mode if m in spec.rules])}. Models that do: "
            f"{_allowed([s.id for s in MODELS.values() if mode in s.rules])}.",
            param="model",
        )
    return rules


def _where(spec: ModelSpec, mode: Mode, rule: Callable[[ModeRules], object]) -> str:
    """ " on img2video" where the model's rule differs between modes, "" where it does not."""
    same = len({repr(rule(rules)) for rules in spec.rules.values()}) == 1
    return "" if same else f" on {mode}"


def _resolution_sets(rules: ModeRules) -> list[str]:
    return sorted({repr(offered) for _, offered in rules.duration_groups()})


def _check_style(style: str | None, mode: Mode) -> None:
    if style is None:
        return
    if mode is not Mode.TEXT:
        raise InvalidRequestError(
            f"style is a field of {Mode.TEXT} only, not of {mode}.", param="style"
        )
    if style not in STYLES:
        raise InvalidRequestError(
            f"style {style!r} is not one of {_allowed(STYLES)} (it changes viduq1's videos; "
            "other models accept it without effect).",
            param="style",
        )


def _check_image_count(spec: ModelSpec, mode: Mode, count: int) -> None:
    fewest, most = spec.image_range(mode)
    what = MODE_IMAGES[mode][2]
    # The model's own limit when it takes fewer than the mode does (vidu2.0: 3 references).
    who = f"{spec.id} on {mode}" if most < MODE_IMAGES[mode][1] else str(mode)
    if most == 0 and count:
        message = f"images: {mode} takes no images; {count} given."
    elif count > most:
        message = f"images: {who} takes at most {most} image(s) ({what}); {count} given."
    elif count < fewest:
        exactly = "exactly" if fewest == most else "at least"
        message = f"images: {mode} takes {exactly} {fewest} image(s) ({what}); {count} given."
    else:
        return
    raise InvalidRequestError(message, param="images")


def check_start_end_shapes(first: tuple[int, int], last: tuple[int, int]) -> None:
    """The first and last frames of a start-end video must have close width:height ratios."""
    low, high = START_END_RATIO
    ratio = (first[0] / first[1]) / (last[0] / last[1])
    if not low <= ratio <= high:
        raise InvalidRequestError(
            f"images: the first ({first[0]}x{first[1]}) and last ({last[0]}x{last[1]}) frames' "
            f"width:height ratios differ too much ({ratio:.2f}); they must be within "
            f"{low}..{high} of each other.",
            param="images",
        )


def _check_meta_data(text: str) -> None:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict):
        raise InvalidRequestError(
            'meta_data must be a JSON object encoded as a string, e.g. \'{"k": "v"}\'.',
            param="meta_data",
        )
