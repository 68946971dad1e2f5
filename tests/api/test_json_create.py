"""POST /v1/videos as JSON: the same fields and rules as multipart, images inline or by URL."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import image_bytes
from gatewaylib import Gateway, assert_video, free_port, wait_final

PNG = image_bytes(400, 200)  # 2:1


@pytest.fixture(scope="module")
def image_server() -> Iterator[str]:
    """Serves PNG at /image.png from 127.0.0.2, the one private address the gateway may reach."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/redirect-to-loopback":
                self.send_response(302)
                port = self.server.server_address[1]  # type: ignore[index]
                self.send_header("Location", f"http://127.0.0.1:{port}/x")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(PNG)))
            self.end_headers()
            self.wfile.write(PNG)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.2", free_port("127.0.0.2")), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.2:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_json_text_to_video(gateway: Gateway) -> None:
    with gateway.client() as client:
        created = client.post(
            "/v1/videos",
            json={
                "model": "viduq2-pro",
                "prompt": "A paper boat on a river",
                "aspect_ratio": "9:16",
                "resolution": "540p",
                "duration": 2,
                "bgm": True,
                "seed": 42,
                "payload": "opaque-123",
                "meta_data": '{"order": 7}',
            },
        )
        assert created.status_code == 200, created.text
        body = created.json()
        assert body["size"] == "540x960"
        assert body["seed"] == 42
        assert body["payload"] == "opaque-123"
        assert body["meta_data"] == '{"order": 7}'
        done = wait_final(client, body["id"])
        assert done["status"] == "completed"
        video = client.get(f"/v1/videos/{body['id']}/content").content
    # bgm on a q2 model at 2 s adds a music track.
    assert_video(video, width=540, height=960, seconds=2, audio=True)


@pytest.mark.parametrize("form", ["base64", "data_uri", "url"])
def test_json_image_to_video(gateway: Gateway, image_server: str, form: str) -> None:
    encoded = base64.b64encode(PNG).decode()
    images = {
        "base64": encoded,
        "data_uri": f"data:image/png;base64,{encoded}",
        "url": f"{image_server}/image.png",
    }[form]
    with gateway.client() as client:
        created = client.post(
            "/v1/videos",
            json={
                "model": "viduq2-turbo",
                "prompt": "",
                "images": images,
                "duration": 1,
                "resolution": "540p",
            },
        )
        assert created.status_code == 200, created.text
        assert created.json()["size"] == "1080x540"  # the image's 2:1 at 540p
        done = wait_final(client, created.json()["id"])
        video = client.get(f"/v1/videos/{done['id']}/content").content
    assert_video(video, width=1080, height=540, seconds=1, audio=False)


def test_image_url_to_loopback_is_refused(gateway: Gateway, image_server: str) -> None:
    port = image_server.rsplit(":", 1)[1]
    with gateway.client() as client:
        for url in (
            f"http://127.0.0.1:{port}/image.png",
            f"http://localhost:{port}/image.png",
            "http://169.254.169.254/latest/meta-data/",
            f"{image_server}/redirect-to-loopback",
        ):
            response = client.post(
                "/v1/videos", json={"model": "viduq3-pro", "prompt": "x", "images": url}
            )
            assert response.status_code == 400, (url, response.text)
            error = response.json()["error"]
            assert error["param"] == "images"
            assert error["code"] == "url_not_allowed"
            assert "VIDUGATE_FETCH_ALLOW_PRIVATE" in error["message"]


def test_payload_and_meta_data_survive_listing(gateway: Gateway) -> None:
    key = gateway.new_key("listing")
    with gateway.client(key) as client:
        created = client.post(
            "/v1/videos",
            json={"model": "viduq2-turbo", "prompt": "p", "duration": 1, "payload": "é" * 10},
        ).json()
        listed = client.get("/v1/videos").json()
    assert [v["id"] for v in listed["data"]] == [created["id"]]
    assert listed["data"][0]["payload"] == "é" * 10


def test_watermark_image_from_url(gateway: Gateway, image_server: str) -> None:
    with gateway.client() as client:
        created = client.post(
            "/v1/videos",
            json={
                "model": "viduq2-turbo",
                "prompt": "a marked clip",
                "duration": 1,
                "resolution": "540p",
                "watermark": True,
                "wm_position": 2,
                "wm_url": f"{image_server}/image.png",
            },
        )
        assert created.status_code == 200, created.text
        done = wait_final(client, created.json()["id"])
        assert done["status"] == "completed"
        refused = client.post(
            "/v1/videos",
            json={**OK_WM, "wm_url": "http://127.0.0.1:9/wm.png"},
        )
        assert refused.status_code == 400
        assert refused.json()["error"]["param"] == "wm_url"


OK_WM = {"model": "viduq2-turbo", "prompt": "p", "duration": 1, "watermark": True}
