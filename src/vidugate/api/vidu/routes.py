"""/vidu/ent/v2/... routes: Vidu's own paths, bodies and answers over the gateway's tasks, so
code written for Vidu's API only changes its base URL and key. Errors are Vidu's envelope
(api/errors.py picks it by the /vidu/ prefix)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from starlette.responses import JSONResponse, Response

from vidugate.api.body import VIDU_WORDS, read_json, validated
from vidugate.api.deps import ApiKeyDep, CreatorKeyDep, SettingsDep, SignerDep, VideoServiceDep
from vidugate.api.links import base_url
from vidugate.api.responses import vidu_errors
from vidugate.api.unified.schemas import PlatformTaskStatus
from vidugate.api.vidu import listing
from vidugate.api.vidu.body import read_new_video
from vidugate.api.vidu.render import (
    DIALECT_HEADER,
    create_answer,
    list_entry,
    platform_dialect,
    platform_document,
    state_of,
    status_document,
)
from vidugate.api.vidu.schemas import (
    ViduCancelBody,
    ViduCreateAnswer,
    ViduCreateBody,
    ViduTaskList,
    ViduTaskStatus,
)
from vidugate.domain.keys import ApiKey
from vidugate.domain.models import Mode
from vidugate.errors import ConflictError, InvalidRequestError
from vidugate.services.videos import VideoService
from vidugate.settings import Settings

router = APIRouter(prefix="/vidu/ent/v2", tags=["vidu"])

_CREATE: dict[str, Any] = {
    "response_model": ViduCreateAnswer,
    "responses": vidu_errors(401, 402, 408, 409, 413, 415),
    "openapi_extra": {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ViduCreateBody.model_json_schema()}},
        }
    },
}
IdempotencyKey = Annotated[
    str | None,
    Header(alias="idempotency-key", description="At most 255 characters (checked on create)."),
]
CANCEL_BODY_LIMIT = 64 * 1024


DialectHeader = Annotated[
    str | None,
    Header(
        alias=DIALECT_HEADER.lower(),
        description="created_at in the answer: vidu (an ISO string) or platform (unix "
        "seconds). Without it: vidu for Authorization: Token, platform for Bearer "
        "(VIDUGATE_VIDU_DIALECT can fix one for everyone).",
        json_schema_extra={"enum": ["vidu", "platform"]},
    ),
]


async def _create(
    mode: Mode,
    request: Request,
    key: ApiKey,
    videos: VideoService,
    settings: Settings,
    idempotency_key: str | None,
    dialect: str | None,
) -> Response:
    # Read before anything is made: a bad header must not leave a task behind its 400.
    platform = platform_dialect(
        dialect, request.headers.get("authorization"), settings.vidu_dialect
    )
    new, images = await read_new_video(
        request,
        mode,
        max_image_bytes=settings.max_image_bytes,
        idempotency_key=idempotency_key,
    )
    task = await videos.create(key, new)
    return JSONResponse(create_answer(task, images, platform=platform))


@router.post("/text2video", operation_id="vidu_text2video", **_CREATE)
async def text2video(
    request: Request,
    key: CreatorKeyDep,
    videos: VideoServiceDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
    dialect: DialectHeader = None,
) -> Response:
    return await _create(Mode.TEXT, request, key, videos, settings, idempotency_key, dialect)


@router.post("/img2video", operation_id="vidu_img2video", **_CREATE)
async def img2video(
    request: Request,
    key: CreatorKeyDep,
    videos: VideoServiceDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
    dialect: DialectHeader = None,
) -> Response:
    return await _create(Mode.IMAGE, request, key, videos, settings, idempotency_key, dialect)


@router.post("/start-end2video", operation_id="vidu_start_end2video", **_CREATE)
async def start_end2video(
    request: Request,
    key: CreatorKeyDep,
    videos: VideoServiceDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
    dialect: DialectHeader = None,
) -> Response:
    return await _create(Mode.START_END, request, key, videos, settings, idempotency_key, dialect)


@router.post("/reference2video", operation_id="vidu_reference2video", **_CREATE)
async def reference2video(
    request: Request,
    key: CreatorKeyDep,
    videos: VideoServiceDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
    dialect: DialectHeader = None,
) -> Response:
    return await _create(Mode.REFERENCE, request, key, videos, settings, idempotency_key, dialect)


@router.get(
    "/tasks/{task_id}/creations",
    operation_id="vidu_get_creations",
    response_model=ViduTaskStatus,
    responses=vidu_errors(401, 404),
)
async def get_creations(
    task_id: str,
    request: Request,
    key: ApiKeyDep,
    videos: VideoServiceDep,
    signer: SignerDep,
    settings: SettingsDep,
) -> Response:
    task = await videos.get(key, task_id)
    return JSONResponse(status_document(task, signer, base_url(request, settings)))


@router.get(
    "/task/{task_id}/creations",
    operation_id="platform_get_task",
    response_model=PlatformTaskStatus,
    responses=vidu_errors(401, 404),
)
async def get_task(
    task_id: str,
    request: Request,
    key: ApiKeyDep,
    videos: VideoServiceDep,
    signer: SignerDep,
    settings: SettingsDep,
) -> Response:
    """The seed platform's query (task, singular): its status words and video_url."""
    task = await videos.get(key, task_id)
    return JSONResponse(platform_document(task, signer, base_url(request, settings)))


@router.post(
    "/tasks/{task_id}/cancel",
    operation_id="vidu_cancel_task",
    responses=vidu_errors(401, 404, 408, 409, 413, 415),
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {"schema": ViduCancelBody.model_json_schema()}}
        }
    },
)
async def cancel_task(
    task_id: str, request: Request, key: ApiKeyDep, videos: VideoServiceDep
) -> Response:
    given = await read_json(request, CANCEL_BODY_LIMIT, empty_is_no_fields=True)
    body = validated(ViduCancelBody, given, VIDU_WORDS)
    if body.id is not None and body.id != task_id:
        raise InvalidRequestError(
            f"id ({body.id!r}) is not the task id of the path ({task_id!r}).", param="id"
        )
    try:
        await videos.cancel(key, task_id)
    except ConflictError:
        finished = await videos.get(key, task_id)
        raise ConflictError(
            f"Task {task_id} has already finished ({state_of(finished)}); it can no longer "
            "be cancelled.",
            param="id",
        ) from None
    return JSONResponse({})


@router.get(
    "/tasks",
    operation_id="vidu_list_tasks",
    response_model=ViduTaskList,
    responses=vidu_errors(401),
)
async def list_tasks(
    request: Request,
    key: ApiKeyDep,
    videos: VideoServiceDep,
    signer: SignerDep,
    settings: SettingsDep,
    query: Annotated[listing.ListQuery, Depends(listing.list_query)],
) -> Response:
    tasks, more = await videos.list(
        key,
        after=query.after,
        limit=query.limit,
        newest_first=True,
        where=query.where,
        offset=query.offset,
    )
    base = base_url(request, settings)
    return JSONResponse(
        {
            "tasks": [list_entry(task, signer, base) for task in tasks],
            "next_page_token": tasks[-1].id if more and tasks else "",
        }
    )
