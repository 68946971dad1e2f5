"""GET /vidu/ent/v2/tasks with the parameters of Vidu's "tasks-list" page, over real HTTP:
each filter, paging by number and by token, time formats, arrays as repeated keys and
comma lists, the 7-day default window, bad values (Vidu's envelope naming the parameter)
and the gateway's earlier names."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import asyncpg
import httpx
import pytest

from dblib import run_sync
from gatewaylib import Gateway, wait_final
from waiting import wait_until

V = "/vidu/ent/v2"
FAST = {"duration": 1, "resolution": "540p"}
DAY = 24 * 3600
EXTRA = 9  # cancelled at once: with the others, more than a default page of 10


@dataclass(frozen=True)
class Made:
    """The key's tasks, newest first."""

    client: httpx.Client
    viduq2: str  # completed, 540p
    pro_720: str  # completed, viduq2-pro, 720p
    cancelled: list[str]  # newest first
    old: str  # completed, created (as the database says) 8 days ago
    between: float  # after the completed ones were made, before the cancelled ones

    @property
    def recent(self) -> list[str]:
        return [*self.cancelled, self.pro_720, self.viduq2]


@pytest.fixture(scope="module")
def made(gateway: Gateway) -> Iterator[Made]:
    with gateway.client(gateway.new_key("vidu-list"), "Token") as client:

        def create(**fields: Any) -> str:
            body = {"model": "viduq2", "prompt": "listed", **FAST, **fields}
            response = client.post(f"{V}/text2video", json=body)
            assert response.status_code == 200, response.text
            task_id: str = response.json()["task_id"]
            return task_id

        old = create()
        viduq2 = create()
        pro_720 = create(model="viduq2-pro", resolution="720p")
        for task_id in (old, viduq2, pro_720):
            assert wait_final(client, task_id)["status"] == "completed"
        age(gateway, old, 8.0 * DAY)
        # A whole second, so that unix seconds without a fraction can name it too.
        between = float(math.ceil(time.time()))
        wait_until(lambda: time.time() >= between, what="the next second")
        cancelled: list[str] = []
        for _ in range(EXTRA):
            task_id = create(model="viduq3-pro", duration=16, resolution="1080p")
            client.post(f"{V}/tasks/{task_id}/cancel", json={})
            cancelled.insert(0, task_id)
        yield Made(client, viduq2, pro_720, cancelled, old, between)


def age(gateway: Gateway, task_id: str, seconds: float) -> None:
    """Make a task's created_at older, in the gateway's own database."""

    async def update() -> None:
        url = gateway.database_url
        if url.startswith("sqlite"):
            import aiosqlite

            async with aiosqlite.connect(url.split("///", 1)[1]) as db:
                sql = "UPDATE tasks SET created_at = created_at - ? WHERE id = ?"
                await db.execute(sql, (seconds, task_id))
                await db.commit()
            return
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            sql = "UPDATE tasks SET created_at = created_at - $1 WHERE id = $2"
            await conn.execute(sql, seconds, task_id)
        finally:
            await conn.close()

    run_sync(update())


def listed(made: Made, params: Any) -> tuple[list[str], str]:
    response = made.client.get(f"{V}/tasks", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"tasks", "next_page_token"}
    return [task["id"] for task in body["tasks"]], body["next_page_token"]


def ids(made: Made, params: Any) -> list[str]:
    return listed(made, params)[0]


def refused(made: Made, params: Any, param: str) -> str:
    response = made.client.get(f"{V}/tasks", params=params)
    assert response.status_code == 400, (params, response.text)
    body = response.json()
    assert body["reason"] == "FieldInvalid"
    assert body["metadata"]["trace_id"] == response.headers["x-request-id"]
    assert param in body["message"], (params, body)
    # The field the gateway adds to Vidu's metadata is one the message names.
    assert body["metadata"].get("param", param) in body["message"], body
    message: str = body["message"]
    return message


def test_by_default_a_page_of_10_of_the_last_7_days(made: Made) -> None:
    first, token = listed(made, {})
    assert first == made.recent[:10]
    assert token == made.recent[9]
    rest, end = listed(made, {"pager.page_token": token})
    assert (rest, end) == (made.recent[10:], "")
    assert made.old not in first + rest


def test_pages_by_number_under_either_spelling(made: Made) -> None:
    recent = made.recent
    for prefix in ("paper", "pager"):
        pages = [ids(made, {f"{prefix}.page": n, f"{prefix}.pagesz": 4}) for n in range(4)]
        assert pages == [recent[:4], recent[4:8], recent[8:], []]
    assert ids(made, {"paper.pagesz": 100}) == recent


def test_pages_by_token_and_a_token_outranks_a_page_number(made: Made) -> None:
    seen: list[str] = []
    token = ""
    while True:
        page, token = listed(made, {"paper.pagesz": 3, "pager.page_token": token})
        assert len(page) <= 3
        seen += page
        if not token:
            break
    assert seen == made.recent
    after_three = made.recent[2]
    page = ids(made, {"paper.pagesz": 2, "paper.page": 5, "pager.page_token": after_three})
    assert page == made.recent[3:5]
    assert ids(made, {"paper.pagesz": 2, "paper.page_token": after_three}) == made.recent[3:5]


