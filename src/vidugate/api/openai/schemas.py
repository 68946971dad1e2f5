"""Wire schemas of the seed's / OpenAI's surface: the create body and the objects returned."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _as_bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ValueError("must be true or false (multipart: true/false or 1/0)")


def _as_int(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be an integer, not a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit() and len(text) <= 20:
            return int(text)
    raise ValueError("must be an integer")


def _as_str(value: Any) -> Any:
    if isinstance(value, str):
        return value
    raise ValueError("must be a string")


Flag = Annotated[bool, BeforeValidator(_as_bool)]
Integer = Annotated[int, BeforeValidator(_as_int)]
Text = Annotated[str, BeforeValidator(_as_str)]


class CreateVideoBody(BaseModel):
    """POST /v1/videos, as JSON or as multipart/form-data (the same fields either way)."""

    # The example is a valid request (short, small), so documentation readers and schema
    # fuzzers (tests/reliability) start from a body that reaches a real task.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"model": "viduq2-pro", "prompt": "A paper boat", "duration": 1, "size": "960x540"}
            ]
        },
    )

    model: Text = Field(description="A model with text2video or img2video (GET /v1/models).")
    prompt: Text | None = Field(
        default=None,
        description="What to generate; at most 5000 characters. May be empty with is_rec=true "
        "or an image.",
    )
    images: Text | list[Text] | None = Field(
        default=None,
        description="One reference image (image-to-video): a file part in multipart, or base64, "
        "a data URI or an http(s) URL (at most 2048 characters). png, jpeg or webp; at most 50 MB; "
        "ratio within 1:4..4:1.",
    )
    aspect_ratio: Text | None = Field(
        default=None, description="16:9 (default), 9:16, 1:1, 4:3, 3:4."
    )
    audio: Flag | None = Field(
        default=None, description="Audio-video direct output; q3 default true, others false."
    )
    voice_id: Text | None = Field(
        default=None, description="Voice timbre, at most 256 characters; no effect on q3."
    )
    is_rec: Flag | None = Field(default=None, description="Use a recommended prompt.")
    bgm: Flag | None = Field(
        default=None, description="Add background music; no effect on q3, nor on q2 at 9-10 s."
    )
    duration: Integer | None = Field(
        default=None, description="Seconds: q2 models 1-10, q3 models 1-16; default 5."
    )
    seed: Integer | None = Field(default=None, description="0..2147483647; 0 or absent: random.")
    resolution: Text | None = Field(
        default=None, description="360p, 540p, 720p, 1080p, as the model takes them."
    )
    payload: Text | None = Field(
        default=None, description="Pass-through, at most 1,048,576 characters."
    )
    off_peak: Flag | None = Field(
        default=None, description="Generate off-peak (cheaper, up to 48 h); not with audio=true."
    )
    watermark: Flag | None = Field(default=None, description="Add a watermark.")
    wm_position: Integer | None = Field(
        default=None,
        description="1 top-left, 2 top-right, 3 bottom-right (default), 4 bottom-left.",
    )
    wm_url: Text | None = Field(
        default=None, description="http(s) URL of a watermark image, at most 2048 characters."
    )
    meta_data: Text | None = Field(
        default=None, description="A JSON object as a string, at most 64 KiB; pass-through."
    )
    webhook_url: Text | None = Field(
        default=None,
        description="http(s) URL, at most 2048 characters, that gets this video's "
        "video.processing and final events, signed (docs/webhooks.md).",
    )
    # OpenAI's names for the same things, so the openai SDK works unchanged.
    seconds: Integer | None = Field(default=None, description="OpenAI alias of duration.")
    size: Text | None = Field(
        default=None, description="OpenAI alias: WxH, e.g. 1280x720 (= aspect_ratio + resolution)."
    )
    input_reference: Text | dict[str, Text] | None = Field(
        default=None,
        description="OpenAI alias of images: a file part, or {image_url: ...} "
        "(multipart: input_reference[image_url]).",
    )


class VideoError(BaseModel):
    code: str
    message: str


class Price(BaseModel):
    """A video's price in the operator's currency; amounts are exact decimal strings."""

    amount: str = Field(description="What the video was priced at when it was created.")
    currency: str
    state: Literal["reserved", "settled", "refunded"] = Field(
        description="reserved: held from the balance while the video is made; settled: "
        "charged; refunded: given back in full (a failure, or a cancel before the upstream "
        "began)."
    )
    charged: str | None = Field(
        description="The net charge once settled or refunded (a cancel after the upstream "
        "began is charged per the gateway's cancel policy); null while reserved."
    )


class VideoObject(BaseModel):
    id: str
    object: Literal["video"] = "video"
    model: str
    status: str = Field(
        description="queued, processing, completed, failed, cancelled; OpenAI SDK clients see "
        "in_progress for processing, and failed (error.code cancelled) for cancelled."
    )
    progress: int
    created_at: int
    completed_at: int | None
    expires_at: int | None
    size: str
    seconds: str
    quality: str
    prompt: str
    seed: int
    aspect_ratio: str
    resolution: str
    video_url: str | None = Field(description="Signed, expiring link; works without a key.")
    thumbnail_url: str | None
    spritesheet_url: str | None = Field(
        default=None, description="Signed link to the JPEG grid of frames (variant=spritesheet)."
    )
    error: VideoError | None
    payload: str | None = None
    meta_data: str | None = None
    remixed_from_video_id: str | None = None
    price: Price | None = Field(
        default=None, description="null when no price table was in force at its creation."
    )


class VideoList(BaseModel):
    object: Literal["list"] = "list"
    data: list[VideoObject]
    first_id: str | None
    last_id: str | None
    has_more: bool


class VideoDeleted(BaseModel):
    id: str
    object: Literal["video.deleted"] = "video.deleted"
    deleted: bool


class ResolutionChoice(BaseModel):
    durations: list[int] = Field(description="The durations these resolutions apply to.")
    allowed: list[str]
    default: str


class EndpointRules(BaseModel):
    """What a model takes on one Vidu endpoint (create mode): GET /v1/models' endpoints."""

    durations: list[int]
    default_duration: int
    resolutions: list[ResolutionChoice] = Field(
        description="By duration: vidu2.0 makes 8 s videos at 720p only."
    )
    frame: Literal["aspect_ratio", "image"] = Field(
        description="What sets the frame's shape: the aspect_ratio, or the input image."
    )
    aspect_ratios: list[str] = Field(description="Ratios taken where the aspect_ratio does.")
    default_aspect_ratio: str
    images: dict[str, int] = Field(description="min and max input images.")
    max_prompt_chars: int


