"""Validate a create body against the endpoint and model tables of `catalog`.

Every refusal is 400 `FieldInvalid` whose message starts with the field's name, so a test (or
the gateway's error mapping) can tell which field was wrong. Choices where vidu-upstream.md
is silent:
- unknown fields are ignored (as JSON APIs usually do); known fields are type-checked
  strictly (a string "5" is not a duration, `true` is not a number);
- `aspect_ratio` on img2video / start-end2video is refused, not ignored: the image sets the
  frame and a caller sending one has a bug worth hearing about; same for `is_rec` outside
  img2video and any `movement_amplitude` on q3 (Vidu: "not effective" there, and refused);
- `audio` defaults to true on q3 models (they make sound with the picture) and false on
  others; `off_peak` with audio is accepted and the task later fails with
  `AudioNotSupportedOffPeak` (see `core`), which is how the doc describes it ("a failed
  task's err_code names why");
- `style` must be "general" or "anime" when given; it only changes anything on q1;
- `seed` 0 or absent means "pick one": the create answer echoes the seed chosen;
- reference2video's subject form (`subjects: [{id, images, voice_id}]`) and its flat
  `images` are one or the other: both is refused; a subject's id must be a non-empty
  string, its images 1-3, and all subjects' images together count as the endpoint's images
  (the create answer echoes them as `images`, in order, as Vidu's example shows).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from vidugate.emulator.catalog import (
    ENDPOINT_MODELS,
    IMAGE_COUNTS,
    MAX_SUBJECT_IMAGES,
    MAX_SUBJECTS,
    START_END_RATIO_RANGE,
    TAKES_ASPECT_RATIO,
    Endpoint,
    ModelRule,
    rule_for,
)
from vidugate.emulator.errors import field_invalid
from vidugate.emulator.images import InputImage, is_http_url, parse_image

MAX_PAYLOAD_CHARS = 1_048_576
MAX_SEED = 2**32 - 1
MOVEMENTS = ("auto", "small", "medium", "large")
STYLES = ("general", "anime")
_MISSING = object()


@dataclass(frozen=True, slots=True)
class CreateRequest:
    endpoint: Endpoint
    model: str
    prompt: str
    images: tuple[str, ...]  # as sent, echoed in the create answer
    inputs: tuple[InputImage, ...]
    duration: int
    seed: int  # 0: the emulator picks one
    aspect_ratio: str | None  # None where the endpoint takes none
    resolution: str
    movement_amplitude: str
    bgm: bool
    audio: bool
    voice_id: str
    is_rec: bool
    payload: str
    off_peak: bool
    watermark: bool
    wm_position: int
    wm_url: str
    meta_data: str
    callback_url: str
    style: str
    # The subject form: (id, number of its images, voice_id); its images are `images`.
    subjects: tuple[tuple[str, int, str], ...] = ()


def _get(body: dict[str, object], name: str) -> object:
    value = body.get(name, _MISSING)
    return _MISSING if value is None else value


def _bool(body: dict[str, object], name: str, default: bool) -> bool:
    value = _get(body, name)
    if value is _MISSING:
        return default
    if not isinstance(value, bool):
        raise field_invalid(f"{name}: must be a boolean")
    return value


def _int(body: dict[str, object], name: str, default: int) -> int:
    value = _get(body, name)
    if value is _MISSING:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise field_invalid(f"{name}: must be an integer")
    return value


def _str(body: dict[str, object], name: str, default: str = "") -> str:
    value = _get(body, name)
    if value is _MISSING:
        return default
    if not isinstance(value, str):
        raise field_invalid(f"{name}: must be a string")
    return value


def _choice(body: dict[str, object], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = _str(body, name, default)
    if value not in allowed:
        raise field_invalid(f"{name}: {value!r} is not allowed; choose one of {', '.join(allowed)}")
    return value


def _url(body: dict[str, object], name: str) -> str:
    value = _str(body, name)
    if value and not is_http_url(value):
        raise field_invalid(f"{name}: must be an http(s) URL")
    return value


def _images(
    body: dict[str, object], endpoint: Endpoint, rule: ModelRule
) -> tuple[tuple[str, ...], list[InputImage], tuple[tuple[str, int, str], ...]]:
    low, high = IMAGE_COUNTS[endpoint]
    if endpoint is Endpoint.REFERENCE:
        high = min(high, rule.max_images)
    subjects = _get(body, "subjects")
    if subjects is not _MISSING and endpoint is Endpoint.REFERENCE:
        return _subject_images(body, subjects, low, high)
    value = _get(body, "images")
    raw: list[object] = []
    if isinstance(value, list):
        raw = value
    elif value is not _MISSING:
        raise field_invalid("images: must be an array of strings")
    if not low <= len(raw) <= high:
        wanted = (
            "no images" if high == 0 else f"exactly {low}" if low == high else f"{low} to {high}"
        )
        raise field_invalid(f"images: {endpoint} takes {wanted} image(s), got {len(raw)}")
    inputs = [parse_image(item, f"images[{i}]") for i, item in enumerate(raw)]
    return tuple(str(item) for item in raw), inputs, ()


def _subject_images(
    body: dict[str, object], value: object, low: int, high: int
) -> tuple[tuple[str, ...], list[InputImage], tuple[tuple[str, int, str], ...]]:
    if _get(body, "images") is not _MISSING:
        raise field_invalid("subjects: give subjects or images, not both")
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_SUBJECTS:
        raise field_invalid(f"subjects: must be an array of 1 to {MAX_SUBJECTS} subjects")
    raw: list[object] = []
    subjects = []
    for number, subject in enumerate(value):
        where = f"subjects[{number}]"
        if not isinstance(subject, dict):
            raise field_invalid(f"{where}: must be an object with id and images")
        subject_id = subject.get("id")
        if not isinstance(subject_id, str) or not subject_id:
            raise field_invalid(f"{where}.id: required, a non-empty string")
        voice_id = subject.get("voice_id") or ""
        if not isinstance(voice_id, str):
            raise field_invalid(f"{where}.voice_id: must be a string")
        images = subject.get("images")
        if not isinstance(images, list) or not 1 <= len(images) <= MAX_SUBJECT_IMAGES:
            raise field_invalid(f"{where}.images: 1 to {MAX_SUBJECT_IMAGES} images per subject")
        subjects.append((subject_id, len(images), voice_id))
        raw.extend(images)
    if not low <= len(raw) <= high:
        raise field_invalid(f"subjects: {low} to {high} images in all, got {len(raw)}")
    inputs = []
    for number, (_, count, _) in enumerate(subjects):
        start = sum(s[1] for s in subjects[:number])
        for index in range(count):
            inputs.append(parse_image(raw[start + index], f"subjects[{number}].images[{index}]"))
    return tuple(str(item) for item in raw), inputs, tuple(subjects)


def _check_start_end(inputs: list[InputImage]) -> None:
    first, last = inputs
    if first.source == "data" and last.source == "data":
        ratio = (first.width / first.height) / (last.width / last.height)
        low, high = START_END_RATIO_RANGE
        if not low <= ratio <= high:
            raise field_invalid(
                f"images: the first and last images' aspect ratios differ too much "
                f"({first.width}x{first.height} vs {last.width}x{last.height}); "
                f"their quotient must be within {low}..{high}"
            )


def parse_create(endpoint: Endpoint, body: object) -> CreateRequest:
    """The validated request, or ViduError 400 FieldInvalid naming the field."""
    if not isinstance(body, dict):
        raise field_invalid("body: must be a JSON object")
    models = ENDPOINT_MODELS[endpoint]
    model = _str(body, "model")
    if model not in models:
        shown = repr(model) if model else "missing"
        raise field_invalid(
            f"model: {shown} is not available on {endpoint}; use {', '.join(models)}"
        )
    rule = rule_for(endpoint, model)
    prompt = _str(body, "prompt")
    if endpoint in (Endpoint.TEXT, Endpoint.REFERENCE) and not prompt.strip():
        raise field_invalid(f"prompt: required for {endpoint}")
    if len(prompt) > rule.prompt_max:
        raise field_invalid(f"prompt: at most {rule.prompt_max} characters for {model}")
    images, inputs, subjects = _images(body, endpoint, rule)
    if endpoint is Endpoint.START_END:
        _check_start_end(inputs)
    durations = rule.durations
    duration = _int(body, "duration", rule.default_duration)
    if duration not in durations:
        allowed = f"{durations[0]}-{durations[-1]}" if len(durations) > 2 else str(durations)
        raise field_invalid(
            f"duration: {duration} is not allowed for {model} on {endpoint} ({allowed})"
        )
    seed = _int(body, "seed", 0)
    if not 0 <= seed <= MAX_SEED:
        raise field_invalid(f"seed: must be between 0 and {MAX_SEED}")
    aspect_ratio: str | None = None
    if endpoint in TAKES_ASPECT_RATIO:
        aspect_ratio = _choice(body, "aspect_ratio", rule.ratios, "16:9")
    elif _get(body, "aspect_ratio") is not _MISSING:
        raise field_invalid(f"aspect_ratio: not accepted by {endpoint}; the image sets the frame")
    resolutions, default_resolution = rule.resolutions_at(duration)
    resolution = _choice(body, "resolution", resolutions, default_resolution)
    if not rule.takes_movement and _get(body, "movement_amplitude") is not _MISSING:
        raise field_invalid(f"movement_amplitude: not accepted by {model}")
    movement = _choice(body, "movement_amplitude", MOVEMENTS, "auto")
    is_rec = _bool(body, "is_rec", False)
    if is_rec and endpoint is not Endpoint.IMAGE:
        raise field_invalid(f"is_rec: only img2video takes is_rec, not {endpoint}")
    payload = _str(body, "payload")
    if len(payload) > MAX_PAYLOAD_CHARS:
        raise field_invalid(f"payload: at most {MAX_PAYLOAD_CHARS} characters")
    wm_position = _int(body, "wm_position", 3)
    if wm_position not in (1, 2, 3, 4):
        raise field_invalid("wm_position: must be 1, 2, 3 or 4")
    meta_data = _str(body, "meta_data")
    if meta_data:
        try:
            json.loads(meta_data)
        except ValueError:
            raise field_invalid("meta_data: must be a string holding JSON") from None
    return CreateRequest(
        endpoint=endpoint,
        model=model,
        prompt=prompt,
        images=images,
        inputs=tuple(inputs),
        duration=duration,
        seed=seed,
        aspect_ratio=aspect_ratio,
        resolution=resolution,
        movement_amplitude=movement,
        bgm=_bool(body, "bgm", False),
        audio=_bool(body, "audio", model.startswith("viduq3")),
        voice_id=_str(body, "voice_id"),
        is_rec=is_rec,
        payload=payload,
        off_peak=_bool(body, "off_peak", False),
        watermark=_bool(body, "watermark", False),
        wm_position=wm_position,
        wm_url=_url(body, "wm_url"),
        meta_data=meta_data,
        callback_url=_url(body, "callback_url"),
        style=_choice(body, "style", STYLES, "general"),
        subjects=subjects,
    )
