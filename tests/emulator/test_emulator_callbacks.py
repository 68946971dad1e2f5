"""Callbacks from the Vidu emulator to a real local HTTP receiver: signed per the spec,
one per state change, retried after a non-200, dropped under the drop_callback fault.

The signature is recomputed here from vidu-upstream.md, independently of the emulator's
own `sign_callback` (which is only checked against this independent computation)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from email.utils import parsedate_to_datetime

from emulatorlib import (
    KEY_A,
    CallbackReceiver,
    Delivery,
    create_ok,
    fast_config,
    run_emulator,
    wait_state,
)

from vidugate.emulator import sign_callback


def expected_signature(delivery: Delivery, key: str) -> str:
    """vidu-upstream.md: METHOD, path, canonical query, 'vidu', Date, signed headers."""
    path, _, query = delivery.path.partition("?")
    pairs = sorted(tuple(item.split("=", 1)) for item in query.split("&") if item)
    canonical = "&".join(f"{k}={v}" for k, v in pairs)
    headers = delivery.headers
    names = headers["x-hmac-signed-headers"].split(";")
    text = f"POST\n{path}\n{canonical}\nvidu\n{headers['date']}\n"
    text += "".join(f"{name}:{headers[name.lower()]}\n" for name in names)
    digest = hmac.new(key.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def test_callbacks_are_signed_and_follow_each_state_change() -> None:
    with CallbackReceiver() as receiver, run_emulator(fast_config()) as emu:
        client = emu.client()
        url = f"{receiver.url}/hooks/vidu?tenant=t1&a=2"
        task_id = create_ok(client, callback_url=url, payload="cb")["task_id"]
        wait_state(client, task_id, {"success"})
        deliveries = receiver.wait_for(2)
        time.sleep(0.2)  # nothing more may come
        assert [d.json()["state"] for d in receiver.deliveries] == ["processing", "success"]
        for delivery in deliveries:
            headers = delivery.headers
            assert delivery.path == "/hooks/vidu?tenant=t1&a=2"
            assert headers["x-hmac-algorithm"] == "hmac-sha256"
            assert headers["x-hmac-access-key"] == "vidu"
            assert "x-request-nonce" in headers["x-hmac-signed-headers"].split(";")
            assert headers["date"].endswith("GMT")
            assert abs(parsedate_to_datetime(headers["date"]).timestamp() - time.time()) < 60
            assert headers["x-hmac-signature"] == expected_signature(delivery, KEY_A)
            document = delivery.json()
            assert (document["id"], document["payload"]) == (task_id, "cb")
        assert deliveries[0].headers["x-request-nonce"] != deliveries[1].headers["x-request-nonce"]
        assert deliveries[1].json()["creations"][0]["url"].startswith(emu.base_url)
        assert emu.stats()["callbacks"]["sent"] == 2


def test_sign_callback_matches_the_spec() -> None:
    delivery = Delivery(
        "/cb?b=2&a=1",
        {
            "date": "Thu, 26 Nov 2026 08:00:00 GMT",
            "x-request-nonce": "abc",
            "x-hmac-signed-headers": "x-request-nonce",
        },
        b"",
    )
    signed = sign_callback(
        "POST", "/cb", "b=2&a=1", delivery.headers["date"], {"x-request-nonce": "abc"}, "k"
    )
    assert signed == expected_signature(delivery, "k")


def test_cancel_and_failure_are_called_back_without_processing() -> None:
    with CallbackReceiver() as receiver, run_emulator(fast_config(queue_seconds=2.0)) as emu:
        client = emu.client()
        task_id = create_ok(client, callback_url=f"{receiver.url}/cb")["task_id"]
        client.post(f"/ent/v2/tasks/{task_id}/cancel", json={"id": task_id})
        (delivery,) = receiver.wait_for(1)
        assert (delivery.json()["state"], delivery.json()["err_code"]) == (
            "failed", "TaskCanceled",
        )  # fmt: skip


def test_a_refused_callback_is_retried_until_200() -> None:
    with CallbackReceiver(statuses=[500, 503]) as receiver, run_emulator(fast_config()) as emu:
        client = emu.client()
        task_id = create_ok(client, callback_url=f"{receiver.url}/cb")["task_id"]
        emu.admin("POST", f"/tasks/{task_id}/finish")
        deliveries = receiver.wait_for(3)
        assert [d.json()["state"] for d in deliveries] == ["success"] * 3
        nonces = {d.headers["x-request-nonce"] for d in deliveries}
        assert len(nonces) == 3  # each attempt signed afresh
        for delivery in deliveries:
            assert delivery.headers["x-hmac-signature"] == expected_signature(delivery, KEY_A)
        callbacks = emu.stats()["callbacks"]
        assert (callbacks["sent"], callbacks["attempts"], callbacks["failed"]) == (1, 3, 0)


def test_a_callback_refused_four_times_is_given_up() -> None:
    # Queued long enough that failing it is its only state change (processing calls back too).
    config = fast_config(queue_seconds=30.0)
    with CallbackReceiver(statuses=[500] * 10) as receiver, run_emulator(config) as emu:
        task_id = create_ok(emu.client(), callback_url=f"{receiver.url}/cb")["task_id"]
        emu.admin("POST", f"/tasks/{task_id}/fail")
        receiver.wait_for(4)
        deadline = time.monotonic() + 5
        while emu.stats()["callbacks"]["failed"] != 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert emu.stats()["callbacks"]["failed"] == 1
        time.sleep(0.3)
        assert len(receiver.deliveries) == 4  # the first try and 3 retries


def test_dropped_callbacks_are_not_sent() -> None:
    config = fast_config()
    config.faults.drop_callback = 1.0
    with CallbackReceiver() as receiver, run_emulator(config) as emu:
        client = emu.client()
        task_id = create_ok(client, callback_url=f"{receiver.url}/cb")["task_id"]
        wait_state(client, task_id, {"success"})
        time.sleep(0.3)
        assert receiver.deliveries == []
        stats = emu.stats()
        assert stats["callbacks"]["dropped"] == 2
        assert stats["faults"]["drop_callback"] == 2
