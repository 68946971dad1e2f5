"""The operator's webhook routes, and events written with the change that causes them: a
tenant's endpoint made over the admin API gets its videos' events, the completed one with
the settled price; a create refused for want of money (402) makes no task and so announces
nothing; a video's messages listed; a disabled endpoint's waiting messages are dropped."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from receiverlib import receiving
from standardwebhooks import Webhook

from adminlib import CLIP, finished, operator

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

LOOPBACK: dict[str, Any] = {
    "fetch_allow_networks": ["127.0.0.0/8"],
    "webhook_retry_first_seconds": 0.2,
}


async def test_a_tenants_endpoint_from_the_admin_api(tmp_path: Path) -> None:
    async with receiving() as receiver, operator(tmp_path, **LOOPBACK) as op:
        tenant, _key, token = await op.tenant_with_key("0.10")
        made = await op.admin.post(
            f"/admin/v1/tenants/{tenant}/webhooks/endpoints",
            json={"url": f"{receiver.base_url}/t", "events": ["video.queued", "video.completed"]},
        )
        assert made.status_code == 200, made.text
        endpoint = made.json()
        assert endpoint["tenant_id"] == tenant
        listed = await op.admin.get("/admin/v1/webhooks/endpoints", params={"tenant_id": tenant})
        assert [e["id"] for e in listed.json()["data"]] == [endpoint["id"]]
        async with op.client(token) as client:
            video = (await client.post("/v1/videos", json=CLIP)).json()
            assert (await finished(client, video["id"]))["status"] == "completed"
            # The balance is spent: the next create is refused, nothing made, nothing sent.
            refused = await client.post("/v1/videos", json=CLIP)
            assert refused.status_code == 402
        got = await receiver.wait_for(2)
        verifier = Webhook(endpoint["secret"])
        bodies = [verifier.verify(d.body, d.headers) for d in got]
        assert [b["type"] for b in bodies] == ["video.queued", "video.completed"]
        assert bodies[0]["data"]["price"]["state"] == "reserved"
        settled = {**bodies[0]["data"]["price"], "state": "settled", "charged": "0.10"}
        assert bodies[1]["data"]["price"] == settled
        messages = await settled_messages(op.admin, video["id"])
        assert [(m["event"], m["state"]) for m in messages] == [
            ("video.queued", "delivered"),
            ("video.completed", "delivered"),
        ]
        assert len((await op.admin.get("/admin/v1/webhooks/endpoints")).json()["data"]) == 1
        log = await op.admin.get(f"/admin/v1/webhooks/endpoints/{endpoint['id']}/deliveries")
        assert len(log.json()["data"]) == 2


async def test_a_disabled_endpoints_waiting_messages_are_dropped(tmp_path: Path) -> None:
    async with receiving() as receiver, operator(tmp_path, prices=False, **LOOPBACK) as op:
        tenant, _key, token = await op.tenant_with_key("0")
        receiver.status = 500
        endpoint = (
            await op.admin.post(
                f"/admin/v1/tenants/{tenant}/webhooks/endpoints",
                json={"url": f"{receiver.base_url}/x"},
            )
        ).json()
        async with op.client(token) as client:
            video = (await client.post("/v1/videos", json=CLIP)).json()
            await finished(client, video["id"])
        path = f"/admin/v1/webhooks/endpoints/{endpoint['id']}"
        assert (await op.admin.patch(path, json={"disabled": True})).json()["disabled"] is True
        messages = await settled_messages(op.admin, video["id"])
        assert {m["state"] for m in messages} == {"dropped"}
        assert receiver.accepted() == []


async def settled_messages(admin: httpx.AsyncClient, video_id: str) -> list[dict[str, Any]]:
    """The video's messages once none is pending (a receiver's answer is recorded after it
    has come)."""
    for _ in range(1200):
        messages: list[dict[str, Any]] = (
            await admin.get(f"/admin/v1/videos/{video_id}/webhooks")
        ).json()
        if all(m["state"] != "pending" for m in messages):
            return messages
        await asyncio.sleep(0.05)
    raise AssertionError(f"still pending: {messages}")
