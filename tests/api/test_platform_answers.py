"""The seed platform's answers over real HTTP: its status and created_at in the create
answers of /vidu/ent/v2 (beside Vidu's own fields, for clients of either), its query route
/vidu/ent/v2/task/{id}/creations (singular), and one task read alike on every surface,
whichever surface made it."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from conftest import assert_clean_log, image_bytes
from gatewaylib import Gateway, assert_video, wait_final
from inprocess import InProcessGateway

V = "/vidu/ent/v2"
FAST = {"duration": 1, "resolution": "540p"}
DIALECT = "X-Vidugate-Vidu-Dialect"
# Vidu's own create answer; the platform's adds status (and has created_at as a number).
VIDU_FIELDS = {"task_id", "state", "model", "prompt", "duration", "seed", "resolution", "credits"}


def data_uri(width: int, height: int) -> str:
    return "data:image/png;base64," + base64.b64encode(image_bytes(width, height)).decode()


def as_client(gateway: Gateway, key: str, scheme: str) -> httpx.Client:
    return gateway.client(key, scheme)


@pytest.fixture(scope="module")
def key(gateway: Gateway) -> str:
    return gateway.new_key("platform")


@pytest.fixture(scope="module")
def token(gateway: Gateway, key: str) -> Iterator[httpx.Client]:
    with as_client(gateway, key, "Token") as client:
        yield client


@pytest.fixture(scope="module")
def bearer(gateway: Gateway, key: str) -> Iterator[httpx.Client]:
    with as_client(gateway, key, "Bearer") as client:
        yield client


def create(client: httpx.Client, headers: dict[str, str] | None = None) -> dict[str, Any]:
    body = {"model": "viduq2-pro", "prompt": "the platform's answer", **FAST}
    response = client.post(f"{V}/text2video", json=body, headers=headers or {})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert set(answer) >= VIDU_FIELDS, answer
    assert (answer["state"], answer["status"]) == ("created", "processing")
    client.post(f"{V}/tasks/{answer['task_id']}/cancel", json={})
    return answer


def test_vidu_clients_get_an_iso_created_at_and_the_platforms_a_number(
    token: httpx.Client, bearer: httpx.Client
) -> None:
    before = time.time()
    vidu = create(token)["created_at"]
    assert isinstance(vidu, str)
    assert vidu.endswith("Z")
    assert before - 1 <= datetime.fromisoformat(vidu).timestamp() <= time.time() + 1
    platform = create(bearer)["created_at"]
    assert isinstance(platform, int)
    assert before - 1 <= platform <= time.time() + 1

    # The header chooses, whatever the scheme, in any case.
    assert isinstance(create(token, {DIALECT: "platform"})["created_at"], int)
    assert isinstance(create(bearer, {DIALECT: "Vidu"})["created_at"], str)


def test_a_bad_dialect_header_is_refused_before_anything_is_made(
    gateway: Gateway, token: httpx.Client
) -> None:
    with as_client(gateway, gateway.new_key("platform-bad"), "Token") as client:
        body = {"model": "viduq2-pro", "prompt": "never made", **FAST}
        response = client.post(f"{V}/text2video", json=body, headers={DIALECT: "both"})
        assert response.status_code == 400, response.text
        error = response.json()
        assert error["reason"] == "FieldInvalid"
        assert DIALECT in error["message"]
        assert "vidu" in error["message"]
        assert "platform" in error["message"]
        assert client.get("/v1/videos").json()["data"] == []


@pytest.mark.slow
def test_the_singular_route_answers_the_platforms_shape(
    gateway: Gateway, token: httpx.Client
) -> None:
    body = {"model": "viduq2-pro", "prompt": "singular", **FAST}
    task_id = token.post(f"{V}/text2video", json=body).json()["task_id"]
    first = token.get(f"{V}/task/{task_id}/creations")
    assert first.status_code == 200, first.text
    seen = first.json()
    if seen["status"] == "processing":
        assert set(seen) == {"id", "status", "status_update_time"}, seen
    done = wait_final(token, task_id)
    answer = token.get(f"{V}/task/{task_id}/creations").json()
    assert set(answer) == {"id", "status", "video_url", "status_update_time"}, answer
    assert (answer["id"], answer["status"]) == (task_id, "completed")
    assert answer["status_update_time"] == done["completed_at"]
    video = httpx.get(answer["video_url"])
    assert video.status_code == 200
    assert_video(video.content, width=960, height=540, seconds=1, audio=False)

    missing = token.get(f"{V}/task/video_01ZZZZZZZZZZZZZZZZZZZZZZZZ/creations")
    assert (missing.status_code, missing.json()["reason"]) == (404, "TaskNotFound")
    with as_client(gateway, gateway.new_key("platform-stranger"), "Bearer") as stranger:
        other = stranger.get(f"{V}/task/{task_id}/creations")
        assert (other.status_code, other.json()["reason"]) == (404, "TaskNotFound")


def _read_everywhere(client: httpx.Client, task_id: str) -> dict[str, dict[str, Any]]:
    answers = {
        "openai": client.get(f"/v1/videos/{task_id}"),
        "vidu": client.get(f"{V}/tasks/{task_id}/creations"),
        "platform": client.get(f"{V}/task/{task_id}/creations"),
        "unified": client.get("/v1/video/query", params={"id": task_id}),
    }
    for surface, response in answers.items():
        assert response.status_code == 200, (surface, response.text)
    return {surface: response.json() for surface, response in answers.items()}


def _link(url: str) -> str:
    """A signed link without its expiry and signature: the file it opens."""
    return url.split("&expires=")[0]


@pytest.mark.slow
def test_a_task_made_on_any_surface_reads_on_every_surface(bearer: httpx.Client) -> None:
    image = data_uri(320, 240)
    made = {
        "openai": bearer.post(
            "/v1/videos", json={"model": "viduq2-turbo", "prompt": "from v1", **FAST}
        ).json()["id"],
        "vidu": bearer.post(
            f"{V}/img2video",
            json={"model": "viduq2-pro", "prompt": "from vidu", "images": [image], **FAST},
        ).json()["task_id"],
        "unified": bearer.post(
            "/v1/video/create",
            json={"model": "viduq2-pro", "prompt": "from unified", "images": [image], **FAST},
        ).json()["task_id"],
    }
    for maker, task_id in made.items():
        wait_final(bearer, task_id)
        seen = _read_everywhere(bearer, task_id)
        assert {answer.get("id") for answer in seen.values()} == {task_id}, (maker, seen)
        assert seen["openai"]["status"] == "completed"
        assert seen["vidu"]["state"] == "success"
        assert seen["platform"]["status"] == seen["unified"]["status"] == "completed"
        video = _link(seen["openai"]["video_url"])
        assert _link(seen["platform"]["video_url"]) == video
        assert _link(seen["unified"]["video_url"]) == video
        assert _link(seen["vidu"]["creations"][0]["url"]) == video
        assert seen["unified"]["created_at"] == seen["openai"]["created_at"]
        assert seen["unified"]["completed_at"] == seen["openai"]["completed_at"]
    size = bearer.get(f"/v1/videos/{made['unified']}").json()["size"]
    assert size == "720x540"  # the image's shape: the unified create made an img2video


@pytest.fixture(scope="module")
def api_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A gateway that runs no workers: its tasks stay queued until cancelled. It answers
    Vidu's created_at to every scheme."""
    gw = InProcessGateway(
        tmp_path_factory.mktemp("api-only"),
        settings={"VIDUGATE_ROLE": "api", "VIDUGATE_VIDU_DIALECT": "vidu"},
    ).start()
    yield gw
    gw.stop()
    assert_clean_log(gw)


