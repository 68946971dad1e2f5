"""The process's memory stays flat whatever clients send. Tasks hold the largest fields the
caps allow (payload 1,048,576 characters, meta_data 64 KiB, ...), and are read again and
again under ever new Host headers (the base URL of their signed links comes from it) and
listed whole: the gateway's resident memory may grow by its documented cache budgets and
a few pages at most. It once kept one rendered copy per task and Host, without end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from clusterlib import report

from conftest import assert_clean_log
from gatewaylib import Gateway, wait_final

# The resident memory of a real `vidugate serve` is what is measured.
pytestmark = pytest.mark.process

MIB = 1024 * 1024
# Small budgets, so that what they bound is measurable against the noise of a process.
TASK_CACHE = 12 * MIB  # VIDUGATE_TASK_CACHE_BYTES: the task cache, and parsed requests again
RENDER_CACHE = 12 * MIB  # VIDUGATE_RENDER_CACHE_BYTES
PAGE = 2 * MIB  # VIDUGATE_LIST_PAGE_BYTES
# What a page costs while it is answered: the rows, the tasks, their objects, the JSON.
PAGES_IN_FLIGHT = 4
# The interpreter's and the allocator's own drift over some thousand requests.
SLACK = 32 * MIB
TASKS = 8
HOSTS = 40

BIG = {
    "model": "viduq2-turbo",
    "prompt": "p" * 5000,
    "duration": 1,
    "resolution": "540p",
    "payload": "x" * 1_048_576,
    "meta_data": '{"k": "' + "m" * (65_536 - 10) + '"}',
    "voice_id": "v" * 256,
    "wm_url": "https://example.com/" + "w" * 2028,
}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gw = Gateway(
        tmp_path_factory.mktemp("memory"),
        settings={
            "VIDUGATE_TASK_CACHE_BYTES": str(TASK_CACHE),
            "VIDUGATE_RENDER_CACHE_BYTES": str(RENDER_CACHE),
            "VIDUGATE_LIST_PAGE_BYTES": str(PAGE),
        },
    ).start()
    yield gw
    gw.stop()
    assert_clean_log(gw)


@pytest.fixture(scope="module")
def made(small: Gateway) -> list[str]:
    with small.client() as client:
        ids = []
        for _ in range(TASKS):
            created = client.post("/v1/videos", json=BIG)
            assert created.status_code == 200, created.text[:300]
            ids.append(created.json()["id"])
        for video_id in ids:
            assert wait_final(client, video_id)["status"] == "completed"
    return ids


def resident_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def read_everything(client: httpx.Client, ids: list[str], host: str) -> None:
    headers = {"Host": host}
    for video_id in ids:
        status = client.get(f"/v1/videos/{video_id}", headers=headers)
        assert status.status_code == 200
        assert status.json()["video_url"].startswith(f"http://{host}/")
        assert client.get(f"/vidu/ent/v2/tasks/{video_id}/creations", headers=headers).is_success
    for path in ("/v1/videos?limit=100", "/vidu/ent/v2/tasks?pager.page_size=100"):
        assert client.get(path, headers=headers).is_success


def test_memory_stays_within_the_budgets_whatever_the_host(small: Gateway, made: list[str]) -> None:
    assert small.process is not None
    with small.client() as client:
        read_everything(client, made, "warm.example")  # every path run once, caches filled
        before = resident_bytes(small.process.pid)
        for index in range(HOSTS):
            read_everything(client, made, f"h{index}.example")
        after = resident_bytes(small.process.pid)
    bound = 2 * TASK_CACHE + RENDER_CACHE + PAGES_IN_FLIGHT * PAGE + SLACK
    grown = after - before
    report(
        "memory under many Host headers",
        requests=HOSTS * (2 * TASKS + 2),
        grown_mib=round(grown / MIB, 1),
        bound_mib=bound // MIB,
    )
    assert grown <= bound, f"grew {grown / MIB:.1f} MiB; the budgets allow {bound / MIB:.0f}"


def test_a_list_page_stops_at_its_byte_budget(small: Gateway, made: list[str]) -> None:
    with small.client() as client:
        seen: list[str] = []
        after = ""
        while True:
            page = client.get(f"/v1/videos?limit=100{after}").json()
            assert page["data"], page
            assert len(page["data"]) < TASKS  # ~1.1 MB each: a 2 MiB page holds one or two
            seen += [video["id"] for video in page["data"]]
            if not page["has_more"]:
                break
            after = f"&after={page['last_id']}"
        assert seen == list(reversed(made))
        vidu: list[str] = []
        token = ""
        while True:
            page = client.get(f"/vidu/ent/v2/tasks?pager.page_size=100{token}").json()
            assert 0 < len(page["tasks"]) < TASKS
            vidu += [task["id"] for task in page["tasks"]]
            if not page["next_page_token"]:
                break
            token = f"&pager.page_token={page['next_page_token']}"
        assert vidu == list(reversed(made))
        named = ",".join(made)
        page = client.get(f"/vidu/ent/v2/tasks?task_ids={named}").json()
        assert 0 < len(page["tasks"]) < TASKS
        assert page["next_page_token"]
