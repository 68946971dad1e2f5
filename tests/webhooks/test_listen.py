"""The README's webhook walk-through, as a new user runs it: a gateway allowed to call this
machine, `vidugate webhooks listen` as the receiver, an endpoint registered with curl's
request, a video made; the listener prints the verified `video.completed`, and refuses a
forged delivery."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from gatewaylib import Gateway, free_port, wait_final
from waiting import wait_until

pytestmark = [pytest.mark.process, pytest.mark.slow]

CLIP = {"model": "viduq2-turbo", "prompt": "a kite", "duration": 1, "resolution": "540p"}


def test_listen_prints_verified_deliveries(tmp_path: Path) -> None:
    gw = Gateway(tmp_path / "gw", {"VIDUGATE_FETCH_ALLOW_NETWORKS": '["127.0.0.0/8"]'}).start()
    port = free_port()
    listener = subprocess.Popen(
        [sys.executable, "-m", "vidugate", "webhooks", "listen", "--port", str(port),
         "--base-url", gw.base_url],
        env=gw.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: list[str] = []
    assert listener.stdout is not None
    out = listener.stdout
    reader = threading.Thread(target=lambda: lines.extend(out), daemon=True)
    reader.start()
    try:
        wait_until(lambda: any("listening" in line for line in lines), what="the listener")
        with gw.client() as client:
            made = client.post("/v1/webhooks/endpoints", json={"url": f"http://127.0.0.1:{port}/"})
            assert made.status_code == 200, made.text
            video_id = client.post("/v1/videos", json=CLIP).json()["id"]
            assert wait_final(client, video_id)["status"] == "completed"
        done = f"verified video.completed {video_id} status=completed"
        wait_until(lambda: any(done in line for line in lines), what=done)
        forged = httpx.post(
            f"http://127.0.0.1:{port}/",
            content=b'{"type": "video.completed"}',
            headers={
                "webhook-id": "msg_x",
                "webhook-timestamp": "1",
                "webhook-signature": "v1a,AAAA",
            },
        )
        assert forged.status_code == 400
        wait_until(lambda: any("REFUSED msg_x" in line for line in lines), what="the refusal")
    finally:
        listener.terminate()
        listener.wait(10)
        reader.join(10)
        out.close()
        gw.stop()
