"""Every rule of api.md has a failing case: status, param and code, over real HTTP."""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conftest import image_bytes
from gatewaylib import Gateway

OK = {"model": "viduq2-turbo", "prompt": "a fox", "duration": 1, "resolution": "540p"}


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"]
    return error


@pytest.fixture(scope="module")
def client(gateway: Gateway) -> Any:
    with gateway.client(gateway.new_key("validation")) as client:
        yield client


# (fields overriding OK, param, code, words the message must contain)
FIELD_CASES = [
    ({"model": None}, "model", "missing_required_parameter", "model"),
    ({"model": "sora-2"}, "model", "invalid_value", "viduq3-pro"),
    ({"prompt": None}, "prompt", "missing_required_parameter", "prompt"),
    ({"prompt": "   "}, "prompt", "invalid_value", "prompt"),
    ({"prompt": "x" * 5001}, "prompt", "invalid_value", "5000"),
    ({"aspect_ratio": "2:1"}, "aspect_ratio", "invalid_value", "16:9"),
    ({"audio": "maybe"}, "audio", "invalid_value", "true or false"),
    ({"is_rec": 3}, "is_rec", "invalid_value", "true or false"),
    ({"bgm": []}, "bgm", "invalid_value", "true or false"),
    ({"duration": 0}, "duration", "invalid_value", "1-10"),
    ({"duration": 11}, "duration", "invalid_value", "1-10"),
    ({"model": "viduq3-pro", "duration": 17}, "duration", "invalid_value", "1-16"),
    ({"duration": "five"}, "duration", "invalid_value", "integer"),
    ({"duration": 2.5}, "duration", "invalid_value", "integer"),
    ({"duration": True}, "duration", "invalid_value", "integer"),
    ({"seed": -1}, "seed", "invalid_value", "2147483647"),
    ({"seed": 2147483648}, "seed", "invalid_value", "2147483647"),
    ({"resolution": "480p"}, "resolution", "invalid_value", "720p"),
    ({"payload": "x" * 1_048_577}, "payload", "invalid_value", "1048576"),
    ({"payload": 12}, "payload", "invalid_value", "string"),
    ({"off_peak": True, "audio": True}, "off_peak", "invalid_value", "audio"),
    ({"wm_position": 5}, "wm_position", "invalid_value", "bottom-left"),
    ({"wm_url": "ftp://example.com/wm.png"}, "wm_url", "invalid_value", "http"),
    ({"meta_data": "not json"}, "meta_data", "invalid_value", "JSON object"),
    ({"meta_data": "[1, 2]"}, "meta_data", "invalid_value", "JSON object"),
    ({"meta_data": "[" * 100_000}, "meta_data", "invalid_value", "JSON object"),
    ({"seconds": "2", "duration": 3}, "seconds", "invalid_value", "disagree"),
    ({"size": "1000x1000"}, "size", "invalid_value", "1280x720"),
    ({"size": "1280x720", "resolution": "540p"}, "size", "invalid_value", "disagree"),
    ({"size": "1280x720", "aspect_ratio": "9:16"}, "size", "invalid_value", "disagree"),
    ({"frames": 24}, "frames", "unknown_parameter", "Allowed"),
    ({"images": ["a", "b"]}, "images", "invalid_value", "at most 1"),
    ({"images": "not an image at all"}, "images", "invalid_value", "base64"),
    ({"images": "data:image/png;base64,@@@@"}, "images", "invalid_base64", "base64"),
    ({"images": "file:///etc/passwd"}, "images", "invalid_value", "URL"),
    (
        {"images": "data:image/png;base64," + base64.b64encode(b"GIF89a" + b"0" * 64).decode()},
        "images",
        "unsupported_media_type",
        "png",
    ),
    (
        {"input_reference": {"image_url": "https://a.example/x.png", "detail": "high"}},
        "input_reference",
        "invalid_value",
        "image_url",
    ),
]


def _body(overrides: dict[str, Any]) -> dict[str, Any]:
    body = {**OK, **overrides}
    return {k: v for k, v in body.items() if v is not None}


@pytest.mark.parametrize(("overrides", "param", "code", "words"), FIELD_CASES)
def test_json_field_rules(
    client: httpx.Client, overrides: dict[str, Any], param: str, code: str, words: str
) -> None:
    error = error_of(
        client.post("/v1/videos", json=_body(overrides)),
        415 if code == "unsupported_media_type" else 400,
    )
    assert error["param"] == param
    assert error["code"] == code
    assert words.lower() in error["message"].lower()
    assert error["type"] == "invalid_request_error"


