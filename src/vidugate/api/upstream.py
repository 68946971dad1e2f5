"""Where upstreams call the gateway back (Vidu's signed state-change callbacks)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from vidugate.api.deps import ServicesDep
from vidugate.api.limits import read_limited

router = APIRouter(tags=["upstream"], include_in_schema=False)

# A callback is a task document (Vidu echoes payload, at most 1,048,576 characters, in it);
# the route takes no key, so it must not hold whatever anyone sends.
CALLBACK_BODY_LIMIT = 4 * 1024 * 1024


@router.post("/v1/upstream/{provider_id}/callback", operation_id="upstream_callback")
async def upstream_callback(
    provider_id: str, request: Request, services: ServicesDep
) -> JSONResponse:
    await services.callbacks.receive(
        provider_id,
        method=request.method,
        path=request.url.path,
        query=request.url.query,
        headers=request.headers,
        body=await read_limited(request, CALLBACK_BODY_LIMIT),
    )
    # 200 for any genuine callback, known task or not: the upstream must not retry it.
    return JSONResponse({})
