"""Errors to HTTP, in one place: every VidugateError (and every framework error) becomes
OpenAI's envelope; an unexpected exception is logged as the bug it is and answered 500."""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, Response

from vidugate.errors import InvalidRequestError, VidugateError

log = logging.getLogger("vidugate.api")

_HTTP_CODES = {
    404: ("invalid_request_error", "not_found", "No such route."),
    405: ("invalid_request_error", "method_not_allowed", "Method not allowed on this route."),
}


def envelope(status: int, message: str, type_: str, code: str, param: str | None) -> JSONResponse:
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return JSONResponse(body, status_code=status)


def render_error(exc: VidugateError) -> Response:
    response = envelope(exc.status, exc.message, exc.type, exc.code, exc.param)
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    elif exc.status in (429, 503):
        response.headers["Retry-After"] = "1"
    return response


def validation_error(exc: RequestValidationError) -> InvalidRequestError:
    first: dict[str, Any] = exc.errors()[0] if exc.errors() else {}
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    param = ".".join(loc) or None
    return InvalidRequestError(f"{param or 'request'}: {first.get('msg', 'invalid')}", param=param)


def error_response(request: Request, exc: BaseException) -> Response:
    """Any exception as the envelope; the one mapping every route (and the fast lane) uses."""
    if isinstance(exc, VidugateError):
        return render_error(exc)
    if isinstance(exc, RequestValidationError):
        return render_error(validation_error(exc))
    if isinstance(exc, StarletteHTTPException):
        type_, code, message = _HTTP_CODES.get(
            exc.status_code, ("invalid_request_error", "invalid_request", str(exc.detail))
        )
        response = envelope(exc.status_code, message, type_, code, None)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response
    if isinstance(exc, ClientDisconnect):
        return envelope(
            400,
            "The client went away mid-request.",
            "invalid_request_error",
            "client_disconnected",
            None,
        )
    log.error("api.unhandled path=%s", request.url.path, exc_info=exc)
    return envelope(500, "Internal error; it has been logged.", "api_error", "internal_error", None)


def install(app: FastAPI) -> None:
    async def handler(request: Request, exc: Exception) -> Response:
        return error_response(request, exc)

    for kind in (
        VidugateError,
        RequestValidationError,
        StarletteHTTPException,
        ClientDisconnect,
        Exception,
    ):
        app.add_exception_handler(kind, handler)
