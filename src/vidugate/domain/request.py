"""A video request: the fields a client may give, and the rules that turn them into
what a provider is asked to make. Pure; every rejection names its field."""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from dataclasses import fields as dataclass_fields

from vidugate.domain.models import MODELS, Mode, ModelSpec, frame_size, frame_size_for_shape
from vidugate.errors import InvalidRequestError

MAX_SEED = 2_147_483_647
# Every text a create takes has a cap of its own (README, "Field caps"): the body limit is
# sized for an image as base64 (~74 MB), and a text kept with its task is stored, echoed
# in every answer about it and cached, so without a cap one request could grow them all.
MAX_PAYLOAD_CHARS = 1_048_576  # Vidu's own cap
MAX_META_DATA_BYTES = 65_536  # its JSON text, in UTF-8
MAX_URL_CHARS = 2048
MAX_VOICE_ID_CHARS = 256
MAX_NAME_CHARS = 64  # a name from a short list (model, size, ...): anything longer is no name
MAX_IDEMPOTENCY_KEY_CHARS = 255
TEXT_CAPS = {
    "model": MAX_NAME_CHARS,
    "aspect_ratio": MAX_NAME_CHARS,
    "resolution": MAX_NAME_CHARS,
    "size": MAX_NAME_CHARS,
    "movement_amplitude": MAX_NAME_CHARS,
    "prompt": max(spec.max_prompt_chars for spec in MODELS.values()),
    "voice_id": MAX_VOICE_ID_CHARS,
    "wm_url": MAX_URL_CHARS,
    "callback_url": MAX_URL_CHARS,
    "payload": MAX_PAYLOAD_CHARS,
}
# Fields that take images; an http(s) URL among them is capped like any URL (base64 and
# data URIs are capped by the image's own byte limit, VIDUGATE_MAX_IMAGE_BYTES).
IMAGE_FIELDS = ("images", "input_reference")
# About what a request holds besides its long texts, and what a task holds besides its
# request (measured: ~1.2 KB for both), for caches' byte budgets.
REQUEST_OVERHEAD = 1024
# (fewest, most) images per mode, and what they are: Vidu's four create endpoints.
IMAGE_COUNTS = {
    Mode.TEXT: (0, 0, "none"),
    Mode.IMAGE: (1, 1, "the first frame"),
    Mode.START_END: (2, 2, "the first and the last frame"),
    Mode.REFERENCE: (1, 7, "reference images"),
}
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
    # Stored for the day callbacks are delivered; nothing sends them yet.
    callback_url: str | None = None
    image_count: int = 0
    # Set once the images are known: the shape of the video actually produced.
    width: int = 0
    height: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def spec(self) -> ModelSpec:
        return MODELS[self.model]

    def approx_bytes(self) -> int:
        """About the memory this request holds, for caches' byte budgets."""
        texts = [self.prompt, self.payload, self.meta_data, self.voice_id, self.wm_url]
        texts += [self.callback_url, *self.extra.keys(), *self.extra.values()]
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


def check_caps(values: Mapping[str, object]) -> None:
    """Every text among a create's fields (by name, as given on any surface) within its cap:
    checked before anything reads, echoes or keeps them."""
    for name, value in values.items():
        if name in IMAGE_FIELDS:
            _check_image_texts(name, value)
        elif isinstance(value, str):
            if name == "meta_data":
                _check_meta_data_size(value)
            elif name in TEXT_CAPS and len(value) > TEXT_CAPS[name]:
                raise InvalidRequestError(
                    f"{name} has {len(value)} characters; at most {TEXT_CAPS[name]} are allowed.",
                    param=name,
                )


def check_idempotency_key(value: str | None) -> None:
    if value is not None and len(value) > MAX_IDEMPOTENCY_KEY_CHARS:
        raise InvalidRequestError(
            f"Idempotency-Key has {len(value)} characters; at most "
            f"{MAX_IDEMPOTENCY_KEY_CHARS} are allowed.",
            param="Idempotency-Key",
        )