@pytest.mark.parametrize(("overrides", "param", "code", "words"), FIELD_CASES[:31])
def test_multipart_field_rules(
    client: httpx.Client, overrides: dict[str, Any], param: str, code: str, words: str
) -> None:
    """The same rules with every value sent as a text part, as curl -F sends them."""
    parts = []
    for name, value in _body(overrides).items():
        if isinstance(value, list):
            continue
        text = str(value).lower() if isinstance(value, bool) else str(value)
        parts.append((name, (None, text)))
    response = client.post("/v1/videos", files=parts)
    if overrides in ({"bgm": []}, {"payload": 12}, {"duration": 2.5}, {"duration": True}):
        return  # not expressible as different types in a form: covered by JSON above
    error = error_of(response, 400)
    assert error["param"] == param, error
    assert error["code"] == code


def test_empty_prompt_is_fine_with_is_rec_or_image(client: httpx.Client) -> None:
    assert client.post("/v1/videos", json=_body({"prompt": "", "is_rec": True})).status_code == 200
    png = base64.b64encode(image_bytes(64, 64)).decode()
    assert client.post("/v1/videos", json=_body({"prompt": "", "images": png})).status_code == 200


def test_multipart_booleans_take_one_and_zero(client: httpx.Client) -> None:
    parts = [(k, (None, str(v))) for k, v in OK.items()] + [("audio", (None, "1"))]
    assert client.post("/v1/videos", files=parts).status_code == 200
    parts = [(k, (None, str(v))) for k, v in OK.items()] + [("audio", (None, "yes"))]
    assert error_of(client.post("/v1/videos", files=parts), 400)["param"] == "audio"


def test_image_rules(client: httpx.Client) -> None:
    fields: list[tuple[str, Any]] = [(k, (None, str(v))) for k, v in OK.items()]
    too_wide = image_bytes(500, 100)  # 5:1
    error = error_of(
        client.post("/v1/videos", files=[*fields, ("images", ("w.png", too_wide))]), 400
    )
    assert (error["param"], error["code"]) == ("images", "invalid_value")
    assert "1:4" in error["message"]
    text_file = b"hello, this is not an image"
    error = error_of(
        client.post("/v1/videos", files=[*fields, ("images", ("a.png", text_file))]), 415
    )
    assert (error["param"], error["code"]) == ("images", "unsupported_media_type")
    # A jpeg named .png is judged by its bytes, and accepted.
    jpeg = image_bytes(320, 240, "JPEG")
    ok = client.post("/v1/videos", files=[*fields, ("images", ("photo.png", jpeg))])
    assert ok.status_code == 200, ok.text
    two = [*fields, ("images", ("a.png", jpeg)), ("images", ("b.png", jpeg))]
    assert error_of(client.post("/v1/videos", files=two), 400)["param"] == "images"
    both = [*fields, ("images", ("a.png", jpeg)), ("input_reference", ("b.png", jpeg))]
    assert error_of(client.post("/v1/videos", files=both), 400)["param"] == "input_reference"
    not_a_file = [*fields, ("prompt_file", ("p.txt", b"x"))]
    assert error_of(client.post("/v1/videos", files=not_a_file), 400)["param"] == "prompt_file"


def test_oversize_image_is_413_while_reading(client: httpx.Client) -> None:
    fields = [(k, (None, str(v))) for k, v in OK.items()]
    big = image_bytes(64, 64) + b"\0" * (50 * 1024 * 1024)
    error = error_of(client.post("/v1/videos", files=[*fields, ("images", ("big.png", big))]), 413)
    assert (error["param"], error["code"]) == ("images", "too_large")
    oversize_b64 = base64.b64encode(big).decode()
    error = error_of(client.post("/v1/videos", json=_body({"images": oversize_b64})), 413)
    assert (error["param"], error["code"]) == ("images", "too_large")


def test_whole_body_cap(client: httpx.Client, gateway: Gateway) -> None:
    # A declared length over the cap is refused before one byte of body is read.
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(
            b"POST /v1/videos HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + gateway.key.encode() + b"\r\n"
            b"Content-Length: 10000000000\r\n\r\n{}"
        )
        answer = b""
        while b'"too_large"' not in answer and (chunk := sock.recv(4096)):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert b'"too_large"' in answer

    def endless() -> Iterator[bytes]:
        chunk = b"x" * (1024 * 1024)
        for _ in range(200):
            yield chunk

    streamed = client.post(
        "/v1/videos", content=endless(), headers={"Content-Type": "application/json"}
    )
    assert error_of(streamed, 413)["code"] == "too_large"


