"""Webhooks end to end, in the test process: an endpoint registered through the API and a
request's own webhook_url get a video's events from a real receiver on loopback, each
verified by the `standardwebhooks` package (an independent verifier) and by the Ed25519 key
the gateway publishes; a receiver that is down gets every event once it is back, in order,
once each by webhook-id; the delivery log and a redeliver; the fetch guard's rules."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import FastAPI
from receiverlib import Delivery, receiving
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from inprocess import asgi_client, gateway_settings, running_app
from vidugate.settings import Settings

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

CLIP = {"model": "viduq2-turbo", "prompt": "a paper boat", "duration": 1, "resolution": "540p"}
EVERY = ["video.queued", "video.processing", "video.completed"]


def webhook_settings(tmp_path: Path, **values: Any) -> Settings:
    # Receivers here are on loopback, which the gateway refuses unless allowed.
    values = {"fetch_allow_networks": ["127.0.0.0/8"], "webhook_retry_first_seconds": 0.2, **values}
    return gateway_settings(tmp_path, **values)


async def new_key(app: FastAPI) -> str:
    _key, token = await app.state.gateway.keys.create("webhooks")
    return str(token)


async def register(client: httpx.AsyncClient, url: str, **fields: Any) -> dict[str, Any]:
    answer = await client.post("/v1/webhooks/endpoints", json={"url": url, **fields})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["secret"].startswith("whsec_")
    return body


def verified(delivery: Delivery, secret: str) -> dict[str, Any]:
    payload: dict[str, Any] = Webhook(secret).verify(delivery.body, delivery.headers)
    return payload


def ed25519_verifies(delivery: Delivery, jwks: dict[str, Any]) -> bool:
    (jwk,) = jwks["keys"]
    assert (jwk["kty"], jwk["crv"], jwk["alg"]) == ("OKP", "Ed25519", "EdDSA")
    key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(jwk["x"] + "=="))
    headers = delivery.headers
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + delivery.body
    for signature in headers["webhook-signature"].split(" "):
        version, _, value = signature.partition(",")
        if version == "v1a":
            try:
                key.verify(base64.b64decode(value), signed)
                return True
            except InvalidSignature:
                return False
    return False


async def test_an_endpoint_and_a_request_url_get_verified_events(tmp_path: Path) -> None:
    async with (
        receiving() as receiver,
        running_app(webhook_settings(tmp_path)) as app,
        asgi_client(app, await new_key(app)) as client,
    ):
        endpoint = await register(client, f"{receiver.base_url}/hooks", description="mine")
        assert endpoint["events"] == sorted(["video.cancelled", "video.failed", *EVERY])
        own = f"{receiver.base_url}/own"
        created = await client.post("/v1/videos", json={**CLIP, "webhook_url": own})
        assert created.status_code == 200, created.text
        video_id = created.json()["id"]
        got = await receiver.wait_for(5)
        to_endpoint = [d for d in got if d.path == "/hooks"]
        to_own = [d for d in got if d.path == "/own"]
        secret = endpoint["secret"]
        assert [verified(d, secret)["type"] for d in to_endpoint] == EVERY
        request_secret = (await client.get("/v1/webhooks/secret")).json()["secret"]
        own_events = [verified(d, request_secret)["type"] for d in to_own]
        assert own_events == ["video.processing", "video.completed"]
        last = verified(to_endpoint[-1], secret)
        assert last["data"]["id"] == video_id
        assert last["data"]["status"] == "completed"
        assert last["timestamp"].endswith("Z")
        # The body's link works without a key, as a status query's does.
        assert last["data"]["video_url"]
        # Each delivery is its own message; a tampered body or header is refused.
        assert len({d.headers["webhook-id"] for d in got}) == 5
        tampered = Delivery(to_endpoint[-1].path, to_endpoint[-1].headers, b'{"type":"x"}')
        with pytest.raises(WebhookVerificationError):
            verified(tampered, secret)
        with pytest.raises(WebhookVerificationError):
            verified(to_endpoint[-1], request_secret)  # another secret
        # v1a: Ed25519 under the published key, no shared secret needed.
        jwks = (await client.get("/.well-known/jwks.json", headers={"Authorization": ""})).json()
        assert all(ed25519_verifies(d, jwks) for d in got)
        assert not ed25519_verifies(tampered, jwks)
        public = (await client.get("/v1/webhooks/public-key")).json()
        assert public["public_key"].startswith("whpk_")
        assert base64.b64decode(public["public_key"][5:]) == base64.urlsafe_b64decode(
            jwks["keys"][0]["x"] + "=="
        )
        # The delivery log, newest first (a try is logged once its answer is in: after the
        # receiver has it).
        path = f"/v1/webhooks/endpoints/{endpoint['id']}/deliveries"
        for _ in range(600):
            log = (await client.get(path)).json()
            if len(log["data"]) >= len(EVERY):
                break
            await receiver_sleep()
        assert [entry["event"] for entry in log["data"]] == EVERY[::-1]
        assert {entry["status"] for entry in log["data"]} == {200}


async def test_a_receiver_down_for_a_while_gets_every_event_in_order_once(
    tmp_path: Path,
) -> None:
    async with (
        receiving() as receiver,
        running_app(webhook_settings(tmp_path)) as app,
        asgi_client(app, await new_key(app)) as client,
    ):
        receiver.status = 503
        endpoint = await register(client, f"{receiver.base_url}/down")
        video_id = (await client.post("/v1/videos", json=CLIP)).json()["id"]
        while (await client.get(f"/v1/videos/{video_id}")).json()["status"] != "completed":
            await receiver_sleep()
        # Only the first event was tried: the next wait behind it, in order.
        tried = {d.headers["webhook-id"] for d in receiver.got}
        assert len(tried) == 1
        while len(receiver.got) < 3:  # retried with back-off
            await receiver_sleep()
        receiver.status = 200
        got = await receiver.wait_for(3)
        events = [verified(d, endpoint["secret"])["type"] for d in got]
        assert events == EVERY
        ids = [d.headers["webhook-id"] for d in got]
        assert len(set(ids)) == 3
        # The first message's tries all carried its one id.
        first_tries = [d for d in receiver.got if d.headers["webhook-id"] == ids[0]]
        assert len(first_tries) >= 3
        assert {d.headers["x-answered"] for d in first_tries[:-1]} == {"503"}
        message = (await client.get(f"/v1/webhooks/messages/{ids[0]}")).json()
        assert message["state"] == "delivered"
        assert message["attempts"] == len(first_tries)
        assert message["last_status"] == 200
        log = (await client.get(f"/v1/webhooks/endpoints/{endpoint['id']}/deliveries")).json()
        assert [e["status"] for e in log["data"] if e["message_id"] == ids[0]][-1] == 503
        # A redeliver sends it again, under the same id.
        again = await client.post(f"/v1/webhooks/messages/{ids[0]}/redeliver")
        assert again.status_code == 200, again.text
        redelivered = (await receiver.wait_for(4))[-1]
        assert redelivered.headers["webhook-id"] == ids[0]
        assert verified(redelivered, endpoint["secret"])["type"] == "video.queued"


async def receiver_sleep() -> None:
    await asyncio.sleep(0.05)


async def test_events_are_filtered_and_a_failure_announced(tmp_path: Path) -> None:
    async with (
        receiving() as receiver,
        running_app(webhook_settings(tmp_path)) as app,
        asgi_client(app, await new_key(app)) as client,
    ):
        wanted = ["video.failed", "video.completed"]
        endpoint = await register(client, f"{receiver.base_url}/ends", events=wanted)
        assert endpoint["events"] == sorted(wanted)
        failing = {**CLIP, "prompt": "a boat that sinks [sandbox:fail]"}
        failed_id = (await client.post("/v1/videos", json=failing)).json()["id"]
        (delivery,) = await receiver.wait_for(1)
        body = verified(delivery, endpoint["secret"])
        assert (body["type"], body["data"]["id"], body["data"]["status"]) == (
            "video.failed",
            failed_id,
            "failed",
        )
        assert body["data"]["error"]["code"]


async def test_vidu_callback_url_gets_the_task_document_as_vidu_sends_it(tmp_path: Path) -> None:
    async with (
        receiving() as receiver,
        running_app(webhook_settings(tmp_path)) as app,
        asgi_client(app, await new_key(app)) as client,
    ):
        created = await client.post(
            "/vidu/ent/v2/text2video",
            json={**CLIP, "callback_url": f"{receiver.base_url}/vidu?name=james"},
        )
        assert created.status_code == 200, created.text
        task_id = created.json()["task_id"]
        got = await receiver.wait_for(2)
        secret = (await client.get("/v1/webhooks/secret")).json()["secret"]
        states = [verified(d, secret) for d in got]
        assert [s["state"] for s in states] == ["processing", "success"]
        assert states[-1]["id"] == task_id
        assert states[-1]["creations"][0]["url"]


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/x", "http://10.1.2.3/x", "http://[::1]/x", "ftp://example.com/x"],
)
async def test_urls_the_gateway_may_not_call_are_refused(tmp_path: Path, url: str) -> None:
    async with (
        running_app(gateway_settings(tmp_path)) as app,
        asgi_client(app, await new_key(app)) as client,
    ):
        answer = await client.post("/v1/webhooks/endpoints", json={"url": url})
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["param"] == "url"
        answer = await client.post("/v1/videos", json={**CLIP, "webhook_url": url})
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["param"] == "webhook_url"
        assert (await client.get("/v1/videos")).json()["data"] == []


async def test_endpoints_are_the_accounts_own(tmp_path: Path) -> None:
    async with (
        receiving() as receiver,
        running_app(webhook_settings(tmp_path)) as app,
        asgi_client(app, await new_key(app)) as client,
    ):
        endpoint = await register(client, f"{receiver.base_url}/a")
        path = f"/v1/webhooks/endpoints/{endpoint['id']}"
        billing = app.state.gateway.billing
        tenant = await billing.create_tenant("other")
        _key, other = await app.state.gateway.keys.create("other", tenant_id=tenant.id)
        async with asgi_client(app, str(other)) as stranger:
            assert (await stranger.get(path)).status_code == 404
            assert (await stranger.delete(path)).status_code == 404
            assert (await stranger.get("/v1/webhooks/endpoints")).json()["data"] == []
        changed = await client.patch(path, json={"events": ["video.completed"], "disabled": True})
        assert changed.json()["disabled"] is True
        assert changed.json()["events"] == ["video.completed"]
        rotated = (await client.post(f"{path}/rotate-secret")).json()["secret"]
        assert rotated != endpoint["secret"]
        assert (await client.get(f"{path}/secret")).json()["secret"] == rotated
        bad = await client.post(
            "/v1/webhooks/endpoints", json={"url": "https://e.x/", "events": ["video.done"]}
        )
        assert bad.status_code == 400
        assert "events" in json.dumps(bad.json())
        assert (await client.delete(path)).json()["deleted"] is True
        assert (await client.get(path)).status_code == 404


async def test_progress_is_sent_to_who_asks_throttled(tmp_path: Path) -> None:
    # A 2-second video at pace 4 renders for about 8 s: progress rises on every look.
    async with (
        receiving() as receiver,
        running_app(webhook_settings(tmp_path, sandbox_pace=4.0)) as app,
        asgi_client(app, await new_key(app)) as client,
    ):
        wanted = ["video.progress", "video.completed"]
        endpoint = await register(client, f"{receiver.base_url}/p", events=wanted)
        everything = await register(client, f"{receiver.base_url}/all")
        video_id = (await client.post("/v1/videos", json={**CLIP, "duration": 2})).json()["id"]
        while (await client.get(f"/v1/videos/{video_id}")).json()["status"] != "completed":
            await receiver_sleep()
        await receiver.wait_for(5)  # the completed to each, and processing, queued to /all
        await asyncio.sleep(0.5)
        bodies = [verified(d, endpoint["secret"]) for d in receiver.accepted() if d.path == "/p"]
        kinds = [b["type"] for b in bodies]
        assert kinds[-1] == "video.completed"
        progress = [b for b in bodies if b["type"] == "video.progress"]
        assert 1 <= len(progress) <= 3, kinds
        values = [b["data"]["progress"] for b in progress]
        assert values == sorted(values)
        assert 0 < values[0] <= values[-1] < 100
        times = [datetime.fromisoformat(b["timestamp"]) for b in progress]
        assert all((b - a).total_seconds() >= 5 for a, b in zip(times, times[1:], strict=False))
        # An endpoint with no filter gets every change of state, not progress.
        unfiltered = [d for d in receiver.accepted() if d.path == "/all"]
        assert [verified(d, everything["secret"])["type"] for d in unfiltered] == EVERY


async def test_a_hanging_receiver_does_not_hold_back_another_accounts(tmp_path: Path) -> None:
    # 4 sends at once, at most 2 to one destination: the hanging one holds its 2 (for up to
    # a minute each: longer than the test, however slow the machine).
    settings = webhook_settings(
        tmp_path, webhook_concurrency=4, webhook_per_destination=2, webhook_timeout_seconds=60
    )
    async with (
        receiving() as slow,
        receiving() as fine,
        running_app(settings) as app,
        asgi_client(app, await new_key(app)) as client,
    ):
        slow.gate.clear()
        await register(client, f"{slow.base_url}/slow", events=["video.queued"])
        for _ in range(6):
            assert (await client.post("/v1/videos", json=CLIP)).status_code == 200
        while slow.held < 2:
            await receiver_sleep()
        tenant = await app.state.gateway.billing.create_tenant("other")
        _key, other = await app.state.gateway.keys.create("other", tenant_id=tenant.id)
        async with asgi_client(app, str(other)) as theirs:
            endpoint = await register(theirs, f"{fine.base_url}/fine")
            video_id = (await theirs.post("/v1/videos", json=CLIP)).json()["id"]
            got = await fine.wait_for(3)
        assert [verified(d, endpoint["secret"])["data"]["id"] for d in got] == [video_id] * 3
        assert slow.held == 2  # still hanging, still only its share
        assert slow.accepted() == []
        slow.gate.set()
        assert len(await slow.wait_for(6)) == 6
