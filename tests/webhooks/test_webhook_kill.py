"""kill -9 mid-delivery loses nothing: a real `vidugate serve` is killed while its first
delivery hangs at the receiver; once restarted it sends that message again (its lease ran
out) under the same webhook-id, and the receiver gets every event, in order."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from gatewaylib import Gateway, wait_final
from waiting import wait_until

pytestmark = [pytest.mark.process, pytest.mark.slow]

CLIP = {"model": "viduq2-turbo", "prompt": "a kite", "duration": 1, "resolution": "540p"}


class Hanging:
    """Records each delivery; the first one is held for `hold` seconds before its answer."""

    def __init__(self, hold: float) -> None:
        self.hold = hold
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        self.held = threading.Event()


@contextmanager
def hanging_receiver(hold: float) -> Iterator[tuple[str, Hanging]]:
    state = Hanging(hold)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with state.lock:
                first = not state.held.is_set()
                state.held.set()
                if not first:
                    state.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
            if first:
                time.sleep(state.hold)  # the gateway is killed meanwhile
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()


def test_kill_mid_delivery_loses_nothing(tmp_path: Path) -> None:
    settings = {
        "VIDUGATE_FETCH_ALLOW_NETWORKS": '["127.0.0.0/8"]',
        "VIDUGATE_WEBHOOK_TIMEOUT_SECONDS": "3",  # a lease outlives it by 5 s
        "VIDUGATE_WEBHOOK_RETRY_FIRST_SECONDS": "0.5",
    }
    with hanging_receiver(hold=2.5) as (url, receiver):
        gw = Gateway(tmp_path / "gw", settings).start()
        try:
            with gw.client() as client:
                endpoint = client.post("/v1/webhooks/endpoints", json={"url": url}).json()
                video_id = client.post("/v1/videos", json=CLIP).json()["id"]
                wait_until(receiver.held.is_set, timeout=60, what="the first delivery")
                gw.kill()  # mid-delivery: the receiver holds the first try
                gw.start()
                assert wait_final(client, video_id)["status"] == "completed"
                wait_until(lambda: len(receiver.got) >= 3, timeout=90, what="every event")
        finally:
            gw.stop()
    verifier = Webhook(endpoint["secret"])
    events = [verifier.verify(body, headers)["type"] for headers, body in receiver.got]
    assert events == ["video.queued", "video.processing", "video.completed"]
    ids = [headers["webhook-id"] for headers, _body in receiver.got]
    assert len(set(ids)) == 3
    rows = gw.sql("SELECT id, state, attempts FROM webhook_messages ORDER BY n")
    assert [row[0] for row in rows] == ids
    assert {row[1] for row in rows} == {"delivered"}
    # The killed try was never recorded (its process died); the one after it was.
    assert rows[0][2] == 1
