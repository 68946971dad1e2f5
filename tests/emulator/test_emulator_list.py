"""The Vidu emulator's task list over real HTTP (GET /ent/v2/tasks): newest first, in
pages, with its filters, each key seeing its own tasks only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from emulatorlib import (
    KEY_B,
    RunningEmulator,
    assert_vidu_error,
    create_ok,
    fast_config,
    run_emulator,
)


def _list(client: httpx.Client, **params: Any) -> dict[str, Any]:
    response = client.get("/ent/v2/tasks", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_list_pages_newest_first_and_filters() -> None:
    # Tasks stay in processing until finished here: the filters below see the states they
    # were put in, however slowly the test runs.
    with run_emulator(fast_config(process_seconds=600)) as emu:
        _list_pages_newest_first_and_filters(emu)


def _list_pages_newest_first_and_filters(emu: RunningEmulator) -> None:
    client = emu.client()
    ids = [create_ok(client, payload=f"order-{i}")["task_id"] for i in range(5)]
    create_ok(emu.client(KEY_B), payload="someone else")
    seen: list[str] = []
    token = ""
    while True:
        params: dict[str, Any] = {"paper.pagesz": 2}
        if token:
            params["pager.page_token"] = token
        page = _list(client, **params)
        seen += [task["id"] for task in page["tasks"]]
        token = page["next_page_token"]
        if not token:
            break
    assert seen == ids[::-1]
    by_page = [
        [t["id"] for t in _list(client, **{"paper.pagesz": 2, "paper.page": n})["tasks"]]
        for n in range(3)
    ]
    assert by_page == [ids[4:2:-1], ids[2:0:-1], ids[:1]]
    item = _list(client)["tasks"][0]
    assert {"model", "prompt", "payload", "created_at", "state", "credits"} <= set(item)
    found = [t for t in _list(client)["tasks"] if t["payload"] == "order-2"]
    assert [t["id"] for t in found] == [ids[2]]
    # Arrays: repeated parameters or comma-separated.
    both = [ids[3], ids[0]]
    for task_ids in ([ids[0], ids[3]], f"{ids[0]},{ids[3]}"):
        assert [t["id"] for t in _list(client, task_ids=task_ids)["tasks"]] == both
    emu.admin("POST", f"/tasks/{ids[1]}/finish")
    assert [t["id"] for t in _list(client, states="success")["tasks"]] == [ids[1]]
    unfinished = ["created", "queueing", "processing"]
    assert len(_list(client, states=["success", *unfinished])["tasks"]) == 5
    assert len(_list(client, states=unfinished)["tasks"]) == 4
    assert len(_list(client, model_versions="q3-pro", resolutions="720p")["tasks"]) == 5
    assert _list(client, model_versions="q2-pro")["tasks"] == []
    assert _list(client, templates="hug")["tasks"] == []
    now = datetime.now(UTC)
    window = {
        "created_at.from": (now - timedelta(minutes=1)).isoformat().replace("+00:00", "Z"),
        "created_at.to": (now + timedelta(minutes=1)).isoformat().replace("+00:00", "Z"),
    }
    assert len(_list(client, **window)["tasks"]) == 5
    past = {"created_at.to": (now - timedelta(minutes=1)).isoformat()}
    assert _list(client, **past)["tasks"] == []
    future = {"created_at.from": (now + timedelta(minutes=1)).isoformat()}
    assert _list(client, **future)["tasks"] == []
    for params, name in (
        ({"paper.pagesz": 101}, "paper.pagesz"),
        ({"paper.pagesz": 0}, "paper.pagesz"),
        ({"paper.page": -1}, "paper.page"),
        ({"pager.page_token": "garbage!"}, "pager.page_token"),
        ({"states": "done"}, "states"),
        ({"created_at.from": "yesterday"}, "created_at.from"),
        # Names Vidu's page does not have are refused, not silently ignored.
        ({"created_at_from": now.isoformat()}, "created_at_from"),
        ({"pager.page_size": 100}, "pager.page_size"),
        ({"state": "success"}, "state"),
    ):
        response = client.get("/ent/v2/tasks", params=params)
        assert_vidu_error(response, 400, "FieldInvalid", name)
    assert emu.stats()["list_calls"] >= 14
