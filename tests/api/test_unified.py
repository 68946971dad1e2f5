"""The seed platform's unified format, POST /v1/video/create and GET /v1/video/query, over
real HTTP: its answers, how the images pick the kind of video, its errors (OpenAI's
envelope) and Idempotency-Key, on the same tasks as every other surface."""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import av
import httpx
import pytest
from PIL import Image

from conftest import image_bytes
from gatewaylib import Gateway, assert_video

FAST = {"duration": 1, "resolution": "540p"}
RUNNING = {"id", "status", "progress", "created_at"}


def data_uri(width: int, height: int) -> str:
    return "data:image/png;base64," + base64.b64encode(image_bytes(width, height)).decode()


@pytest.fixture(scope="module")
def client(gateway: Gateway) -> Iterator[httpx.Client]:
    with gateway.client(gateway.new_key("unified")) as made:
        yield made


def created(client: httpx.Client, **fields: Any) -> str:
    response = client.post("/v1/video/create", json={"prompt": "a clip", **FAST, **fields})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {"created_at", "status", "task_id"}, answer
    task_id: str = answer["task_id"]
    return task_id


def query_until_done(client: httpx.Client, task_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get("/v1/video/query", params={"id": task_id})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in ("completed", "failed"):
            return body
        assert body["status"] == "processing", body
        assert set(body) == RUNNING, body
        assert 0 <= body["progress"] < 100
        time.sleep(0.2)
    raise AssertionError(f"{task_id} not done after {timeout}s")


def openai_error(response: httpx.Response, status: int, param: str | None) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["param"] == param, error
    assert error["message"]
    message: str = error["message"]
    return message


def first_frame(mp4: bytes) -> Image.Image:
    with av.open(io.BytesIO(mp4), mode="r") as container:
        for frame in container.decode(video=0):
            image: Image.Image = frame.to_image()
            return image
    raise AssertionError("no frame")


def kind_of(client: httpx.Client, task_id: str) -> str:
    """The Vidu endpoint a task was made as (its list entry's type)."""
    listed = client.get("/vidu/ent/v2/tasks", params={"task_ids": task_id}).json()["tasks"]
    kind: str = listed[0]["type"]
    return kind


@pytest.mark.slow
def test_create_then_query_until_the_video_is_there(client: httpx.Client) -> None:
    before = time.time()
    response = client.post(
        "/v1/video/create",
        json={"model": "viduq2-pro", "images": [], "prompt": "a paper boat", "seed": 7, **FAST},
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "processing"
    assert answer["task_id"].startswith("video_")
    moment = datetime.fromisoformat(answer["created_at"])
    assert moment.utcoffset() == timedelta(0)
    assert answer["created_at"].endswith("+00:00")  # RFC 3339 with its offset, as the platform
    assert before - 1 <= moment.timestamp() <= time.time() + 1

    done = query_until_done(client, answer["task_id"])
    assert set(done) == RUNNING | {"completed_at", "video_url"}, done
    assert (done["id"], done["status"], done["progress"]) == (answer["task_id"], "completed", 100)
    assert done["created_at"] == int(moment.timestamp())
    assert done["created_at"] <= done["completed_at"]
    video = httpx.get(done["video_url"])  # a signed link: no key
    assert video.status_code == 200
    assert_video(video.content, width=960, height=540, seconds=1, audio=False)
    assert kind_of(client, answer["task_id"]) == "text2video"


@pytest.mark.slow
def test_the_number_of_images_picks_the_kind_of_video(client: httpx.Client) -> None:
    wide = data_uri(320, 240)
    cases = [
        ("viduq2-pro", [wide], "img2video", "720x540"),
        ("viduq2-pro", [wide, data_uri(330, 240)], "start-end2video", "720x540"),
        ("viduq2", [wide, wide, data_uri(64, 64)], "reference2video", "960x540"),
        # viduq2 makes no img2video: one image is a reference to it.
        ("viduq2", [wide], "reference2video", "960x540"),
    ]
    made = [
        (created(client, model=model, images=images), kind, size)
        for model, images, kind, size in cases
    ]
    for task_id, kind, size in made:
        assert kind_of(client, task_id) == kind
        assert query_until_done(client, task_id)["status"] == "completed"
        assert client.get(f"/v1/videos/{task_id}").json()["size"] == size
    # The first image is the img2video's first frame: its red left half is there.
    done = query_until_done(client, made[0][0])
    first = first_frame(httpx.get(done["video_url"]).content)
    assert first.size == (720, 540)
    red = first.getpixel((first.width // 4, first.height // 2))
    assert isinstance(red, tuple)
    assert all(abs(got - want) <= 24 for got, want in zip(red, (200, 40, 40), strict=True)), red


def test_errors_are_openais_envelope_naming_the_field(
    gateway: Gateway, client: httpx.Client
) -> None:
    url = "https://a.example/x.png"
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"model": "viduq2-pro", "style": "anime"}, "style", "style"),
        ({"model": "viduq2-pro", "images": url}, "images", "list"),
        ({"model": "viduq2-pro", "images": [url, 5]}, "images[1]", "string"),
        ({"model": "viduq2", "images": [url] * 8}, "images", "at most 7"),
        ({"model": "no-such-model"}, "model", "Supported models"),
        ({"model": "viduq2-pro", "duration": 99}, "duration", "allowed"),
        ({"model": "viduq2-pro", "duration": "5"}, "duration", "integer"),
        ({"model": "viduq2-pro", "audio": 1}, "audio", "boolean"),
        ({"model": "viduq2-pro", "off_peak": True, "audio": True}, "off_peak", "audio"),
        ({"prompt": "no model"}, "model", "model"),
    ]
    for fields, param, words in cases:
        body = {"prompt": "x", **FAST, **fields}
        message = openai_error(client.post("/v1/video/create", json=body), 400, param)
        assert words in message, (fields, message)
    as_form = client.post("/v1/video/create", data={"model": "viduq2-pro", "prompt": "x"})
    assert "application/json" in openai_error(as_form, 415, "Content-Type")
    not_json = client.post(
        "/v1/video/create", content=b"{", headers={"content-type": "application/json"}
    )
    assert "JSON" in openai_error(not_json, 400, None)
    nobody = httpx.post(f"{gateway.base_url}/v1/video/create", json={"model": "viduq2-pro"})
    openai_error(nobody, 401, None)

    assert "id" in openai_error(client.get("/v1/video/query"), 400, "id")
    missing = "video_01ZZZZZZZZZZZZZZZZZZZZZZZZ"
    openai_error(client.get("/v1/video/query", params={"id": missing}), 404, "id")
    mine = created(client, model="viduq2-pro")
    with gateway.client(gateway.new_key("unified-stranger")) as stranger:
        openai_error(stranger.get("/v1/video/query", params={"id": mine}), 404, "id")
    client.post(f"/v1/videos/{mine}/cancel")


def test_an_idempotency_key_answers_the_same_task(client: httpx.Client) -> None:
    body = {"model": "viduq2-pro", "prompt": "once", **FAST}
    headers = {"Idempotency-Key": f"unified-{time.time_ns()}"}
    first = client.post("/v1/video/create", json=body, headers=headers).json()
    again = client.post("/v1/video/create", json=body, headers=headers).json()
    assert again["task_id"] == first["task_id"]
    assert again["created_at"] == first["created_at"]
    other = client.post("/v1/video/create", json={**body, "prompt": "twice"}, headers=headers)
    assert "Idempotency-Key" in openai_error(other, 409, "Idempotency-Key")
    client.post(f"/v1/videos/{first['task_id']}/cancel")


def test_a_cancelled_task_is_failed_with_code_cancelled(client: httpx.Client) -> None:
    task_id = created(client, model="viduq3-pro", duration=16, resolution="1080p")
    assert client.post(f"/v1/videos/{task_id}/cancel").status_code == 200
    seen = client.get("/v1/video/query", params={"id": task_id}).json()
    assert seen["status"] == "failed"
    assert seen["error"]["code"] == "cancelled"
    assert "completed_at" not in seen
    assert "video_url" not in seen