class PriceAdjustment(BaseModel):
    """A surcharge or discount of a price table; amounts are exact decimal strings."""

    when: str = Field(
        description="What it applies to: audio, is_rec, off_peak, bgm (the request asks for "
        "it) or a mode (text2video, img2video, start-end2video, reference2video)."
    )
    add: str = Field(description="A flat amount per video (may be negative).")
    per_second: str = Field(description="An amount per second of video (may be negative).")
    percent: str = Field(description="A percent of the subtotal (base + per-second part).")


class ModelPricing(BaseModel):
    """How a model is priced on this gateway: base + per_second[resolution] * duration,
    then every adjustment that applies, rounded half-up to `decimals` places."""

    currency: str
    decimals: int = Field(description="The places a price is rounded to.")
    base: str = Field(description="A flat amount per video.")
    per_second: dict[str, str] = Field(description="The price per second, by resolution.")
    adjustments: list[PriceAdjustment] = Field(
        description="The table's adjustments, then the model's, in the order they apply."
    )


class ModelObject(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str
    description: str
    durations: dict[str, int] = Field(
        description="min, max, default; the endpoints may take fewer (see endpoints)."
    )
    resolutions: list[str]
    default_resolution: str
    aspect_ratios: list[str]
    default_aspect_ratio: str
    sizes: list[str]
    audio_default: bool
    modes: list[str]
    ignored_fields: list[str]
    notes: list[str]
    max_prompt_chars: int = Field(description="The longest prompt any endpoint takes.")
    endpoints: dict[str, EndpointRules] = Field(
        description="Per Vidu endpoint: text2video, img2video, start-end2video, reference2video."
    )
    pricing: ModelPricing | None = Field(
        default=None,
        description="What a video of this model costs here. null when no price table is set "
        "(nothing is charged), or when the table in force does not price this model (it "
        "cannot be created then).",
    )


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelObject]


class ErrorDetail(BaseModel):
    message: str = Field(description="What was wrong and, for a bad field, what it allows.")
    type: str = Field(description="invalid_request_error, rate_limit_error, api_error, ...")
    param: str | None = Field(description="The field (or header) at fault, if one is.")
    code: str = Field(description="invalid_value, not_found, too_large, ...")


class ErrorResponse(BaseModel):
    """OpenAI's error envelope: every error on /v1 (and outside /vidu/) has this body."""

    error: ErrorDetail


def _as_read(schema: dict[str, Any]) -> dict[str, Any]:
    """The create body's schema widened to what its fields take: a flag is also 0/1 or
    "true"/"false", an integer also its digits as a string, as multipart sends them, so a
    client or a fuzzer can hold the create and the quote to it."""
    properties = {}
    for name, field in schema["properties"].items():
        alternatives = field["anyOf"] if "anyOf" in field else [{"type": field.get("type")}]
        kinds = [kind.get("type") for kind in alternatives]
        extra: list[dict[str, Any]] = []
        if "boolean" in kinds:
            extra = [{"type": "integer", "enum": [0, 1]}, {"type": "string", "pattern": _FLAG}]
        elif "integer" in kinds:
            extra = [{"type": "string", "pattern": r"^\s*-?\d{1,20}\s*$"}]
        if extra:
            others = {key: value for key, value in field.items() if key not in ("anyOf", "type")}
            field = {**others, "anyOf": [*alternatives, *extra]}
        properties[name] = field
    return {**schema, "properties": properties}


_FLAG = r"^\s*([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|[01])\s*$"
_CREATE_SCHEMA = _as_read(CreateVideoBody.model_json_schema())
# The OpenAPI `content` of a create's body (POST /v1/videos and its quote): JSON, or
# multipart with the image as a file part.
CREATE_CONTENT: dict[str, Any] = {
    "application/json": {"schema": _CREATE_SCHEMA},
    "multipart/form-data": {
        "schema": {
            **_CREATE_SCHEMA,
            "properties": {
                **_CREATE_SCHEMA["properties"],
                "images": {"type": "string", "format": "binary", "description": "Image file part."},
                "input_reference": {"type": "string", "format": "binary"},
                "input_reference[image_url]": {"type": "string"},
            },
        }
    },
}
