"""Every error class renders as Vidu's envelope on /vidu/ routes, and error_response picks
the envelope by the path called."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request

from vidugate import errors
from vidugate.api.errors import error_response, render_vidu_error

CLASSES = [
    cls
    for cls in vars(errors).values()
    if isinstance(cls, type) and issubclass(cls, errors.VidugateError)
]
# Pinned here, not read from the code under test; a new class takes its nearest base's.
REASONS: dict[type[errors.VidugateError], str] = {
    errors.VidugateError: "InternalServiceFailure",
    errors.InvalidRequestError: "FieldInvalid",
    errors.AuthenticationError: "Unauthorized",
    errors.PaymentRequiredError: "CreditInsufficient",  # Vidu's own: short of credits
    errors.PermissionDeniedError: "PermissionDenied",
    errors.NotFoundError: "TaskNotFound",
    errors.ConflictError: "Conflict",
    errors.GoneError: "ContentExpired",
    errors.RateLimitError: "TooManyRequests",  # Vidu's own: too much at once
    errors.ServiceUnavailableError: "InternalServiceFailure",
    errors.ProviderError: "InternalServiceFailure",
}


def expected_reason(cls: type[errors.VidugateError]) -> str:
    return next(REASONS[base] for base in cls.__mro__ if base in REASONS)


def body_of(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(bytes(response.body))
    return body


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_vidu_error_envelope(cls: type[errors.VidugateError]) -> None:
    response = render_vidu_error(cls("what went wrong", param="field"), "req_trace")
    assert response.status_code == cls.status
    assert body_of(response) == {
        "code": cls.status,
        "reason": expected_reason(cls),
        "message": "what went wrong",
        "metadata": {"trace_id": "req_trace", "param": "field"},
    }
    if cls.status in (429, 503):
        assert "retry-after" in response.headers


def test_every_5xx_is_an_internal_service_failure() -> None:
    for cls in CLASSES:
        if cls.status >= 500:
            assert expected_reason(cls) == "InternalServiceFailure", cls


def request_to(path: str) -> Request:
    return Request(
        {"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b""}
    )


@pytest.mark.parametrize(
    ("exc", "status", "reason"),
    [
        (errors.NotFoundError("No such task.", param="id"), 404, "TaskNotFound"),
        (RequestValidationError([{"loc": ("query", "state"), "msg": "bad"}]), 400, "FieldInvalid"),
        (HTTPException(405), 405, "MethodNotAllowed"),
        (HTTPException(404), 404, "NotFound"),
    ],
)
def test_error_response_picks_the_envelope_by_path(
    exc: Exception, status: int, reason: str
) -> None:
    vidu = body_of(error_response(request_to("/vidu/ent/v2/tasks"), exc))
    assert (vidu["code"], vidu["reason"]) == (status, reason)
    assert set(vidu) == {"code", "reason", "message", "metadata"}
    openai = body_of(error_response(request_to("/v1/videos"), exc))
    assert set(openai) == {"error"}
    assert set(openai["error"]) == {"message", "type", "param", "code"}


def test_an_unexpected_exception_is_an_internal_failure_on_vidu_routes() -> None:
    response = error_response(request_to("/vidu/ent/v2/text2video"), KeyError("bug"))
    assert response.status_code == 500
    assert body_of(response)["reason"] == "InternalServiceFailure"