def test_states_as_repeated_keys_or_a_comma_list(made: Made) -> None:
    done = [made.pro_720, made.viduq2]
    assert ids(made, {"states": "success", "paper.pagesz": 100}) == done
    assert ids(made, {"states": "failed", "paper.pagesz": 100}) == made.cancelled
    assert ids(made, {"states": "queueing", "paper.pagesz": 100}) == []
    assert ids(made, [("states", "success"), ("states", "failed"), ("paper.pagesz", "100")]) == (
        made.recent
    )
    assert ids(made, {"states": "success,processing"}) == done
    assert ids(made, {"state": "success"}) == done  # the earlier name


def test_task_ids_as_repeated_keys_or_a_comma_list(gateway: Gateway, made: Made) -> None:
    wanted = [made.viduq2, made.cancelled[0], made.pro_720]
    newest_first = [made.cancelled[0], made.pro_720, made.viduq2]
    assert ids(made, [("task_ids", task_id) for task_id in wanted]) == newest_first
    assert ids(made, {"task_ids": ",".join(wanted)}) == newest_first
    # Vidu's own ids (numbers) and junk name no task of the gateway's.
    assert ids(made, {"task_ids": f"123456789,{made.viduq2},video_x"}) == [made.viduq2]
    assert ids(made, {"task_ids": "123456789"}) == []
    with gateway.client(gateway.new_key("vidu-list-stranger")) as stranger:
        response = stranger.get(f"{V}/tasks", params={"task_ids": ",".join(wanted)})
        assert response.json() == {"tasks": [], "next_page_token": ""}


def test_time_windows_in_rfc_3339_or_unix_seconds(made: Made) -> None:
    everything = {"paper.pagesz": 100}
    after = made.between
    cst = timezone(timedelta(hours=8))
    for since in (
        str(after),
        str(int(after)),
        datetime.fromtimestamp(after, UTC).isoformat().replace("+00:00", "Z"),
        datetime.fromtimestamp(after, cst).isoformat(),  # 2025-11-08T23:07:57.510141+08:00
    ):
        assert ids(made, {**everything, "created_at.from": since}) == made.cancelled, since
    before = datetime.fromtimestamp(after, cst).isoformat()
    assert ids(made, {**everything, "created_at.to": before}) == [made.pro_720, made.viduq2]
    assert ids(made, {**everything, "created_at_to": before}) == [made.pro_720, made.viduq2]
    assert ids(made, {**everything, "created_at_from": str(after)}) == made.cancelled
    assert listed(made, {"created_at.to": "2001-01-01T00:00:00Z"}) == ([], "")
    nine_days = str(time.time() - 9 * DAY)
    assert ids(made, {**everything, "created_at.from": nine_days}) == [*made.recent, made.old]
    assert ids(made, {**everything, "task_ids": made.old}) == []  # outside the 7 days


def test_model_versions_resolutions_and_templates(made: Made) -> None:
    assert ids(made, {"model_versions": "q2-pro"}) == [made.pro_720]
    assert ids(made, {"model_versions": "q2,q2-pro"}) == [made.pro_720, made.viduq2]
    assert ids(made, {"model_versions": "viduq2"}) == [made.viduq2]
    assert ids(made, {"resolutions": "720p"}) == [made.pro_720]
    assert ids(made, [("resolutions", "540p"), ("model_versions", "q2")]) == [made.viduq2]
    assert ids(made, {"templates": "hug"}) == []


def test_bad_values_name_their_parameter(made: Made) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"paper.pagesz": 0}, "paper.pagesz"),
        ({"paper.pagesz": 101}, "paper.pagesz"),
        ({"pager.pagesz": "ten"}, "pager.pagesz"),
        ({"pager.page_size": 0}, "pager.page_size"),
        ({"paper.page": -1}, "paper.page"),
        ({"pager.page": "first"}, "pager.page"),
        ({"paper.page": 1001}, "paper.page"),  # 1001 x 10 skipped: past the bound
        ({"paper.pagesz": 2, "pager.pagesz": 3}, "pager.pagesz"),
        ({"pager.page_token": "abc"}, "pager.page_token"),
        ({"created_at.from": "yesterday"}, "created_at.from"),
        ({"created_at.to": "2026-13-45"}, "created_at.to"),
        ({"created_at_from": "soon"}, "created_at_from"),
        ({"created_at.from": "1", "created_at_from": "2"}, "created_at_from"),
        ({"states": "done"}, "states"),
        ({"state": "success,failed"}, "state"),
        ({"model_versions": "q9"}, "model_versions"),
        ({"resolutions": "4k"}, "resolutions"),
        ({"task_ids": ",".join(f"video_{i}" for i in range(101))}, "task_ids"),
        ({"task_ids": "x" * 65}, "task_ids"),
    ]
    for params, param in cases:
        refused(made, params, param)
    assert "success" in refused(made, {"states": "done"}, "states")
    assert "1-100" in refused(made, {"paper.pagesz": 0}, "paper.pagesz").replace(" to ", "-")
