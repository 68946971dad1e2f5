"""Errors to HTTP, in one place. Every VidugateError (and every framework error) becomes the
envelope of the surface that was called: OpenAI's on /v1 and everywhere else, Vidu's on
/vidu/. An unexpected exception is logged as the bug it is and answered 500."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, Response

from vidugate import metrics
from vidugate.errors import (
    AuthenticationError,
    ConflictError,
    GoneError,
    InvalidRequestError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    VidugateError,
)
from vidugate.logs import get_logger, request_id

log = get_logger("vidugate.api")

VIDU_PREFIX = "/vidu/"

# Vidu's `reason` for each error class, looked up along the class's MRO. Vidu names the
# first three; the others are ours, in its style. Every 5xx is InternalServiceFailure,
# whatever its class.
VIDU_REASONS: dict[type[VidugateError], str] = {
    InvalidRequestError: "FieldInvalid",
    AuthenticationError: "Unauthorized",
    NotFoundError: "TaskNotFound",
    PermissionDeniedError: "PermissionDenied",
    ConflictError: "Conflict",
    GoneError: "ContentExpired",
    # Vidu's own answer when an account cannot pay for a task.
    PaymentRequiredError: "CreditInsufficient",
    # Vidu's own answer when an account sends too much at once.
    RateLimitError: "TooManyRequests",
}
VIDU_INTERNAL = "InternalServiceFailure"

# Framework errors: (OpenAI type, OpenAI code, Vidu reason, message).
_HTTP_CODES = {
    404: ("invalid_request_error", "not_found", "NotFound", "No such route."),
    405: (
        "invalid_request_error",
        "method_not_allowed",
        "MethodNotAllowed",
        "Method not allowed on this route.",
    ),
}


@dataclass(frozen=True, slots=True)
class Failure:
    """One error, in the terms of both envelopes."""

    status: int
    message: str
    type: str
    code: str
    param: str | None
    reason: str
    headers: dict[str, str] = field(default_factory=dict)


def vidu_reason(exc: VidugateError) -> str:
    if exc.status >= 500:
        return VIDU_INTERNAL
    for cls in type(exc).__mro__:
        if cls in VIDU_REASONS:
            return VIDU_REASONS[cls]
    return "FieldInvalid"


def failure_of(exc: VidugateError) -> Failure:
    headers = {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    elif exc.status in (429, 503):
        headers["Retry-After"] = "1"
    if isinstance(exc, RateLimitError):
        headers.update(exc.headers)
    return Failure(
        exc.status, exc.message, exc.type, exc.code, exc.param, vidu_reason(exc), headers
    )


def envelope(status: int, message: str, type_: str, code: str, param: str | None) -> JSONResponse:
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return JSONResponse(body, status_code=status)


def openai_response(failure: Failure) -> Response:
    response = envelope(failure.status, failure.message, failure.type, failure.code, failure.param)
    response.headers.update(failure.headers)
    return response


def vidu_response(failure: Failure, trace_id: str) -> Response:
    metadata = {"trace_id": trace_id}
    if failure.param:
        # The gateway's addition to Vidu's envelope: the field at fault, as the OpenAI
        # surface's `param` names it (the playground puts the message next to it).
        metadata["param"] = failure.param
    body = {
        "code": failure.status,
        "reason": failure.reason,
        "message": failure.message,
        "metadata": metadata,
    }
    return JSONResponse(body, status_code=failure.status, headers=failure.headers)


def render_error(exc: VidugateError) -> Response:
    """The OpenAI envelope of one error."""
    return openai_response(failure_of(exc))


def render_vidu_error(exc: VidugateError, trace_id: str) -> Response:
    """Vidu's envelope of one error."""
    return vidu_response(failure_of(exc), trace_id)


def validation_error(exc: RequestValidationError) -> InvalidRequestError:
    first: dict[str, Any] = exc.errors()[0] if exc.errors() else {}
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    param = ".".join(loc) or None
    return InvalidRequestError(f"{param or 'request'}: {first.get('msg', 'invalid')}", param=param)


def _failure(request: Request, exc: BaseException) -> Failure:
    if isinstance(exc, RequestValidationError):
        exc = validation_error(exc)
    if isinstance(exc, VidugateError):
        return failure_of(exc)
    if isinstance(exc, StarletteHTTPException):
        type_, code, reason, message = _HTTP_CODES.get(
            exc.status_code,
            ("invalid_request_error", "invalid_request", "FieldInvalid", str(exc.detail)),
        )
        if exc.status_code >= 500:
            reason = VIDU_INTERNAL
        return Failure(exc.status_code, message, type_, code, None, reason, dict(exc.headers or {}))
    if isinstance(exc, ClientDisconnect):
        message = "The client went away mid-request."
        return Failure(
            400, message, "invalid_request_error", "client_disconnected", None, "ClientDisconnected"
        )
    log.error("api.unhandled", path=request.url.path, exc_info=exc)
    message = "Internal error; it has been logged."
    return Failure(500, message, "api_error", "internal_error", None, VIDU_INTERNAL)


def error_response(request: Request, exc: BaseException) -> Response:
    """Any exception as the envelope of the surface called; the one mapping every route
    (and the fast lane) uses."""
    if isinstance(exc, RateLimitError):
        metrics.limit_refused(exc.limit, exc.scope)
    failure = _failure(request, exc)
    if request.url.path.startswith(VIDU_PREFIX):
        return vidu_response(failure, request_id.get())
    return openai_response(failure)


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
