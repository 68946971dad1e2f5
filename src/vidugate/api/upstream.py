"""Where upstreams call the gateway back (Vidu's signed state-change callbacks)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from vidugate.api.body import read_limited
from vidugate.api.deps import CallbackServiceDep
from vidugate.api.links import CALLBACK_PATH

router = APIRouter(tags=["upstream"], include_in_schema=False)

# A callback is a task document (Vidu echoes payload, at most 1,048,576 characters, in it);
# the route takes no key, so it must not hold whatever anyone sends: the body is read, up to
# this, only once the signature has checked out (see services/callbacks.py).
CALLBACK_BODY_LIMIT = 4 * 1024 * 1024


@router.post(CALLBACK_PATH, operation_id="upstream_callback")
async def upstream_callback(
    provider_id: str, request: Request, callbacks: CallbackServiceDep
) -> JSONResponse:
    scope = request.scope
    # Raw, as received: Vidu signs the callback URL's path and query as they stand in it,
    # and that URL is the one the gateway gave it. Starlette's request.url re-decodes both.
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else request.url.path

    async def read_body() -> bytes:
        return await read_limited(request, CALLBACK_BODY_LIMIT)

    await callbacks.receive(
        provider_id,
        method=request.method,
        path=path,
        query=scope.get("query_string", b"").decode("latin-1"),
        headers=request.headers,
        read_body=read_body,
    )
    # 200 for any genuine callback, known task or not: the upstream must not retry it.
    return JSONResponse({})