def _check_image_texts(name: str, value: object) -> None:
    if isinstance(value, dict):  # input_reference: {"image_url": ...}
        texts = [(f"{name}.{key}", item) for key, item in value.items()]
    elif isinstance(value, list):
        texts = [(f"{name}[{index}]", item) for index, item in enumerate(value)]
    else:
        texts = [(name, value)]
    for param, text in texts:
        if (
            isinstance(text, str)
            and len(text) > MAX_URL_CHARS
            and text.lstrip()[:8].lower().startswith(("http://", "https://"))
        ):
            raise InvalidRequestError(
                f"{param}: an image URL has at most {MAX_URL_CHARS} characters; this one has "
                f"{len(text)} (large images go as base64, a data URI or a file part).",
                param=param,
            )


def _check_meta_data_size(text: str) -> None:
    # len() first: a text of more characters than the cap is over it in any encoding.
    size = len(text) if len(text) > MAX_META_DATA_BYTES else len(text.encode())
    if size > MAX_META_DATA_BYTES:
        raise InvalidRequestError(
            f"meta_data must be a JSON object of at most {MAX_META_DATA_BYTES} bytes (64 KiB) "
            f"as UTF-8 text; this one has at least {size}.",
            param="meta_data",
        )


def build_request(fields: VideoFields, *, mode: Mode, image_count: int) -> VideoRequest:
    """Apply the model's rules and defaults. Images are counted here and inspected elsewhere."""
    check_caps({f.name: getattr(fields, f.name) for f in dataclass_fields(fields)})
    spec = model_spec(fields.model)
    if mode not in spec.modes:
        raise InvalidRequestError(
            f"Model {spec.id} does not support {mode.value}; it supports "
            f"{_allowed(sorted(m.value for m in spec.modes))}.",
            param="model",
        )
    _check_image_count(mode, image_count)

    is_rec = bool(fields.is_rec)
    prompt = fields.prompt or ""
    if len(prompt) > spec.max_prompt_chars:
        raise InvalidRequestError(
            f"prompt has {len(prompt)} characters; at most {spec.max_prompt_chars} are allowed.",
            param="prompt",
        )
    if not prompt.strip() and not is_rec and image_count == 0:
        raise InvalidRequestError(
            "prompt is required: a non-empty text (it may be empty only with is_rec=true "
            "or an image).",
            param="prompt",
            code="missing_required_parameter" if fields.prompt is None else "invalid_value",
        )

    aspect_ratio = fields.aspect_ratio or spec.default_aspect_ratio
    if aspect_ratio not in spec.aspect_ratios:
        raise InvalidRequestError(
            f"aspect_ratio {aspect_ratio!r} is not supported by {spec.id}; "
            f"allowed: {_allowed(spec.aspect_ratios)}.",
            param="aspect_ratio",
        )
    resolution = fields.resolution or spec.default_resolution
    if resolution not in spec.resolutions:
        raise InvalidRequestError(
            f"resolution {resolution!r} is not supported by {spec.id}; "
            f"allowed: {_allowed(spec.resolutions)}.",
            param="resolution",
        )
    duration = spec.default_duration if fields.duration is None else fields.duration
    if duration not in spec.durations_for(mode):
        where = spec.id if spec.durations_for(mode) == spec.durations else f"{spec.id} {mode}"
        raise InvalidRequestError(
            f"duration {duration} is out of range for {where}; allowed: "
            f"{spec.describe_durations(mode)} seconds.",
            param="duration",
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
    )


def _check_image_count(mode: Mode, count: int) -> None:
    fewest, most, what = IMAGE_COUNTS[mode]
    if most == 0 and count:
        message = f"images: {mode} takes no images; {count} given."
    elif count > most:
        message = f"images: {mode} takes at most {most} image(s) ({what}); {count} given."
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
