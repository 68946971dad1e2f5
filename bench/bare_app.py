"""The baseline: a bare Starlette app answering the same routes with a fixed video object,
served with the same uvicorn settings as the gateway. Not part of vidugate."""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

VIDEO = {
    "id": "video_01JF0000000000000000000000",
    "object": "video",
    "model": "viduq3-pro",
    "status": "completed",
    "progress": 100,
    "created_at": 1712697600,
    "size": "1280x720",
    "seconds": "5",
    "quality": "standard",
}


async def retrieve(_request: Request) -> JSONResponse:
    return JSONResponse(VIDEO)


async def create(request: Request) -> JSONResponse:
    body = json.loads(await request.body())
    return JSONResponse({**VIDEO, "status": "queued", "progress": 0, "model": body["model"]})


app = Starlette(
    routes=[
        Route("/v1/videos/{video_id}", retrieve, methods=["GET"]),
        Route("/v1/videos", create, methods=["POST"]),
    ]
)
