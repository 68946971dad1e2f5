"""Callbacks from the Vidu emulator to a real local HTTP receiver: signed as Vidu's worked
example signs them, one per state change, retried after a non-200, dropped under the
drop_callback fault.

Time is the emulator's `ManualClock`, moved by the tests: states change, retries fire and
Date headers move only when a test says so, whatever the machine's load. The signature is
recomputed here from Vidu's page "callback-signature" (vidu-upstream.md), independently of
the emulator's own `sign_callback` (which is only checked against this computation)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from email.utils import formatdate, parsedate_to_datetime

from emulatorlib import (
    KEY_A,
    CallbackReceiver,
    Delivery,
    advance_once_waiting,
    callbacks_settled,
    create_ok,
    fast_config,
    run_emulator,
    status,
)

from vidugate.clock import ManualClock
from vidugate.emulator import EmulatorConfig, sign_callback
from vidugate.emulator.signing import callback_headers, string_to_sign

# Vidu's worked example, from its page "callback-signature".
VIDU_URL = "http://127.0.0.1:8080/vidu/callback?name=james&age=36"
VIDU_DATE = "Tue, 06 May 2025 12:09:42 GMT"
VIDU_NONCE = "123e4567-e89b-12d3-a456-426614174000"
VIDU_STRING = (
    "POST\n/vidu/callback\nname=james&age=36\nvidu\nTue, 06 May 2025 12:09:42 GMT\n"
    "Date:Tue, 06 May 2025 12:09:42 GMT\nx-request-nonce:123e4567-e89b-12d3-a456-426614174000\n"
)
BACKOFF = 3.0  # retries wait 3, 6, 12 s: longer than any wait of the dispatcher's own (1 s)


def expected_signature(delivery: Delivery, key: str) -> str:
    """Vidu's page: METHOD, path, the query as it stands, 'vidu', Date, then each signed
    header as `Name:value` with the name spelled as X-HMAC-SIGNED-HEADERS lists it."""
    path, _, query = delivery.path.partition("?")
    headers = delivery.headers  # the receiver keys them lower-case
    names = headers["x-hmac-signed-headers"].split(";")
    text = f"POST\n{path}\n{query}\nvidu\n{headers['date']}\n"
    text += "".join(f"{name}:{headers[name.lower()]}\n" for name in names)
    digest = hmac.new(key.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def clocked(**overrides: object) -> tuple[EmulatorConfig, ManualClock]:
    """Whole seconds, so the tests advance by exactly the documented amounts."""
    values: dict[str, object] = {
        "queue_seconds": 1.0,
        "process_seconds": 4.0,
        "callback_backoff": BACKOFF,
    }
    values.update(overrides)
    return fast_config(**values), ManualClock()


def test_the_emulator_signs_vidus_worked_example_byte_for_byte() -> None:
    signed = {"Date": VIDU_DATE, "x-request-nonce": VIDU_NONCE}
    assert string_to_sign("POST", "/vidu/callback", "name=james&age=36", VIDU_DATE, signed) == (
        VIDU_STRING
    )
    when = parsedate_to_datetime(VIDU_DATE).timestamp()
    headers = callback_headers(VIDU_URL, "the-key", when)
    assert headers["Date"] == VIDU_DATE
    assert headers["X-HMAC-SIGNED-HEADERS"] == "Date;x-request-nonce"
    assert (headers["X-HMAC-ALGORITHM"], headers["X-HMAC-ACCESS-KEY"]) == ("hmac-sha256", "vidu")
    # Its own nonce (a fresh UUID), in the example's string.
    text = VIDU_STRING.replace(VIDU_NONCE, headers["x-request-nonce"])
    digest = hmac.new(b"the-key", text.encode(), hashlib.sha256).digest()
    assert headers["X-HMAC-SIGNATURE"] == base64.b64encode(digest).decode()


def test_sign_callback_keeps_the_query_as_it_stands() -> None:
    query = "b=2&a=%7e1&a=0"  # unsorted, escaped, repeated: all kept as written
    delivery = Delivery(
        f"/cb?{query}",
        {
            "date": VIDU_DATE,
            "x-request-nonce": "abc",
            "x-hmac-signed-headers": "Date;x-request-nonce",
        },
        b"",
    )
    signed = sign_callback(
        "POST", "/cb", query, VIDU_DATE, {"Date": VIDU_DATE, "x-request-nonce": "abc"}, "k"
    )
    assert signed == expected_signature(delivery, "k")


def test_callbacks_are_signed_and_follow_each_state_change() -> None:
    config, clock = clocked()
    with CallbackReceiver() as receiver, run_emulator(config, clock) as emu:
        client = emu.client()
        # Unsorted and with an escape: signed, and sent, exactly as written.
        url = f"{receiver.url}/hooks/vidu?tenant=t%7e1&a=2"
        task_id = create_ok(client, callback_url=url, payload="cb")["task_id"]
        clock.advance(1.0)  # queue_seconds: the task processes
        assert status(client, task_id)["state"] == "processing"
        receiver.wait_for(1)
        clock.advance(4.0)  # process_seconds: it succeeds
        assert status(client, task_id)["state"] == "success"
        receiver.wait_for(2)
        callbacks = callbacks_settled(emu)
        deliveries = receiver.deliveries
        assert [d.json()["state"] for d in deliveries] == ["processing", "success"]
        moments = [clock.now() - 4.0, clock.now()]
        for delivery, moment in zip(deliveries, moments, strict=True):
            headers = delivery.headers
            assert delivery.path == "/hooks/vidu?tenant=t%7e1&a=2"
            assert headers["x-hmac-algorithm"] == "hmac-sha256"
            assert headers["x-hmac-access-key"] == "vidu"
            assert headers["x-hmac-signed-headers"] == "Date;x-request-nonce"
            assert headers["date"] == formatdate(moment, usegmt=True)  # the emulator's clock
            assert headers["x-hmac-signature"] == expected_signature(delivery, KEY_A)
            document = delivery.json()
            assert (document["id"], document["payload"]) == (task_id, "cb")
        assert deliveries[0].headers["x-request-nonce"] != deliveries[1].headers["x-request-nonce"]
        assert deliveries[1].json()["creations"][0]["url"].startswith(emu.base_url)
        assert (callbacks["sent"], callbacks["attempts"]) == (2, 2)


def test_cancel_and_failure_are_called_back_without_processing() -> None:
    config, clock = clocked()  # the clock stands still: the task stays queued
    with CallbackReceiver() as receiver, run_emulator(config, clock) as emu:
        client = emu.client()
        task_id = create_ok(client, callback_url=f"{receiver.url}/cb")["task_id"]
        client.post(f"/ent/v2/tasks/{task_id}/cancel", json={"id": task_id})
        receiver.wait_for(1)
        assert callbacks_settled(emu)["sent"] == 1
        (delivery,) = receiver.deliveries
        assert (delivery.json()["state"], delivery.json()["err_code"]) == (
            "failed", "TaskCanceled",
        )  # fmt: skip


def test_a_refused_callback_is_retried_until_200() -> None:
    config, clock = clocked()
    with CallbackReceiver(statuses=[500, 503]) as receiver, run_emulator(config, clock) as emu:
        client = emu.client()
        task_id = create_ok(client, callback_url=f"{receiver.url}/cb")["task_id"]
        emu.admin("POST", f"/tasks/{task_id}/finish")  # before it ever processed
        start = clock.now()
        receiver.wait_for(1)
        advance_once_waiting(clock, BACKOFF)  # the first retry's back-off
        receiver.wait_for(2)
        advance_once_waiting(clock, 2 * BACKOFF)  # the second's, twice as long
        receiver.wait_for(3)
        callbacks = callbacks_settled(emu)
        deliveries = receiver.deliveries
        assert [d.json()["state"] for d in deliveries] == ["success"] * 3
        assert [parsedate_to_datetime(d.headers["date"]).timestamp() for d in deliveries] == [
            start, start + BACKOFF, start + 3 * BACKOFF,
        ]  # fmt: skip
        assert len({d.headers["x-request-nonce"] for d in deliveries}) == 3  # each signed afresh
        for delivery in deliveries:
            assert delivery.headers["x-hmac-signature"] == expected_signature(delivery, KEY_A)
        assert (callbacks["sent"], callbacks["attempts"], callbacks["failed"]) == (1, 3, 0)


def test_a_callback_refused_four_times_is_given_up() -> None:
    config, clock = clocked()
    with CallbackReceiver(statuses=[500] * 10) as receiver, run_emulator(config, clock) as emu:
        task_id = create_ok(emu.client(), callback_url=f"{receiver.url}/cb")["task_id"]
        emu.admin("POST", f"/tasks/{task_id}/fail")  # its only state change: it never ran
        for attempt in range(1, 4):
            receiver.wait_for(attempt)
            advance_once_waiting(clock, BACKOFF * 2 ** (attempt - 1))
        receiver.wait_for(4)
        callbacks = callbacks_settled(emu)
        assert (callbacks["failed"], callbacks["sent"], callbacks["attempts"]) == (1, 0, 4)
        assert len(receiver.deliveries) == 4  # the first try and 3 retries


def test_dropped_callbacks_are_not_sent() -> None:
    config, clock = clocked()
    config.faults.drop_callback = 1.0
    with CallbackReceiver() as receiver, run_emulator(config, clock) as emu:
        client = emu.client()
        task_id = create_ok(client, callback_url=f"{receiver.url}/cb")["task_id"]
        clock.advance(5.0)
        assert status(client, task_id)["state"] == "success"
        callbacks = callbacks_settled(emu)
        assert receiver.deliveries == []
        assert (callbacks["dropped"], callbacks["attempts"]) == (2, 0)
        assert emu.stats()["faults"]["drop_callback"] == 2
