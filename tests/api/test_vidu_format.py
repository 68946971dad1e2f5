"""Vidu's own format (/vidu/ent/v2/...) end to end over real HTTP: Vidu's bodies, answers,
states and error envelope, on the same tasks as /v1/videos."""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from PIL import Image

from conftest import image_bytes
from gatewaylib import Gateway, assert_video, wait_final

V = "/vidu/ent/v2"
FAST = {"duration": 1, "resolution": "540p"}


def data_uri(width: int, height: int) -> str:
    return "data:image/png;base64," + base64.b64encode(image_bytes(width, height)).decode()


def vidu_client(gateway: Gateway, key: str) -> httpx.Client:
    return gateway.client(key, "Token")


@pytest.fixture(scope="module")
def vidu(gateway: Gateway) -> Iterator[httpx.Client]:
    with vidu_client(gateway, gateway.new_key("vidu")) as client:
        yield client


def wait_done(client: httpx.Client, task_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"{V}/tasks/{task_id}/creations")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["state"] in ("success", "failed"):
            return body
        assert body["state"] in ("queueing", "processing"), body
        time.sleep(0.2)
    raise AssertionError(f"{task_id} not done after {timeout}s")


def param_of(body: dict[str, Any]) -> dict[str, str]:
    """The field an error names, which the gateway adds to Vidu's metadata (a string)."""
    param = body["metadata"].get("param")
    assert param is None or (isinstance(param, str) and param), body
    return {} if param is None else {"param": param}


