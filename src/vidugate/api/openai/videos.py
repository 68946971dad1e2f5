"""/v1/videos routes."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request
from starlette.responses import JSONResponse, Response

from vidugate.api.deps import (
    ApiKeyDep,
    FileStoreDep,
    SettingsDep,
    SignerDep,
    VideoServiceDep,
    authenticate,
    authenticate_create,
    objects_of,
    settings_of,
)
from vidugate.api.links import base_url
from vidugate.api.openai.body import read_new_video
from vidugate.api.openai.render import (
    DIALECT_PARAMETER,
    openai_words,
    video_object,
    video_response,
)
from vidugate.api.openai.schemas import CREATE_CONTENT, VideoDeleted, VideoList, VideoObject
from vidugate.api.ranges import stream_file
from vidugate.api.responses import openai_errors
from vidugate.errors import InvalidRequestError
from vidugate.services.content import Variant, parse_variant

router = APIRouter(prefix="/v1", tags=["videos"])

_ID = re.compile(r"^video_[0-9A-Z]{26}$")


@router.post(
    "/videos",
    operation_id="create_video",
    response_model=VideoObject,
    responses=openai_errors(401, 402, 408, 409, 413, 415),
    openapi_extra={
        "parameters": [
            {
                "name": "idempotency-key",
                "in": "header",
                "required": False,
                "description": "At most 255 characters; the same body within 24 h.",
                "schema": {"type": "string"},
            },
            DIALECT_PARAMETER,
        ],
        "requestBody": {"required": True, "content": CREATE_CONTENT},
    },
)
async def create_video(request: Request) -> Response:
    """The create. Like the status query, it takes the bare request, so that
    api.middleware.FastLane can call it directly; this declaration documents it."""
    objects = objects_of(request)
    key = await authenticate_create(request)
    async with read_new_video(
        request,
        max_image_bytes=settings_of(request).max_image_bytes,
        idempotency_key=request.headers.get("idempotency-key"),
    ) as new:
        task = await objects.videos.create(key, new)
    return video_response(task, request, key, objects.signer, keep=False)


@router.get(
    "/videos",
    operation_id="list_videos",
    response_model=VideoList,
    responses=openai_errors(401),
    openapi_extra={"parameters": [DIALECT_PARAMETER]},
)
async def list_videos(
    request: Request,
    key: ApiKeyDep,
    videos: VideoServiceDep,
    signer: SignerDep,
    settings: SettingsDep,
    after: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    order: Annotated[Literal["asc", "desc"], Query()] = "desc",
) -> Response:
    tasks, has_more = await videos.list(key, after=after, limit=limit, newest_first=order == "desc")
    words = openai_words(request, key, settings.status_dialect)
    base = base_url(request, settings)
    data = [video_object(t, openai_words=words, signer=signer, base=base) for t in tasks]
    return JSONResponse(
        {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": has_more,
        }
    )


@router.get(
    "/videos/{video_id}",
    operation_id="retrieve_video",
    response_model=VideoObject,
    responses=openai_errors(401, 404),
    openapi_extra={
        "parameters": [
            {"name": "video_id", "in": "path", "required": True, "schema": {"type": "string"}},
            DIALECT_PARAMETER,
        ]
    },
)
async def retrieve_video(request: Request) -> Response:
    """The status query clients poll every second for minutes. It takes the bare request
    (no dependency solving, no response model) so that api.middleware.FastLane can
    call it directly; this declaration documents it and serves any other way in."""
    objects = objects_of(request)
    key = await authenticate(request)
    task = await objects.videos.get(key, request.path_params["video_id"])
    return video_response(task, request, key, objects.signer)


@router.delete(
    "/videos/{video_id}",
    operation_id="delete_video",
    response_model=VideoDeleted,
    responses=openai_errors(401, 404),
)
async def delete_video(video_id: str, key: ApiKeyDep, videos: VideoServiceDep) -> Response:
    await videos.delete(key, video_id)
    return JSONResponse({"id": video_id, "object": "video.deleted", "deleted": True})


@router.post(
    "/videos/{video_id}/cancel",
    operation_id="cancel_video",
    response_model=VideoObject,
    responses=openai_errors(401, 404, 409),
    openapi_extra={"parameters": [DIALECT_PARAMETER]},
)
async def cancel_video(
    video_id: str, request: Request, key: ApiKeyDep, videos: VideoServiceDep, signer: SignerDep
) -> Response:
    task = await videos.cancel(key, video_id)
    return video_response(task, request, key, signer)


@router.get(
    "/videos/{video_id}/content",
    operation_id="download_video_content",
    response_class=Response,
    responses={
        **openai_errors(401, 403, 404, 409, 410, 416),
        200: {"content": {"video/mp4": {}, "image/jpeg": {}}, "description": "The file"},
        206: {"description": "Partial content (Range)"},
    },
)
async def download_video_content(
    video_id: str,
    request: Request,
    videos: VideoServiceDep,
    signer: SignerDep,
    files: FileStoreDep,
    variant: Annotated[
        str,
        Query(
            max_length=32,
            description="video: the MP4; thumbnail: a JPEG frame; original: the upstream's "
            "unwatermarked MP4, where kept; spritesheet: a JPEG grid of 25 frames (5x5, "
            "tile i at i/25 of the duration, tiles 144 px on their short side).",
            json_schema_extra={"enum": [v.value for v in Variant]},
        ),
    ] = "video",
    expires: Annotated[str | None, Query(max_length=32)] = None,
    signature: Annotated[str | None, Query(max_length=128)] = None,
    range_header: Annotated[
        str | None,
        Header(alias="range", max_length=200, examples=["bytes=0-1023", "bytes=999999999-"]),
    ] = None,
) -> Response:
    chosen = parse_variant(variant)
    if signature is not None or expires is not None:
        # A signed link is its own credential: no key needed, and it opens only this file.
        if not _ID.match(video_id):
            raise InvalidRequestError("Malformed video id.", param="video_id")
        signer.verify(video_id, chosen.value, expires or "", signature or "")
        task = await videos.get_linked(video_id)
    else:
        key = await authenticate(request)
        task = await videos.get(key, video_id)
    content = await videos.content(task, chosen)
    return stream_file(
        files,
        content.key,
        size=content.size,
        media_type=content.media_type,
        filename=content.filename,
        range_header=range_header,
    )
