"""Who may see what: key isolation, signed links, Range requests, idempotent creates."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from conftest import image_bytes
from gatewaylib import SECRET, Gateway, assert_video, wait_final
from vidugate.services.signing import UrlSigner

FAST = {"model": "viduq2-turbo", "prompt": "a red kite", "duration": 1, "resolution": "540p"}


@pytest.fixture(scope="module")
def finished(gateway: Gateway) -> dict[str, Any]:
    key = gateway.new_key("owner")
    with gateway.client(key) as client:
        created = client.post("/v1/videos", json=FAST).json()
        done = wait_final(client, created["id"])
    assert done["status"] == "completed"
    return {"key": key, "video": done}


def test_another_key_sees_nothing(gateway: Gateway, finished: dict[str, Any]) -> None:
    video_id = finished["video"]["id"]
    with gateway.client(gateway.new_key("stranger")) as stranger:
        missing = stranger.get("/v1/videos/video_01ZZZZZZZZZZZZZZZZZZZZZZZZ")
        for response in (
            stranger.get(f"/v1/videos/{video_id}"),
            stranger.get(f"/v1/videos/{video_id}/content"),
            stranger.post(f"/v1/videos/{video_id}/cancel"),
            stranger.delete(f"/v1/videos/{video_id}"),
        ):
            assert response.status_code == 404
            # Exactly like a missing id, but for the id itself in the message.
            assert response.json()["error"]["code"] == missing.json()["error"]["code"]
        assert stranger.get("/v1/videos").json()["data"] == []
    with gateway.client(finished["key"]) as owner:
        assert owner.get(f"/v1/videos/{video_id}").status_code == 200


def test_revoked_key_is_refused(gateway: Gateway) -> None:
    from gatewaylib import cli

    key = gateway.new_key("short-lived")
    with gateway.client(key) as client:
        assert client.get("/v1/videos").status_code == 200
        listed = cli(gateway.env, "keys", "list")
        assert key[:10] in listed.stdout
        assert key not in listed.stdout  # only prefixes are shown; keys are not stored
        revoked = cli(gateway.env, "keys", "revoke", key[:10])
        assert revoked.returncode == 0, revoked.stderr
        deadline = time.monotonic() + 10  # another process's revoke: the key cache's TTL
        while client.get("/v1/videos").status_code != 401:
            assert time.monotonic() < deadline
            time.sleep(0.5)


def test_keys_are_stored_only_as_hashes(gateway: Gateway) -> None:
    key = gateway.new_key("hashed")
    rows = gateway.sql("SELECT * FROM api_keys")
    cells = [str(cell) for row in rows for cell in row]
    assert not any(key in cell for cell in cells)
    assert hashlib.sha256(key.encode()).hexdigest() in cells


def test_signed_url_needs_no_key(gateway: Gateway, finished: dict[str, Any]) -> None:
    url = finished["video"]["video_url"]
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "video/mp4"
    assert_video(response.content, width=960, height=540, seconds=1, audio=False)
    thumb = httpx.get(finished["video"]["thumbnail_url"])
    assert thumb.status_code == 200
    assert thumb.headers["content-type"] == "image/jpeg"


def _sign(video_id: str, variant: str, expires: int) -> str:
    message = f"{video_id}\n{variant}\n{expires}".encode()
    return hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()[:43]


def test_signed_url_fails_when_altered_or_expired(
    gateway: Gateway, finished: dict[str, Any]
) -> None:
    url = finished["video"]["video_url"]
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    base = f"{gateway.base_url}{parts.path}"
    tampered = {
        **query,
        "signature": query["signature"][:-1] + ("0" if query["signature"][-1] != "0" else "1"),
    }
    assert httpx.get(base, params=tampered).status_code == 403
    later = {**query, "expires": str(int(query["expires"]) + 3600)}
    assert httpx.get(base, params=later).status_code == 403
    other_variant = {**query, "variant": "thumbnail"}
    assert httpx.get(base, params=other_variant).status_code == 403
    past = int(time.time()) - 10
    expired = {
        "variant": "video",
        "expires": str(past),
        "signature": _sign(finished["video"]["id"], "video", past),
    }
    response = httpx.get(base, params=expired)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "signature_expired"
    # Good signature, other video: the signature covers the id.
    other = f"{gateway.base_url}/v1/videos/video_01ZZZZZZZZZZZZZZZZZZZZZZZZ/content"
    assert httpx.get(other, params=query).status_code == 403


def test_range_requests(gateway: Gateway, finished: dict[str, Any]) -> None:
    video_id = finished["video"]["id"]
    with gateway.client(finished["key"]) as client:
        whole = client.get(f"/v1/videos/{video_id}/content")
        size = len(whole.content)
        assert whole.headers["accept-ranges"] == "bytes"
        assert int(whole.headers["content-length"]) == size
        first = client.get(f"/v1/videos/{video_id}/content", headers={"Range": "bytes=0-99"})
        assert first.status_code == 206
        assert first.headers["content-range"] == f"bytes 0-99/{size}"
        assert first.content == whole.content[:100]
        tail = client.get(f"/v1/videos/{video_id}/content", headers={"Range": "bytes=-50"})
        assert tail.status_code == 206
        assert tail.content == whole.content[-50:]
        middle = client.get(f"/v1/videos/{video_id}/content", headers={"Range": "bytes=1000-"})
        assert middle.content == whole.content[1000:]
        beyond = client.get(f"/v1/videos/{video_id}/content", headers={"Range": f"bytes={size}-"})
        assert beyond.status_code == 416
        assert beyond.headers["content-range"] == f"bytes */{size}"


def test_idempotency_key_returns_the_same_task(gateway: Gateway) -> None:
    with gateway.client(gateway.new_key("idem")) as client:
        headers = {"Idempotency-Key": "order-42"}
        first = client.post("/v1/videos", json=FAST, headers=headers)
        second = client.post("/v1/videos", json=FAST, headers=headers)
        assert first.status_code == second.status_code == 200
        assert first.json()["id"] == second.json()["id"]
        different = client.post("/v1/videos", json={**FAST, "prompt": "other"}, headers=headers)
        assert different.status_code == 409
        assert different.json()["error"]["param"] == "Idempotency-Key"
        assert len(client.get("/v1/videos").json()["data"]) == 1


def test_request_id_is_echoed(gateway: Gateway) -> None:
    response = httpx.get(f"{gateway.base_url}/healthz", headers={"X-Request-ID": "trace-abc.1"})
    assert response.headers["x-request-id"] == "trace-abc.1"
    generated = httpx.get(f"{gateway.base_url}/healthz").headers["x-request-id"]
    assert generated.startswith("req_")


def test_health_and_openapi(gateway: Gateway) -> None:
    assert httpx.get(f"{gateway.base_url}/readyz").json()["checks"] == {
        "database": "ok",
        "worker": "ok",
    }
    spec = httpx.get(f"{gateway.base_url}/openapi.json").json()
    operation = spec["paths"]["/v1/videos"]["post"]
    assert set(operation["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert "/v1/videos/{video_id}/content" in spec["paths"]


def test_input_images_are_served_only_by_signed_link_while_the_task_runs(
    gateway: Gateway,
) -> None:
    png = image_bytes(64, 48)
    with gateway.client(gateway.new_key("inputs")) as client:
        created = client.post(
            "/v1/videos",
            files=[
                ("model", (None, "viduq3-pro")),
                ("prompt", (None, "long")),
                ("duration", (None, "16")),
                ("resolution", (None, "1080p")),
                ("images", ("in.png", png)),
            ],
        ).json()
        query = UrlSigner(SECRET.encode(), 3600).sign(created["id"], "input0")
        url = f"{gateway.base_url}/v1/inputs/{created['id']}/0?{query}"
        served = httpx.get(url)
        assert served.status_code == 200
        assert served.content == png
        assert served.headers["content-type"] == "image/png"
        assert httpx.get(url.replace("/0?", "/1?")).status_code == 403  # signed for input 0
        forged = url[:-1] + ("1" if url[-1] == "0" else "0")  # one hex digit of the signature
        assert httpx.get(forged).status_code == 403
        client.post(f"/v1/videos/{created['id']}/cancel")
        assert httpx.get(url).status_code == 404  # not once the task has stopped
