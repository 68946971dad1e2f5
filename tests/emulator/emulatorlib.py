"""Run the Vidu emulator for real (uvicorn in a thread, on a free loopback port) and talk
to it over HTTP; plus a callback receiver and small request helpers.

Tests that need time to pass give the emulator a `ManualClock` and move it
(`advance_once_waiting`, or `clock.advance` where nothing waits on it) instead of sleeping:
on a busy machine a sleep can be too short or let too much happen."""

from __future__ import annotations

import base64
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import uvicorn
from PIL import Image

from vidugate.clock import Clock, ManualClock
from vidugate.emulator import Emulator, EmulatorConfig, create_emulator
from waiting import wait_until

KEY_A, KEY_B = "key-a", "key-b"


def fast_config(**overrides: Any) -> EmulatorConfig:
    """Short timings, two rich accounts and a poor one; fixed results unless asked."""
    values: dict[str, Any] = {
        "accounts": {KEY_A: 10_000, KEY_B: 10_000, "poor": 5},
        "queue_seconds": 0.1,
        "process_seconds": 0.3,
        "result_mode": "fixed",
        "callback_backoff": 0.05,
        "callback_timeout": 2.0,
    }
    values.update(overrides)
    return EmulatorConfig(**values)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningEmulator:
    emulator: Emulator
    base_url: str
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, key: str | None = KEY_A, scheme: str = "Token") -> httpx.Client:
        headers = {"Authorization": f"{scheme} {key}"} if key is not None else {}
        client = httpx.Client(base_url=self.base_url, headers=headers, timeout=30)
        self.clients.append(client)
        return client

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            response = client.request(method, f"/_emulator{path}", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self.admin("GET", "/stats")
        return result


@contextmanager
def run_emulator(config: EmulatorConfig, clock: Clock | None = None) -> Iterator[RunningEmulator]:
    app = create_emulator(config, clock=clock)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
            loop="uvloop",
            http="httptools",
            lifespan="on",
        )
    )
    thread = threading.Thread(target=server.run, name=f"emulator-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the emulator did not start")
        time.sleep(0.01)
    running = RunningEmulator(app.state.emulator, f"http://127.0.0.1:{port}")
    try:
        yield running
    finally:
        for client in running.clients:
            client.close()
        server.should_exit = True
        thread.join(30)
        assert not thread.is_alive(), "the emulator did not stop"


def create(client: httpx.Client, endpoint: str = "text2video", **body: Any) -> httpx.Response:
    body.setdefault("model", "viduq3-pro")
    if endpoint in ("text2video", "reference2video"):
        body.setdefault("prompt", "A cat chasing butterflies")
    return client.post(f"/ent/v2/{endpoint}", json=body)


def create_ok(client: httpx.Client, endpoint: str = "text2video", **body: Any) -> dict[str, Any]:
    response = create(client, endpoint, **body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def status(client: httpx.Client, task_id: str) -> dict[str, Any]:
    response = client.get(f"/ent/v2/tasks/{task_id}/creations")
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def wait_state(
    client: httpx.Client, task_id: str, states: set[str], timeout: float = 15
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        document = status(client, task_id)
        if document["state"] in states:
            return document
        if time.monotonic() > deadline:
            raise AssertionError(f"{task_id} never reached {states}: {document}")
        time.sleep(0.02)


def credits(client: httpx.Client) -> float:
    response = client.get("/ent/v2/credits")
    assert response.status_code == 200, response.text
    remain: float = response.json()["remains"][0]["credit_remain"]
    return remain


def image_data_uri(width: int = 320, height: int = 240, fmt: str = "PNG") -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (40, 120, 200)).save(buffer, format=fmt)
    mime = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp", "GIF": "gif"}[fmt]
    return f"data:image/{mime};base64," + base64.b64encode(buffer.getvalue()).decode()


def assert_vidu_error(
    response: httpx.Response, status: int, reason: str, mentions: str = ""
) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "reason", "message", "metadata"}, body
    assert body["code"] == status
    assert body["reason"] == reason, body
    assert body["metadata"]["trace_id"]
    assert mentions in body["message"], body


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.body)
        return document


class CallbackReceiver:
    """A plain HTTP server recording every POST; answers from `statuses` in turn, then 200."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.deliveries: list[Delivery] = []
        self.statuses = list(statuses or [])
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.deliveries.append(
                        Delivery(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    code = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> CallbackReceiver:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)

    def wait_for(self, count: int, timeout: float = 10) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.deliveries) >= count:
                    return list(self.deliveries)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} deliveries, got {self.deliveries}")


def advance_once_waiting(clock: ManualClock, seconds: float) -> None:
    """Advance by `seconds` once something waits exactly that long on the clock (a retry's
    back-off, say): advancing before it started waiting would not wake it."""
    wait_until(
        lambda: any(abs(left - seconds) < 1e-6 for left in clock.sleeping()),
        what=f"a sleeper of {seconds} s (sleeping: {clock.sleeping()})",
        every=0.01,
    )
    clock.advance(seconds)


def callbacks_settled(running: RunningEmulator) -> dict[str, Any]:
    """The callback counters once no task is watched and no delivery is pending: from then
    on nothing more is sent until something changes."""
    wait_until(
        lambda: not running.emulator.watched and running.stats()["callbacks"]["pending"] == 0,
        what="the callback dispatcher to settle",
        every=0.01,
    )
    callbacks: dict[str, Any] = running.stats()["callbacks"]
    return callbacks
