"""Wire schemas of the seed platform's unified format: POST /v1/video/create and
GET /v1/video/query. The answers are built as plain dicts in render.py; their models here
document them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

# JSON only, and typed as the platform's (Go) server reads it: 5, not "5"; true, not 1.
Flag = StrictBool
Integer = StrictInt
Text = StrictStr

MAX_IMAGES = 7


class UnifiedCreateBody(BaseModel):
    """POST /v1/video/create, JSON. How many images there are picks the kind of video."""

    # A valid text-to-video request (short, small), for readers and schema fuzzers.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "model": "viduq2-pro",
                    "images": [],
                    "prompt": "A paper boat",
                    "duration": 1,
                    "resolution": "540p",
                }
            ]
        },
    )

    model: Text = Field(description="A model the gateway serves (GET /v1/models).")
    images: list[Text] | None = Field(
        default=None,
        description="http(s) URLs (at most 2048 characters), base64 or data URIs; png, jpeg "
        "or webp. None or []: text-to-video; 1: image-to-video (the first frame); 2: "
        "start-end (first and last frame); 3-7: reference images. A model that serves "
        "reference-to-video but not the kind the count picks (viduq2 with 1 or 2) makes a "
        "reference video.",
    )
    prompt: Text | None = Field(
        default=None,
        description="At most 5000 characters; may be empty with is_rec=true or images.",
    )
    aspect_ratio: Text | None = Field(
        default=None,
        description="16:9 (default), 9:16, 1:1, 4:3, 3:4; with images the first one sets the "
        "frame (reference videos excepted).",
    )
    audio: Flag | None = Field(default=None, description="Audio-video direct output.")
    voice_id: Text | None = Field(default=None, description="Voice timbre, at most 256 characters.")
    is_rec: Flag | None = Field(default=None, description="Use a recommended prompt.")
    bgm: Flag | None = Field(default=None, description="Add background music.")
    duration: Integer | None = Field(default=None, description="Seconds (GET /v1/models).")
    seed: Integer | None = Field(default=None, description="0..2147483647; 0 or absent: random.")
    resolution: Text | None = Field(default=None, description="540p, 720p, 1080p, ...")
    payload: Text | None = Field(
        default=None, description="Pass-through, at most 1,048,576 characters."
    )
    off_peak: Flag | None = Field(default=None, description="Generate off-peak; not with audio.")
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


class UnifiedCreateAnswer(BaseModel):
    created_at: str = Field(
        description="RFC 3339 with its offset, e.g. 2026-01-01T15:41:31.968916+00:00."
    )
    status: str = Field(description="processing (completed or failed on an idempotent replay).")
    task_id: str = Field(description="The gateway's task id; it reads on every surface.")


class UnifiedError(BaseModel):
    code: str = Field(description="Why it failed; cancelled for a cancelled task.")
    message: str


class UnifiedTask(BaseModel):
    id: str
    status: str = Field(
        description="processing (also while queued), completed, or failed (also when "
        "cancelled: then error.code is cancelled)."
    )
    progress: int = Field(description="0..100.")
    created_at: int = Field(description="Unix seconds.")
    completed_at: int | None = Field(default=None, description="Unix seconds; when completed.")
    video_url: str | None = Field(
        default=None, description="When completed: a signed, expiring link; needs no key."
    )
    error: UnifiedError | None = Field(default=None, description="When failed.")


class PlatformTaskStatus(BaseModel):
    """GET /vidu/ent/v2/task/{id}/creations (task, singular): the seed platform's query."""

    id: str
    status: str = Field(description="processing (also while queued), completed or failed.")
    video_url: str | None = Field(
        default=None, description="Only when completed: a signed, expiring link; needs no key."
    )
    status_update_time: int = Field(description="Unix seconds the status last changed.")
