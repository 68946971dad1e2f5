"""/metrics of a real `vidugate serve`, with 1 and 2 processes: a scrape's counters are
exactly what the test did, whichever process answers it (under --processes 2 the sum of
both, from prometheus-client's multiprocess files), and a process killed and replaced takes
none of its counts away. (The in-process tests share their counters with every gateway the
test process runs; these gateways have theirs to themselves.)"""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest
from clusterlib import create_videos, postgres_gateway
from metricslib import Scraped

from gatewaylib import Gateway, wait_final
from loglib import events
from waiting import wait_until

pytestmark = pytest.mark.process
TOKEN = "scrape-token-for-the-process-tests"
ITEM = "/v1/videos/{video_id}"


def _process_of(response: httpx.Response) -> str:
    """Which process answered: each names its request ids with a prefix of its own."""
    return response.headers["x-request-id"][4:12]


def _once(gateway: Gateway, path: str, token: str) -> httpx.Response:
    # A connection of its own: each is accepted by whichever process the kernel picks.
    headers = {"Authorization": f"Bearer {token}", "Connection": "close"}
    return httpx.get(gateway.base_url + path, headers=headers, timeout=30)


def _scrapes_by_each_process(gateway: Gateway, processes: int) -> dict[str, Scraped]:
    seen: dict[str, Scraped] = {}
    for _ in range(400):
        response = _once(gateway, "/metrics", TOKEN)
        assert response.status_code == 200, response.text
        seen.setdefault(_process_of(response), Scraped.parse(response.text))
        if len(seen) == processes:
            return seen
    raise AssertionError(f"only {sorted(seen)} answered 400 scrapes")


def _assert_counts(scraped: Scraped, misses: int) -> None:
    """What the test did, counted (requests, task changes, renders, copies) and read (tasks)."""
    requests = "vidugate_http_requests_total"
    assert scraped.value(requests, route=ITEM, method="GET", status="404") == misses
    assert scraped.value(requests, route="/v1/videos", method="POST", status="200") == 2
    changes = "vidugate_task_transitions_total"
    for name in ("Created", "Submitted", "Completed"):
        assert scraped.value(changes, transition=name, provider="sandbox") == 2, name
    assert scraped.value("vidugate_render_duration_seconds_count", outcome="succeeded") == 2
    copies = "vidugate_result_copy_duration_seconds_count"
    assert scraped.value(copies, provider="sandbox", outcome="ok") == 2
    assert scraped.value("vidugate_result_copy_bytes_total", provider="sandbox") > 0
    done = {"state": "completed", "model": "viduq2-turbo", "provider": "sandbox"}
    assert scraped.value("vidugate_tasks", **done) == 2


@pytest.mark.parametrize("processes", [1, 2])
def test_a_scrape_counts_what_every_process_did(tmp_path: Path, processes: int) -> None:
    gateway = postgres_gateway(
        tmp_path, VIDUGATE_PROCESSES=str(processes), VIDUGATE_METRICS_TOKEN=TOKEN
    ).start()
    try:
        # Misses on the status route until every process has answered some.
        answered: dict[str, int] = {}
        while len(answered) < processes or min(answered.values()) < 3:
            response = _once(gateway, "/v1/videos/video_absent", gateway.key)
            assert response.status_code == 404
            answered[_process_of(response)] = answered.get(_process_of(response), 0) + 1
            assert sum(answered.values()) < 2000, answered
        misses = sum(answered.values())
        with gateway.client() as client:
            ids = create_videos(client, 2, "counted", duration=1)
            assert [wait_final(client, i)["status"] for i in ids] == ["completed"] * 2
        for scraped in _scrapes_by_each_process(gateway, processes).values():
            _assert_counts(scraped, misses)
        if processes > 1:
            # A process killed: its stand-in starts from nothing, the sums keep its counts.
            victim = min(_servers(gateway))
            subprocess.run(["kill", "-9", str(victim)], check=True)
            wait_until(lambda: victim not in _servers(gateway) and len(_servers(gateway)) == 2)
            for scraped in _scrapes_by_each_process(gateway, processes).values():
                _assert_counts(scraped, misses)
        # The default (no --access-log): one http.request event a request, no uvicorn line.
        log = gateway.all_logs()
        assert len(events(log, "http.request", route=ITEM, status=404)) == misses
        assert not events(log, logger="uvicorn.access")
    finally:
        gateway.stop()


def _servers(gateway: Gateway) -> set[int]:
    assert gateway.process is not None
    found = subprocess.run(
        ["pgrep", "-P", str(gateway.process.pid)], capture_output=True, text=True, check=False
    )
    # uvicorn's supervisor keeps a resource tracker too: the servers answer to /healthz.
    return {int(pid) for pid in found.stdout.split()} - _trackers(gateway)


def _trackers(gateway: Gateway) -> set[int]:
    assert gateway.process is not None
    found = subprocess.run(
        ["pgrep", "-P", str(gateway.process.pid), "-f", "resource_tracker"],
        capture_output=True,
        text=True,
        check=False,
    )
    return {int(pid) for pid in found.stdout.split()}
