"""Wire schemas of Vidu's own format (vidu-upstream.md): the create body, and the answers
as documentation (the routes build them as plain dicts in api/vidu/render.py)."""

from __future__ import annotations

from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr


class ViduSubject(BaseModel):
    """One subject of reference2video's subject form (Vidu's own shape)."""

    model_config = ConfigDict(extra="forbid")

    id: StrictStr = Field(
        description="The subject's id, named in the prompt as @id: a word of at most 64 "
        "characters, one per subject."
    )
    images: list[StrictStr] = Field(
        description="1-3 images of this subject: http(s) URLs, data URIs or base64."
    )
    voice_id: StrictStr | None = Field(
        default=None, description="The subject's voice (with audio=true), at most 256 characters."
    )


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
    prompt: StrictStr | None = Field(
        default=None,
        description="At most 5000 characters (2000 for q2, q1 and 2.0 models outside "
        "text2video: GET /v1/models).",
    )
    images: list[StrictStr] | None = Field(
        default=None,
        description="http(s) URLs (at most 2048 characters), data URIs or base64: img2video 1 "
        "(first frame), "
        "start-end2video 2 (first, last), reference2video 1-7 (vidu2.0: 1-3); text2video "
        "none.",
    )
    subjects: list[ViduSubject] | None = Field(
        default=None,
        description="reference2video, instead of images: 1-7 subjects {id, images, voice_id}, "
        "1-3 images each, at most 7 in all (vidu2.0: 3).",
    )
    duration: StrictInt | None = Field(default=None, description="Seconds.")
    seed: StrictInt | None = Field(default=None, description="0..2147483647; 0 or absent: random.")
    resolution: StrictStr | None = Field(
        default=None, description="360p (vidu2.0), 540p, 720p, 1080p, as the model takes them."
    )
    aspect_ratio: StrictStr | None = Field(
        default=None, description="text2video and reference2video only: 16:9, 9:16, 1:1, 4:3, 3:4."
    )
    movement_amplitude: StrictStr | None = Field(
        default=None, description="auto, small, medium, large (no effect on q3)."
    )
    style: StrictStr | None = Field(
        default=None,
        description="text2video only: general or anime (viduq1; no effect on q2 and q3).",
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
        description="http(s) URL, at most 2048 characters: gets the task document (as a "
        "status query answers it) on processing and on each end, signed per Standard "
        "Webhooks (docs/webhooks.md).",
    )

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The schema with the subject's inlined: the routes put it into the OpenAPI
        document as is, where a "#/$defs/..." reference would point at nothing."""
        schema = super().model_json_schema(*args, **kwargs)
        definitions = schema.pop("$defs", {})
        return cast(dict[str, Any], _inlined(schema, definitions))


def _inlined(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inlined(definitions[ref.removeprefix("#/$defs/")], definitions)
        return {key: _inlined(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [_inlined(item, definitions) for item in node]
    return node


class ViduCancelBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: StrictStr | None = Field(default=None, description="The task id, as in the path.")


class ViduCreateAnswer(BaseModel):
    task_id: str = Field(description="The gateway's task id (also valid on /v1/videos).")
    state: str = Field(description="created, queueing, processing, success or failed.")
    status: str = Field(description="The seed platform's word: processing, completed or failed.")
    model: str
    prompt: str
    images: list[str] | None = Field(
        default=None, description="As given; a subject form's images, in subjects' order."
    )
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
    created_at: str | int = Field(
        description="Vidu's ISO-8601 string (UTC) for Authorization: Token, the platform's "
        "unix seconds for Bearer; X-Vidugate-Vidu-Dialect chooses."
    )


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