def vidu_error(response: httpx.Response, status: int, reason: str) -> str:
    """Vidu's envelope, exactly; returns the message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body == {
        "code": status,
        "reason": reason,
        "message": body["message"],
        "metadata": {"trace_id": response.headers["x-request-id"], **param_of(body)},
    }
    assert body["message"]
    message: str = body["message"]
    return message


CREATES = [
    ("text2video", {"model": "viduq3-pro", "aspect_ratio": "9:16", "audio": False}, (540, 960)),
    ("img2video", {"model": "viduq2-turbo", "images": [data_uri(320, 240)]}, (720, 540)),
    (
        "start-end2video",
        {"model": "viduq2-pro", "images": [data_uri(240, 320), data_uri(250, 320)]},
        (540, 720),
    ),
    (
        "reference2video",
        {
            "model": "viduq2",
            "aspect_ratio": "16:9",
            "images": [data_uri(240, 320), data_uri(320, 320), data_uri(64, 64)],
        },
        (960, 540),
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("endpoint", "fields", "size"), CREATES, ids=[c[0] for c in CREATES])
def test_create_poll_and_download(
    vidu: httpx.Client, endpoint: str, fields: dict[str, Any], size: tuple[int, int]
) -> None:
    body = {"prompt": f"a {endpoint} clip", "payload": "p-1", **FAST, **fields}
    created = vidu.post(f"{V}/{endpoint}", json=body)
    assert created.status_code == 200, created.text
    answer = created.json()
    assert answer["task_id"].startswith("video_")
    assert answer["state"] == "created"
    assert answer["credits"] == 0
    assert answer["model"] == fields["model"]
    assert (answer["duration"], answer["resolution"], answer["payload"]) == (1, "540p", "p-1")
    assert answer["seed"] > 0  # the seed the gateway picked
    assert answer.get("images") == fields.get("images")
    assert answer["created_at"].endswith("Z")
    assert datetime.fromisoformat(answer["created_at"]).tzinfo is not None

    done = wait_done(vidu, answer["task_id"])
    assert done["state"] == "success", done
    assert (done["id"], done["err_code"], done["payload"]) == (answer["task_id"], "", "p-1")
    [creation] = done["creations"]
    assert creation["watermarked_url"] == ""
    video = httpx.get(creation["url"])  # signed: no key
    assert video.status_code == 200
    assert_video(video.content, width=size[0], height=size[1], seconds=1, audio=False)
    cover = httpx.get(creation["cover_url"])
    with Image.open(io.BytesIO(cover.content)) as image:
        assert image.format == "JPEG"


def test_bearer_works_too_and_no_key_is_unauthorized(gateway: Gateway, vidu: httpx.Client) -> None:
    with gateway.client(gateway.new_key("bearer")) as bearer:
        assert bearer.get(f"{V}/tasks").status_code == 200
    message = vidu_error(httpx.get(f"{gateway.base_url}{V}/tasks"), 401, "Unauthorized")
    assert "key" in message.lower()
    vidu_error(vidu.get(f"{V}/no-such-route"), 404, "NotFound")


@pytest.mark.slow
def test_cancel_before_finish_then_after(vidu: httpx.Client) -> None:
    slow = {"model": "viduq3-pro", "prompt": "long", "duration": 16, "resolution": "1080p"}
    task_id = vidu.post(f"{V}/text2video", json=slow).json()["task_id"]
    cancelled = vidu.post(f"{V}/tasks/{task_id}/cancel", json={"id": task_id})
    assert (cancelled.status_code, cancelled.json()) == (200, {})
    done = wait_done(vidu, task_id)
    assert (done["state"], done["err_code"], done["creations"]) == ("failed", "TaskCanceled", [])
    message = vidu_error(
        vidu.post(f"{V}/tasks/{task_id}/cancel", json={"id": task_id}), 409, "Conflict"
    )
    assert "no longer be cancelled" in message

    other = vidu.post(f"{V}/tasks/{task_id}/cancel", json={"id": "video_other"})
    assert "id" in vidu_error(other, 400, "FieldInvalid")


@pytest.mark.slow
def test_list_pages_filters_and_keys(gateway: Gateway) -> None:
    key = gateway.new_key("vidu-list")
    with vidu_client(gateway, key) as client:
        ids = []
        for index in range(3):
            body = {"model": "viduq2", "prompt": f"clip {index}", **FAST}
            ids.append(client.post(f"{V}/text2video", json=body).json()["task_id"])
        for task_id in ids:
            assert wait_done(client, task_id)["state"] == "success"
        between = time.time()
        long = {"model": "viduq3-pro", "prompt": "long", "duration": 16, "resolution": "1080p"}
        cancelled = client.post(f"{V}/text2video", json=long).json()["task_id"]
        client.post(f"{V}/tasks/{cancelled}/cancel", json={"id": cancelled})
        newest_first = [cancelled, *ids[::-1]]

        def listed(**params: Any) -> tuple[list[str], str]:
            response = client.get(f"{V}/tasks", params=params)
            assert response.status_code == 200, response.text
            body = response.json()
            assert set(body) == {"tasks", "next_page_token"}
            return [task["id"] for task in body["tasks"]], body["next_page_token"]

        first, token = listed(**{"pager.page_size": 3})
        assert first == newest_first[:3]
        assert token
        rest, end = listed(**{"pager.page_size": 3, "pager.page_token": token})
        assert (rest, end) == (newest_first[3:], "")
        assert listed(state="success")[0] == ids[::-1]
        assert listed(state="failed")[0] == [cancelled]
        assert listed(task_ids=[ids[0], ids[2]])[0] == [ids[2], ids[0]]
        assert listed(task_ids=f"{ids[1]},{cancelled}")[0] == [cancelled, ids[1]]
        assert listed(created_at_from=str(between))[0] == [cancelled]
        before = datetime.fromtimestamp(between).astimezone().isoformat()
        assert listed(created_at_to=before)[0] == ids[::-1]
        assert listed(created_at_to="2001-01-01T00:00:00Z") == ([], "")

        entry = client.get(f"{V}/tasks", params={"task_ids": ids[0]}).json()["tasks"][0]
        assert (entry["type"], entry["model"], entry["prompt"]) == (
            "text2video",
            "viduq2",
            "clip 0",
        )
        assert entry["creations"][0]["url"].startswith("http")
        bad = client.get(f"{V}/tasks", params={"state": "done"})
        assert "state" in vidu_error(bad, 400, "FieldInvalid")
        bad = client.get(f"{V}/tasks", params={"pager.page_size": 0})
        assert "page_size" in vidu_error(bad, 400, "FieldInvalid")
    with vidu_client(gateway, gateway.new_key("vidu-stranger")) as stranger:
        assert stranger.get(f"{V}/tasks").json() == {"tasks": [], "next_page_token": ""}
        assert stranger.get(f"{V}/tasks", params={"task_ids": ids[0]}).json()["tasks"] == []


def test_validation_failures_use_vidus_envelope(vidu: httpx.Client) -> None:
    png = data_uri(64, 64)
    url = "https://a.example/x.png"
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("text2video", {"images": [png]}, "images"),
        ("img2video", {}, "images"),
        ("img2video", {"images": [url, url]}, "images"),
        ("start-end2video", {"images": [url]}, "images"),
        ("start-end2video", {"images": [url, url, url]}, "images"),
        ("reference2video", {"model": "viduq2", "images": []}, "images"),
        ("reference2video", {"model": "viduq2", "images": [url] * 8}, "images"),
        ("start-end2video", {"images": [url, url], "duration": 9}, "1-8"),
        ("text2video", {"model": "viduq1-classic"}, "model"),
        ("reference2video", {"model": "viduq3-pro", "images": [url]}, "model"),
        ("img2video", {"images": [png], "aspect_ratio": "16:9"}, "aspect_ratio"),
        ("text2video", {"template": "hug"}, "template"),
        ("text2video", {"duration": "5"}, "duration"),
        ("text2video", {"callback_url": "ftp://x"}, "callback_url"),
        ("text2video", {"movement_amplitude": "huge"}, "movement_amplitude"),
    ]
    for endpoint, fields, words in cases:
        body = {"model": "viduq2-pro", "prompt": "x", **FAST, **fields}
        message = vidu_error(vidu.post(f"{V}/{endpoint}", json=body), 400, "FieldInvalid")
        assert words.lower() in message.lower(), (endpoint, fields, message)
    not_json = vidu.post(
        f"{V}/text2video", content=b"{", headers={"content-type": "application/json"}
    )
    assert "JSON" in vidu_error(not_json, 400, "FieldInvalid")


def test_start_end_frames_must_have_close_ratios(vidu: httpx.Client) -> None:
    body = {"model": "viduq3-pro", "prompt": "x", **FAST}
    wide_then_tall = [data_uri(320, 240), data_uri(240, 320)]
    response = vidu.post(f"{V}/start-end2video", json={**body, "images": wide_then_tall})
    message = vidu_error(response, 400, "FieldInvalid")
    assert "images" in message
    assert "0.8" in message


@pytest.mark.slow
def test_each_surface_reads_the_others_tasks(gateway: Gateway, vidu: httpx.Client) -> None:
    body = {"model": "viduq2-pro", "prompt": "made on vidu", "images": [data_uri(320, 240)]}
    made_on_vidu = vidu.post(f"{V}/img2video", json={**body, **FAST}).json()["task_id"]
    made_on_openai = vidu.post(
        "/v1/videos", json={"model": "viduq2-turbo", "prompt": "made on v1", **FAST}
    ).json()["id"]

    seen = wait_final(vidu, made_on_vidu)
    assert (seen["status"], seen["size"], seen["model"]) == ("completed", "720x540", "viduq2-pro")
    sdk_style = vidu.get(f"/v1/videos/{made_on_vidu}", headers={"X-Stainless-Lang": "python"})
    assert sdk_style.json()["status"] == "completed"
    creations = wait_done(vidu, made_on_openai)
    assert creations["state"] == "success"
    link = wait_final(vidu, made_on_openai)["video_url"]
    assert creations["creations"][0]["url"].split("&expires=")[0] == link.split("&expires=")[0]
    listed = [video["id"] for video in vidu.get("/v1/videos", params={"limit": 100}).json()["data"]]
    assert {made_on_vidu, made_on_openai} <= set(listed)

    missing = "video_01ZZZZZZZZZZZZZZZZZZZZZZZZ"
    with vidu_client(gateway, gateway.new_key("vidu-other")) as stranger:
        for path in (f"{V}/tasks/{made_on_vidu}/creations", f"{V}/tasks/{missing}/creations"):
            vidu_error(stranger.get(path), 404, "TaskNotFound")
        for task_id in (made_on_vidu, missing):
            cancel = stranger.post(f"{V}/tasks/{task_id}/cancel", json={"id": task_id})
            vidu_error(cancel, 404, "TaskNotFound")
