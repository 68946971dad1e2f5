"""Injected faults of the Vidu emulator, each observable over HTTP and in /_emulator/stats."""

from __future__ import annotations

import time

import httpx
import pytest
from emulatorlib import (
    KEY_A,
    assert_vidu_error,
    create,
    create_ok,
    credits,
    fast_config,
    run_emulator,
    wait_state,
)


def test_5xx_and_429_answer_before_anything_else() -> None:
    with run_emulator(fast_config()) as emu:
        emu.admin("POST", "/faults", {"error_5xx": 1.0})
        client = emu.client()
        for _ in range(5):
            response = client.get("/ent/v2/credits")
            assert response.status_code in (500, 502, 503)
            assert_vidu_error(response, response.status_code, "InternalServiceFailure")
        unauthenticated = emu.client(None).get("/ent/v2/credits")
        assert unauthenticated.status_code >= 500  # faults come before auth
        emu.admin("POST", "/faults", {"error_5xx": 0.0, "throttle_429": 1.0})
        throttled = client.post("/ent/v2/text2video", json={})
        assert throttled.status_code == 429
        assert throttled.json()["reason"] in ("TooManyRequests", "SystemThrottling")
        assert throttled.headers["retry-after"] == "1"
        assert emu.client().get("/_emulator/stats").status_code == 200  # admin never faulted
        emu.admin("POST", "/faults", {"throttle_429": 0.0})
        assert credits(client) == 10_000
        faults = emu.stats()["faults"]
        assert faults["error_5xx"] == 6
        assert faults["throttle_429"] == 1
        assert emu.stats()["creates_accepted"] == 0


def test_latency_is_added_to_every_api_answer() -> None:
    with run_emulator(fast_config()) as emu:
        client = emu.client()
        emu.admin("POST", "/faults", {"latency": 0.3})
        started = time.monotonic()
        client.get("/ent/v2/credits")
        assert time.monotonic() - started >= 0.3
        emu.admin("POST", "/faults", {"latency": 0.0})
        started = time.monotonic()
        client.get("/ent/v2/credits")
        assert time.monotonic() - started < 0.3
        assert emu.stats()["faults"]["latency"] == 1


def test_latency_holds_the_answer_not_the_work() -> None:
    with run_emulator(fast_config()) as emu:
        emu.admin("POST", "/faults", {"latency": 1.0})
        impatient = emu.client()
        impatient.timeout = httpx.Timeout(0.3)
        with pytest.raises(httpx.ReadTimeout):
            create(impatient, payload="gave-up")
        (task,) = emu.admin("GET", "/tasks")["tasks"]
        assert task["payload"] == "gave-up"  # made at once, though never answered


def test_slow_holds_back_a_share_of_answers_after_the_work() -> None:
    config = fast_config()
    config.faults.slow = 0.5
    config.faults.slow_seconds = 1.0
    with run_emulator(config) as emu:
        impatient = emu.client()
        impatient.timeout = httpx.Timeout(0.5)
        outcomes = []
        for index in range(12):
            try:
                outcomes.append(create(impatient, payload=f"slow-{index}").status_code)
            except httpx.ReadTimeout:
                outcomes.append(0)
        slow = emu.stats()["faults"]["slow"]
        assert outcomes.count(0) == slow  # exactly the rolled answers missed the time limit
        assert 0 < slow < 12
        # Every create was made, answered in time or not: the work is never held back.
        payloads = {t["payload"] for t in emu.admin("GET", "/tasks")["tasks"]}
        assert payloads == {f"slow-{index}" for index in range(12)}
        emu.admin("POST", "/faults", {"slow": 0.0})
        assert create(impatient).status_code == 200
        assert emu.admin("GET", "/faults")["slow_seconds"] == 1.0
        with httpx.Client(base_url=emu.base_url) as admin:
            refused = admin.post("/_emulator/faults", json={"slow_seconds": -1})
            assert_vidu_error(refused, 400, "FieldInvalid", "slow_seconds")


def test_a_lost_create_closes_the_connection_but_the_task_exists() -> None:
    with run_emulator(fast_config()) as emu:
        client = emu.client()
        emu.admin("POST", "/faults", {"lost_create": 1.0})
        with pytest.raises(httpx.RemoteProtocolError):
            create(client, payload="lost-one")
        emu.admin("POST", "/faults", {"lost_create": 0.0})
        assert credits(client) == 10_000 - 20  # charged all the same
        tasks = emu.admin("GET", "/tasks")["tasks"]
        (lost,) = [t for t in tasks if t["payload"] == "lost-one"]
        assert lost["account"] == KEY_A
        listed = client.get("/ent/v2/tasks").json()["tasks"]
        assert [t["id"] for t in listed if t["payload"] == "lost-one"] == [lost["id"]]
        assert wait_state(client, lost["id"], {"success"})["creations"]
        stats = emu.stats()
        assert stats["creates_lost"] == 1
        assert stats["creates_accepted"] == 1
        assert stats["faults"]["lost_create"] == 1
        create_ok(client)  # the next create is answered on a fresh connection


def test_fail_task_fault_fails_and_refunds() -> None:
    config = fast_config()
    config.faults.fail_task = 1.0
    config.faults.fail_err_code = "InternalServiceFailure"
    with run_emulator(config) as emu:
        client = emu.client()
        task_id = create_ok(client)["task_id"]
        wait_state(client, task_id, {"processing"})  # it processes like any task
        document = wait_state(client, task_id, {"success", "failed"})
        assert (document["state"], document["err_code"]) == ("failed", "InternalServiceFailure")
        assert document["credits"] == 0
        assert document["creations"] == []
        assert credits(client) == 10_000
        assert emu.stats()["faults"]["fail_task"] == 1


def test_faults_are_reproducible_with_a_seed() -> None:
    def outcomes(seed: int) -> list[int]:
        config = fast_config()
        config.faults.error_5xx = 0.5
        config.faults.seed = seed
        with run_emulator(config) as emu:
            client = emu.client()
            return [client.get("/ent/v2/credits").status_code for _ in range(20)]

    first = outcomes(7)
    assert first == outcomes(7)
    assert 200 in first
    assert any(code >= 500 for code in first)
