"""PostgreSQL stopped and started again under load: while it is away, requests fail cleanly
(503 with Retry-After, in the error envelope), /readyz says so, and afterwards the gateway
recovers by itself: every create a client retried with its Idempotency-Key exists exactly
once and completes."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from clusterlib import report
from pglib import PrivateServer, private_server

from gatewaylib import Gateway, wait_final
from waiting import wait_until

pytestmark = pytest.mark.process

CREATES = 24
OUTAGE_SECONDS = 5.0


@pytest.fixture
def server() -> Iterator[PrivateServer]:
    started = private_server()
    if started is None:
        pytest.skip("PostgreSQL's server programs are not installed here")
    yield started
    started.remove()


class Load:
    """Clients going on as usual: creates (each retried with its own Idempotency-Key until
    accepted, as the OpenAI SDK does) and status polls of what was created."""

    def __init__(self, gateway: Gateway) -> None:
        self.client = gateway.client()
        self.reader = gateway.client()
        self.ids: list[str] = []
        self.codes: Counter[int] = Counter()
        self.refusals: list[httpx.Response] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._create, daemon=True),
            threading.Thread(target=self._poll, daemon=True),
        ]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)
        self.client.close()
        self.reader.close()

    def _note(self, response: httpx.Response) -> None:
        with self.lock:
            self.codes[response.status_code] += 1
            if response.status_code != 200:
                self.refusals.append(response)

    def _create(self) -> None:
        for index in range(CREATES):
            body = {"model": "viduq2-turbo", "prompt": f"outage {index}", "duration": 1}
            headers = {"Idempotency-Key": f"outage-{index}"}
            while not self.stop.is_set():
                response = self.client.post("/v1/videos", json=body, headers=headers)
                self._note(response)
                if response.status_code == 200:
                    with self.lock:
                        self.ids.append(response.json()["id"])
                    break
                time.sleep(0.25)  # the client backs off (Retry-After says 2 s; keep it brisk)
            time.sleep(0.3)

    def _poll(self) -> None:
        for turn in itertools.count():
            if self.stop.is_set():
                return
            with self.lock:
                ids = list(self.ids)
            if ids:
                self._note(self.reader.get(f"/v1/videos/{ids[turn % len(ids)]}"))
            time.sleep(0.02)


def test_database_restart_under_load(tmp_path: Path, server: PrivateServer) -> None:
    gateway = Gateway(
        tmp_path / "gw", database_url=server.url, settings={"VIDUGATE_LEASE_SECONDS": "3"}
    ).start()
    readiness: Counter[int] = Counter()
    try:
        with Load(gateway) as load:
            wait_until(lambda: len(load.ids) >= 5, what="creates before the outage")
            server.stop()
            down_until = time.monotonic() + OUTAGE_SECONDS
            while time.monotonic() < down_until:
                readiness[httpx.get(f"{gateway.base_url}/readyz").status_code] += 1
                time.sleep(0.25)
            server.start()
            wait_until(lambda: len(load.ids) == CREATES, timeout=120, what="every create")
        ready = httpx.get(f"{gateway.base_url}/readyz")
        with gateway.client() as client:
            finals = [wait_final(client, video_id, timeout=120) for video_id in load.ids]
        stored = gateway.sql("SELECT count(*) FROM tasks")[0][0]
    finally:
        gateway.stop()
    # Refusals while the database was away: 503s in the envelope, with Retry-After.
    assert load.codes[503] > 0, load.codes
    assert set(load.codes) <= {200, 503}, load.codes
    for refused in load.refusals:
        assert refused.headers["retry-after"].isdigit()
        assert refused.json()["error"]["code"] == "database_unavailable", refused.text
    assert readiness[503] > 0
    assert ready.status_code == 200
    # Recovered by itself: each create exactly once, each completed.
    assert len(set(load.ids)) == CREATES
    assert stored == CREATES
    assert [f["status"] for f in finals] == ["completed"] * CREATES
    log = gateway.all_logs()
    assert "Traceback" not in log
    assert "api.unhandled" not in log
    report(
        "PostgreSQL stopped for 5 s under load",
        requests=sum(load.codes.values()),
        refused_503=load.codes[503],
        other_errors=sum(n for code, n in load.codes.items() if code not in (200, 503)),
        creates=CREATES,
        duplicates=stored - CREATES,
        completed=sum(f["status"] == "completed" for f in finals),
        lost=CREATES - len(set(load.ids)),
    )
