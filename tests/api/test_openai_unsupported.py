"""OpenAI's Videos calls the gateway does not serve say so (a 400 in OpenAI's envelope, after
the key is checked), and an error's `param` names a field as the client sent it: `seconds`,
`size` and `input_reference` when those were sent, though the rules are checked on the seed's
duration, resolution, aspect_ratio and images."""

from __future__ import annotations

import io
from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI

from gatewaylib import Gateway

UNSUPPORTED = [
    ("POST", "/v1/videos/video_01J0000000000000000000000/remix", "remix"),
    ("POST", "/v1/videos/edits", "edit"),
    ("POST", "/v1/videos/extensions", "extend"),
    ("POST", "/v1/videos/characters", "create_character"),
    ("GET", "/v1/videos/characters/char_123", "get_character"),
    ("GET", "/v1/videos/characters/content", "get_character"),  # not video "characters"
]


@pytest.mark.parametrize(("method", "path", "call"), UNSUPPORTED)
def test_unsupported_calls_say_so(gateway: Gateway, method: str, path: str, call: str) -> None:
    with httpx.Client(base_url=gateway.base_url) as anonymous:
        response = anonymous.request(method, path, json={"prompt": "x"})
        assert response.status_code == 401, response.text  # the key first, as everywhere
        assert response.json()["error"]["code"] == "invalid_api_key"
    with gateway.client() as client:
        response = client.request(method, path, json={"prompt": "x"})
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error"
        assert error["code"] == "unsupported_endpoint"
        assert f"({call}) is not supported by this gateway" in error["message"]
        assert "create, retrieve, list" in error["message"]


@pytest.mark.parametrize("name", ["edits", "extensions", "characters"])
def test_their_names_are_no_video_ids(gateway: Gateway, name: str) -> None:
    """GET and DELETE of those paths read as an id lookup, which finds nothing: a 404, never
    a 500 (the gateway fixture fails the run on any unhandled error in its log)."""
    with gateway.client() as client:
        for method in ("GET", "DELETE"):
            response = client.request(method, f"/v1/videos/{name}")
            assert response.status_code == 404, response.text
            assert response.json()["error"]["param"] == "video_id"


def test_the_sdk_raises_bad_request_with_the_message(gateway: Gateway) -> None:
    sdk = OpenAI(base_url=f"{gateway.base_url}/v1", api_key=gateway.key, max_retries=0)
    seconds: Any = "1"  # the SDK types it as Sora's "4" | "8" | "12"
    video = sdk.videos.create(model="viduq2-turbo", prompt="a clip", seconds=seconds)
    with pytest.raises(openai.BadRequestError) as remix:
        sdk.videos.remix(video.id, prompt="make it blue")
    assert "(remix) is not supported by this gateway" in str(remix.value)
    assert remix.value.code == "unsupported_endpoint"
    with pytest.raises(openai.BadRequestError) as character:
        sdk.videos.get_character("char_123")
    assert "not supported by this gateway" in str(character.value)


def post_multipart(client: httpx.Client, fields: dict[str, str], **files: Any) -> dict[str, Any]:
    """As the SDKs send it: multipart, every field a part of its own."""
    parts = [(name, (None, value)) for name, value in fields.items()] + list(files.items())
    response = client.post("/v1/videos", files=parts)
    assert response.status_code in (400, 415), response.text
    error: dict[str, Any] = response.json()["error"]
    return error


def post_json(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/videos", json=body)
    assert response.status_code == 400, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


@pytest.mark.parametrize("send", [post_json, post_multipart])
def test_param_is_the_name_sent(gateway: Gateway, send: Any) -> None:
    with gateway.client() as client:
        error = send(client, {"model": "viduq3-pro", "prompt": "x", "seconds": "99"})
        assert error["param"] == "seconds"
        assert error["message"].startswith("seconds '99': duration 99 ")
        assert send(client, {"model": "viduq3-pro", "prompt": "x", "duration": "99"}) == {
            **error,
            "param": "duration",
            "message": error["message"].removeprefix("seconds '99': "),
        }
        # size is read as resolution + aspect ratio, and viduq1 makes 1080p only.
        error = send(client, {"model": "viduq1", "prompt": "x", "size": "1280x720"})
        assert error["param"] == "size"
        assert error["message"].startswith("size '1280x720': resolution '720p' ")
        # Given both ways, the seed's name is the one at fault.
        error = send(
            client, {"model": "viduq1", "prompt": "x", "size": "1280x720", "resolution": "720p"}
        )
        assert error["param"] == "resolution"
        assert error["message"].startswith("resolution '720p' ")


def test_input_reference_is_named_as_sent(gateway: Gateway) -> None:
    with gateway.client() as client:
        for files in (
            {"input_reference": ("ref.png", io.BytesIO(b"not an image"), "image/png")},
            {"input_reference[image_url]": (None, "data:image/png;base64,bm90IGFuIGltYWdl")},
        ):
            error = post_multipart(client, {"model": "viduq2-pro", "prompt": "x"}, **files)
            assert error["param"] == "input_reference", error
        error = post_json(
            client, {"model": "viduq2-pro", "prompt": "x", "input_reference": {"image_url": "x"}}
        )
        assert error["param"] == "input_reference", error