def test_queued_reads_as_processing_and_cancelled_as_failed(api_only: Gateway) -> None:
    with api_only.client() as client:
        answer = client.post(
            f"{V}/text2video", json={"model": "viduq2-pro", "prompt": "waits", **FAST}
        ).json()
        assert isinstance(answer["created_at"], str)  # VIDUGATE_VIDU_DIALECT=vidu, for Bearer
        task_id = answer["task_id"]
        seen = _read_everywhere(client, task_id)
        assert seen["openai"]["status"] == "queued"
        assert seen["vidu"]["state"] == "queueing"
        assert seen["unified"] == {
            "id": task_id,
            "status": "processing",
            "progress": 0,
            "created_at": seen["openai"]["created_at"],
        }
        assert seen["platform"] == {
            "id": task_id,
            "status": "processing",
            "status_update_time": seen["openai"]["created_at"],
        }
        overridden = client.post(
            f"{V}/text2video",
            json={"model": "viduq2-pro", "prompt": "waits too", **FAST},
            headers={DIALECT: "platform"},
        ).json()
        assert isinstance(overridden["created_at"], int)  # the header comes first

        assert client.post(f"/v1/videos/{task_id}/cancel").status_code == 200
        seen = _read_everywhere(client, task_id)
        assert seen["openai"]["status"] == "cancelled"
        assert (seen["vidu"]["state"], seen["vidu"]["err_code"]) == ("failed", "TaskCanceled")
        unified = seen["unified"]
        assert (unified["status"], unified["error"]["code"]) == ("failed", "cancelled")
        assert "video_url" not in unified
        assert seen["platform"] == {
            "id": task_id,
            "status": "failed",
            "status_update_time": seen["openai"]["completed_at"],
        }
