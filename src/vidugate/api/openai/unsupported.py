"""OpenAI's Videos calls this gateway does not serve (remix, edits, extensions, characters):
each answers a 400 that says so in the OpenAI envelope, after the key is checked, rather
than a 404 "No such route." or a 405 that reads like a wrong URL. Mounted ahead of
/v1/videos/{video_id}/... so that no path here is read as a video id."""

from __future__ import annotations

from fastapi import APIRouter

from vidugate.api.deps import ApiKeyDep
from vidugate.errors import InvalidRequestError

router = APIRouter(prefix="/v1/videos", include_in_schema=False)

SERVED = "create, retrieve, list, cancel, delete and download_content"


def not_supported(call: str, route: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"{route} ({call}) is not supported by this gateway; on /v1/videos it serves {SERVED}.",
        code="unsupported_endpoint",
    )


@router.post("/{video_id}/remix")
async def remix_video(video_id: str, key: ApiKeyDep) -> None:
    raise not_supported("remix", "POST /v1/videos/{video_id}/remix")


@router.post("/edits")
async def edit_video(key: ApiKeyDep) -> None:
    raise not_supported("edit", "POST /v1/videos/edits")


@router.post("/extensions")
async def extend_video(key: ApiKeyDep) -> None:
    raise not_supported("extend", "POST /v1/videos/extensions")


@router.post("/characters")
async def create_character(key: ApiKeyDep) -> None:
    raise not_supported("create_character", "POST /v1/videos/characters")


@router.get("/characters/{character_id}")
async def get_character(character_id: str, key: ApiKeyDep) -> None:
    raise not_supported("get_character", "GET /v1/videos/characters/{character_id}")
