"""The error responses routes declare in the OpenAPI document, from one table: a status
means the same on every route, and each surface's errors have that surface's envelope
(api/errors.py renders them). Routes name the statuses they can answer, nothing more, so
the document stays a contract a client (or schemathesis) can hold the gateway to."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from vidugate.api.openai.schemas import ErrorResponse
from vidugate.api.vidu.schemas import ViduErrorBody

Responses = dict[int | str, dict[str, Any]]

WHY: dict[int, str] = {
    400: "Invalid request: the error names the field (param) and what it allows",
    401: "Missing, malformed or unknown API key",
    402: "The tenant's balance (or the key's spend cap) does not cover the price; nothing "
    "was created",
    403: "Bad or expired signed link",
    404: "Not there, or not this key's (another key's task answers the same)",
    408: "The request body did not arrive in time (it stalled or took too long)",
    409: "Conflict: already finished, not ready yet, or an Idempotency-Key reused with "
    "another body",
    410: "The content has expired and was removed",
    413: "The body (or an image in it) is too large",
    415: "The body is not multipart/form-data or JSON, or an image is not png, jpeg or webp",
    416: "The Range cannot be served (no body; Content-Range gives the size)",
    502: "The upstream refused or failed the call it was asked for (upstream_error)",
    503: "The database cannot be reached just now; Retry-After says when to try again",
}

# Any request can be malformed or arrive while the database is away.
ALWAYS = (400, 503)
BODYLESS = frozenset({416})


def _table(model: type[BaseModel], statuses: tuple[int, ...]) -> Responses:
    table: Responses = {}
    for status in sorted({*ALWAYS, *statuses}):
        table[status] = {"description": WHY[status]}
        if status not in BODYLESS:
            table[status]["model"] = model
    return table


def openai_errors(*statuses: int) -> Responses:
    """OpenAI's envelope, for /v1 routes."""
    return _table(ErrorResponse, statuses)


def vidu_errors(*statuses: int) -> Responses:
    """Vidu's envelope, for /vidu/ routes."""
    return _table(ViduErrorBody, statuses)
