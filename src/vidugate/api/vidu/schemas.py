"""Wire schemas of Vidu's own format (vidu-upstream.md): the create body, and the answers
as documentation (the routes build them as plain dicts in api/vidu/render.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr


class ViduCreateBody(BaseModel):
    """POST /vidu/ent/v2/{text2video,img2video,start-end2video,reference2video}, JSON.
    Types are strict, as Vidu's JSON API has them: 5, not "5"."""

    # A valid text2video request (short, small); the other endpoints answer it FieldInvalid.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"model": "viduq2", "prompt": "A paper boat", "duration": 1, "resolution": "540p"}
            ]
        },
    )

    model: StrictStr = Field(description="A model serving this endpoint (GET /v1/models).")
    prompt: StrictStr | None = Field(default=None, description="At most 5000 characters.")
    images: list[StrictStr] | None = Field(
        default=None,
        description="http(s) URLs (at most 2048 characters), data URIs or base64: img2video 1 "
        "(first frame), "
        "start-end2video 2 (first, last), reference2video 1-7; text2video none.",
    )
    duration: StrictInt | None = Field(default=None, description="Seconds.")
    seed: StrictInt | None = Field(default=None, description="0..2147483647; 0 or absent: random.")
    resolution: StrictStr | None = Field(default=None, description="540p, 720p, 1080p.")
    aspect_ratio: StrictStr | None = Field(
        default=None, description="text2video and reference2video only: 16:9, 9:16, 1:1, 4:3, 3:4."
    )
    movement_amplitude: StrictStr | None = Field(
        default=None, description="auto, small, medium, large (no effect on q3)."
    )
    bgm: StrictBool | None = Field(default=None, description="Add background music.")
    audio: StrictBool | None = Field(default=None, description="Audio-video direct output.")
    voice_id: StrictStr | None = Field(
        default=None, description="Voice timbre, at most 256 characters."
    )
    is_rec: StrictBool | None = Field(default=None, description="Use a recommended prompt.")
    payload: StrictStr | None = Field(
        default=None, description="Pass-through, at most 1,048,576 characters."
    )
    off_peak: StrictBool | None = Field(default=None, description="Generate off-peak.")
    watermark: StrictBool | None = Field(default=None, description="Add a watermark.")
    wm_position: StrictInt | None = Field(
        default=None, description="1 top-left, 2 top-right, 3 bottom-right, 4 bottom-left."
    )
    wm_url: StrictStr | None = Field(
        default=None, description="http(s) URL of a watermark, at most 2048 characters."
    )
    meta_data: StrictStr | None = Field(
        default=None, description="A JSON object as a string, at most 64 KiB."
    )
    callback_url: StrictStr | None = Field(
        default=None,
        description="http(s) URL, at most 2048 characters; stored with the task, callbacks "
        "are not sent yet.",
    )


class ViduCancelBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: StrictStr | None = Field(default=None, description="The task id, as in the path.")


class ViduCreateAnswer(BaseModel):
    task_id: str = Field(description="The gateway's task id (also valid on /v1/videos).")
    state: str = Field(description="created, queueing, processing, success or failed.")
    model: str
    prompt: str
    images: list[str] | None = None
    duration: int
    seed: int = Field(description="The seed used (picked by the gateway when 0 or absent).")
    aspect_ratio: str | None = None
    resolution: str
    movement_amplitude: str
    bgm: bool
    audio: bool
    payload: str
    off_peak: bool
    watermark: bool
    credits: int = Field(description="0: billing is not implemented yet.")
    created_at: str = Field(description="ISO-8601, UTC.")


class ViduCreation(BaseModel):
    id: str
    url: str = Field(description="Signed, expiring link to the MP4; needs no key.")
    cover_url: str = Field(description="Signed, expiring link to the JPEG cover.")
    watermarked_url: str = Field(description="The watermarked MP4 when watermark was set, or ''.")


class ViduTaskStatus(BaseModel):
    id: str
    state: str = Field(description="queueing, processing, success or failed.")
    err_code: str = Field(description="Why a failed task failed ('' otherwise); TaskCanceled.")
    credits: int
    payload: str
    bgm: bool
    off_peak: bool
    creations: list[ViduCreation]


class ViduTask(ViduTaskStatus):
    type: str = Field(description="The endpoint that made it: text2video, img2video, ...")
    model: str
    prompt: str
    duration: int
    seed: int
    aspect_ratio: str | None = None
    resolution: str
    movement_amplitude: str
    created_at: str


class ViduTaskList(BaseModel):
    tasks: list[ViduTask]
    next_page_token: str = Field(description="Pass as pager.page_token; '' on the last page.")


class ViduErrorBody(BaseModel):
    code: int = Field(description="The HTTP status.")
    reason: str = Field(description="FieldInvalid, Unauthorized, TaskNotFound, ...")
    message: str
    metadata: dict[str, str] = Field(description="trace_id: the request id (X-Request-ID).")
