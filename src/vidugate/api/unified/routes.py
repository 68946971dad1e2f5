"""The seed platform's unified format: POST /v1/video/create and GET /v1/video/query?id=.
The same tasks as every other surface (a task made here reads on /v1/videos and both Vidu
query routes, and theirs read here). The platform documents no error body of its own for
these routes, so errors are OpenAI's envelope, as everywhere under /v1."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from starlette.responses import JSONResponse, Response

from vidugate.api.deps import ApiKeyDep, CreatorKeyDep, SettingsDep, SignerDep, VideoServiceDep
from vidugate.api.links import base_url
from vidugate.api.responses import openai_errors
from vidugate.api.unified.body import read_new_video
from vidugate.api.unified.render import create_answer, query_answer
from vidugate.api.unified.schemas import UnifiedCreateAnswer, UnifiedCreateBody, UnifiedTask
from vidugate.errors import NotFoundError

router = APIRouter(prefix="/v1/video", tags=["unified"])

_CREATE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": UnifiedCreateBody.model_json_schema()}},
    }
}


@router.post(
    "/create",
    operation_id="unified_create_video",
    response_model=UnifiedCreateAnswer,
    responses=openai_errors(401, 402, 408, 409, 413, 415),
    openapi_extra=_CREATE_BODY,
)
async def create_video(
    request: Request,
    key: CreatorKeyDep,
    videos: VideoServiceDep,
    settings: SettingsDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="idempotency-key",
            description="At most 255 characters; the same body within 24 h.",
        ),
    ] = None,
) -> Response:
    new = await read_new_video(
        request,
        max_image_bytes=settings.max_image_bytes,
        idempotency_key=idempotency_key,
    )
    task = await videos.create(key, new)
    return JSONResponse(create_answer(task))


@router.get(
    "/query",
    operation_id="unified_query_video",
    response_model=UnifiedTask,
    responses=openai_errors(401, 404),
)
async def query_video(
    request: Request,
    key: ApiKeyDep,
    videos: VideoServiceDep,
    signer: SignerDep,
    settings: SettingsDep,
    id: Annotated[str, Query(max_length=64, description="The task_id the create answered.")],
) -> Response:
    try:
        task = await videos.get(key, id)
    except NotFoundError as exc:
        raise NotFoundError(exc.message, param="id") from None  # the name this route takes
    return JSONResponse(query_answer(task, signer, base_url(request, settings)))
