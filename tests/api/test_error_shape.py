"""Every error class renders as OpenAI's envelope with its own status, type and code."""

from __future__ import annotations

import json

import pytest

from vidugate import errors
from vidugate.api.errors import render_error

CLASSES = [
    cls
    for cls in vars(errors).values()
    if isinstance(cls, type) and issubclass(cls, errors.VidugateError)
]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_error_envelope(cls: type[errors.VidugateError]) -> None:
    response = render_error(cls("what went wrong and what is allowed", param="field"))
    assert response.status_code == cls.status
    assert 400 <= cls.status < 600
    body = json.loads(bytes(response.body))
    assert body == {
        "error": {
            "message": "what went wrong and what is allowed",
            "type": cls.type,
            "param": "field",
            "code": cls.code,
        }
    }
    if cls.status in (429, 503):
        assert "retry-after" in response.headers


def test_retry_after_is_whole_seconds() -> None:
    response = render_error(errors.ServiceUnavailableError("try again", retry_after=2.2))
    assert response.headers["retry-after"] == "3"