def test_body_and_content_type_errors(client: httpx.Client) -> None:
    error = error_of(
        client.post("/v1/videos", content=b"model=x", headers={"Content-Type": "text/plain"}), 415
    )
    assert error["code"] == "unsupported_media_type"
    error_of(
        client.post(
            "/v1/videos", content=b"{not json", headers={"Content-Type": "application/json"}
        ),
        400,
    )
    error_of(client.post("/v1/videos", json=[1, 2]), 400)
    duplicated = [
        ("model", (None, "viduq3-pro")),
        ("model", (None, "viduq2-pro")),
        ("prompt", (None, "x")),
    ]
    assert error_of(client.post("/v1/videos", files=duplicated), 400)["param"] == "model"
    broken = b'--xyz\r\nContent-Disposition: form-data; name="model"\r\n\r\nviduq3'
    error_of(
        client.post(
            "/v1/videos",
            content=broken,
            headers={"Content-Type": "multipart/form-data; boundary=xyz"},
        ),
        400,
    )
    no_boundary = client.post(
        "/v1/videos", content=b"x", headers={"Content-Type": "multipart/form-data"}
    )
    error_of(no_boundary, 400)


def test_keys(gateway: Gateway) -> None:
    anonymous = httpx.post(f"{gateway.base_url}/v1/videos", json=OK)
    assert error_of(anonymous, 401)["code"] == "invalid_api_key"
    for header in ("Bearer vg-unknown", "Basic abc", "Bearer", "vg-raw-key"):
        response = httpx.get(f"{gateway.base_url}/v1/videos", headers={"Authorization": header})
        assert error_of(response, 401)["code"] == "invalid_api_key"


def test_query_rules(client: httpx.Client) -> None:
    assert error_of(client.get("/v1/videos", params={"limit": 0}), 400)["param"] == "limit"
    assert error_of(client.get("/v1/videos", params={"limit": 101}), 400)["param"] == "limit"
    assert error_of(client.get("/v1/videos", params={"order": "sideways"}), 400)["param"] == "order"
    created = client.post("/v1/videos", json=OK).json()
    error = error_of(
        client.get(f"/v1/videos/{created['id']}/content", params={"variant": "gif"}), 400
    )
    assert error["param"] == "variant"


def test_not_found_and_conflicts(client: httpx.Client) -> None:
    error = error_of(client.get("/v1/videos/video_01ZZZZZZZZZZZZZZZZZZZZZZZZ"), 404)
    assert (error["code"], error["param"]) == ("not_found", "video_id")
    error_of(client.get("/v1/videos/../../etc/passwd"), 404)
    slow = client.post(
        "/v1/videos", json={**OK, "model": "viduq3-pro", "duration": 16, "resolution": "1080p"}
    ).json()
    not_ready = error_of(client.get(f"/v1/videos/{slow['id']}/content"), 409)
    assert not_ready["code"] == "video_not_ready"
    assert client.post(f"/v1/videos/{slow['id']}/cancel").status_code == 200
    again = error_of(client.post(f"/v1/videos/{slow['id']}/cancel"), 409)
    assert again["code"] == "conflict"
    assert "cancelled" in again["message"]
    error_of(client.get("/v1/no-such-route"), 404)
    error_of(client.put("/v1/videos"), 405)


def test_models_route_reads_the_capability_table(client: httpx.Client) -> None:
    models = {m["id"]: m for m in client.get("/v1/models").json()["data"]}
    assert set(models) == {
        "viduq3-pro",
        "viduq3-turbo",
        "viduq2-pro",
        "viduq2-turbo",
        "viduq2-pro-fast",
        "viduq2",
        "viduq1",
        "viduq1-classic",
        "vidu2.0",
    }
    assert models["viduq3-pro"]["durations"] == {"min": 1, "max": 16, "default": 5}
    assert models["viduq2-pro"]["durations"]["max"] == 10
    assert models["viduq3-pro"]["audio_default"] is True
    assert "voice_id" in models["viduq3-pro"]["ignored_fields"]
    assert "1920x1080" in models["viduq2-turbo"]["sizes"]
    assert error_of(client.get("/v1/models/nope"), 404)["param"] == "model_id"
