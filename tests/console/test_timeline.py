"""GET /admin/v1/videos/{id}/timeline over real HTTP, on the sandbox: a video's changes,
its money and its webhook deliveries (to a real receiver on loopback), merged in time
order, with the task list's own object for the video; a cancelled video's refund; 404 in
the OpenAI envelope for an unknown video; the admin key only."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from receiverlib import receiving

from adminlib import CLIP, error_of, finished, operator

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

LOOPBACK: dict[str, Any] = {
    "fetch_allow_networks": ["127.0.0.0/8"],
    "webhook_retry_first_seconds": 0.2,
}
ORDER = {"task": 0, "ledger": 1, "webhook": 2}


async def _timeline(admin: httpx.AsyncClient, video_id: str) -> dict[str, Any]:
    answer = await admin.get(f"/admin/v1/videos/{video_id}/timeline")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def _delivered(admin: httpx.AsyncClient, video_id: str, count: int) -> dict[str, Any]:
    """The timeline once `count` tries are in it (a try is logged after its answer)."""
    for _ in range(600):
        body = await _timeline(admin, video_id)
        if sum(e["type"] == "webhook.delivery" for e in body["events"]) >= count:
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {count} tries: {body['events']}")


async def test_a_completed_videos_timeline(tmp_path: Path) -> None:
    async with receiving() as receiver, operator(tmp_path, **LOOPBACK) as op:
        tenant, key_id, token = await op.tenant_with_key("1.00")
        endpoint = await op.admin.post(
            f"/admin/v1/tenants/{tenant}/webhooks/endpoints",
            json={"url": f"{receiver.base_url}/hook?token=secret"},
        )
        assert endpoint.status_code == 200, endpoint.text
        async with op.client(token) as client:
            video = (await client.post("/v1/videos", json=CLIP)).json()
            assert (await finished(client, video["id"]))["status"] == "completed"
        body = await _delivered(op.admin, video["id"], 3)
        listed = await op.admin.get("/admin/v1/tasks", params={"tenant_id": tenant})
    assert body["object"] == "video.timeline"
    assert body["video"] == listed.json()["data"][0]
    assert body["truncated"] is False
    events = body["events"]
    keys = [(e["at"], ORDER[e["source"]]) for e in events]
    assert keys == sorted(keys)
    task = [e for e in events if e["source"] == "task"]
    assert [e["type"] for e in task] == [
        "task.created",
        "task.admitted",
        "task.submitted",
        "task.completed",
    ]
    assert [e["status"] for e in task] == ["queued", "queued", "processing", "completed"]
    created, admitted, submitted, completed = task
    who = f"Created by key {key_id} (tenant {tenant})"
    assert created["summary"] == f"{who}: viduq2-turbo, 1 s, 540p"
    assert created["detail"]["price"] == "0.10"
    # Fair scheduling's grant of a render slot: the end of its wait in the queue.
    assert admitted["detail"]["slot"].startswith("sandbox")
    assert admitted["summary"].startswith(f"Given a slot of {admitted['detail']['slot']}")
    assert created["at"] <= admitted["at"] <= submitted["at"]
    assert submitted["detail"]["upstream_id"].startswith("sbx_")
    assert completed["detail"]["status_before"] == "processing"
    money = [e for e in events if e["source"] == "ledger"]
    assert [(e["type"], e["summary"]) for e in money] == [
        ("ledger.reserve", "Reserved 0.10 EUR"),
        ("ledger.settle", "Settled: the whole reserve charged"),
    ]
    assert money[0]["detail"]["amount"] == "-0.10"
    assert money[0]["detail"]["balance_after"] == "0.90"
    assert money[0]["detail"]["currency"] == "EUR"
    written = [e for e in events if e["type"] == "webhook.message"]
    assert [e["detail"]["event"] for e in written] == [
        "video.queued",
        "video.processing",
        "video.completed",
    ]
    tries = [e for e in events if e["type"] == "webhook.delivery"]
    assert len(tries) == 3
    first = tries[0]
    assert first["detail"]["try"] == 1
    assert first["detail"]["status_code"] == 200
    assert first["detail"]["error"] is None
    assert first["summary"].startswith(f"video.queued to {receiver.base_url}/hook : 200 in ")
    assert first["summary"].endswith("ms (try 1)")
    assert "secret" not in str(events)  # the URL's query is not shown


async def test_a_cancelled_videos_refund_is_on_its_timeline(tmp_path: Path) -> None:
    # One slow render slot: the second video waits for it, and is cancelled while it does.
    async with operator(tmp_path, sandbox_concurrency=1, sandbox_pace=30.0) as op:
        _tenant, _key, token = await op.tenant_with_key("1.00")
        async with op.client(token) as client:
            busy = (await client.post("/v1/videos", json=CLIP)).json()
            waiting = (await client.post("/v1/videos", json=CLIP)).json()
            cancelled = await client.post(f"/v1/videos/{waiting['id']}/cancel")
            assert cancelled.status_code == 200, cancelled.text
            await client.post(f"/v1/videos/{busy['id']}/cancel")
        body = await _timeline(op.admin, waiting["id"])
    assert [(e["type"], e["status"]) for e in body["events"]] == [
        ("task.created", "queued"),
        ("ledger.reserve", None),
        ("task.cancelled", "cancelled"),
        ("ledger.refund", None),
    ]
    assert body["events"][2]["summary"] == "Cancelled"
    assert body["events"][3]["summary"] == "Refunded 0.10 EUR"
    assert body["video"]["status"] == "cancelled"


async def test_an_unknown_video_is_a_404_and_only_admins_read_timelines(tmp_path: Path) -> None:
    async with operator(tmp_path, prices=False) as op:
        missing = await op.admin.get("/admin/v1/videos/video_nothing/timeline")
        error = error_of(missing, 404)
        assert error["code"] == "not_found"
        assert error["param"] == "video_id"
        assert "video_nothing" in error["message"]
        _tenant, _key, token = await op.tenant_with_key("0")
        async with op.client(token) as client:
            refused = await client.get("/admin/v1/videos/video_nothing/timeline")
        assert refused.status_code == 401
