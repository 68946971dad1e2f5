"""Vidu's error envelope and the one exception the emulator raises to produce it.

Every non-200 answer of the /ent/v2 surface is
`{"code": <http status>, "reason": "...", "message": "...", "metadata": {"trace_id": "..."}}`.
Handlers raise `ViduError`; one Starlette exception handler renders it, so no route builds
an error body by hand and the shape cannot drift between endpoints.
"""

from __future__ import annotations

import json
import uuid

from starlette.requests import Request
from starlette.responses import Response


class ViduError(Exception):
    """An answer in Vidu's error envelope."""

    def __init__(
        self, status: int, reason: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.headers = headers or {}


def field_invalid(message: str) -> ViduError:
    return ViduError(400, "FieldInvalid", message)


def error_response(
    status: int, reason: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    body = {
        "code": status,
        "reason": reason,
        "message": message,
        "metadata": {"trace_id": uuid.uuid4().hex},
    }
    return Response(
        json.dumps(body, separators=(",", ":")).encode(),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def handle_vidu_error(_request: Request, exc: Exception) -> Response:
    """Starlette exception handler for ViduError."""
    assert isinstance(exc, ViduError)
    return error_response(exc.status, exc.reason, exc.message, exc.headers)
