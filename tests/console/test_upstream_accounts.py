"""/admin/v1/upstream/accounts over real HTTP: the sandbox's line on a fresh install; a Vidu
account (against the emulator on loopback) with its credits read from the upstream, its
health reset by the operator, and its slots: tasks running on it and waiting in its
provider's queue; never an account's key. A failed try's upstream fault shows on the
video's timeline."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from emulatorlib import KEY_A, fast_config, run_emulator
from pydantic import SecretStr

from adminlib import CLIP, error_of, finished, operator
from vidugate.domain.accounts import AccountHealth, AccountState
from vidugate.settings import ViduAccountSettings

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


def _vidu(base_url: str, concurrency: int = 5) -> dict[str, Any]:
    """Settings of a gateway on the vidu provider with one account, "a", at base_url."""
    account = ViduAccountSettings(
        id="a", api_key=SecretStr(KEY_A), base_url=base_url, concurrency=concurrency
    )
    return {
        "provider": "vidu",
        "vidu_accounts": [account],
        "vidu_poll_seconds": 0.1,
        "vidu_callbacks": False,
        "vidu_lookup_grace_seconds": 0.5,
    }


async def _lines(admin: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    answer = await admin.get("/admin/v1/upstream/accounts")
    assert answer.status_code == 200, answer.text
    assert answer.json()["object"] == "list"
    return {line["id"]: line for line in answer.json()["data"]}


async def _until(check: Callable[[], Awaitable[bool]], what: str, within: float = 60) -> None:
    for _ in range(int(within / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what}")


async def test_a_fresh_install_lists_the_sandbox(tmp_path: Path) -> None:
    # One slow render slot: one video renders, the next two wait for it.
    async with operator(tmp_path, prices=False, sandbox_concurrency=1, sandbox_pace=30.0) as op:
        lines = await _lines(op.admin)
        assert lines == {
            "sandbox": {
                "object": "upstream.account",
                "id": "sandbox",
                "provider": "sandbox",
                "health": "active",
                "reason": "",
                "until": None,
                "updated_at": None,
                "credits": None,
                "credits_read_at": None,
                "concurrency": 1,
                "running": 0,
                "waiting": 0,
                "base_url": None,
            }
        }
        _tenant, _key, token = await op.tenant_with_key("0")
        async with op.client(token) as client:
            videos = [(await client.post("/v1/videos", json=CLIP)).json() for _ in range(3)]

            async def one_runs_two_wait() -> bool:
                line = (await _lines(op.admin))["sandbox"]
                return (line["running"], line["waiting"]) == (1, 2)

            await _until(one_runs_two_wait, "1 running and 2 waiting")
            for video in videos:
                await client.post(f"/v1/videos/{video['id']}/cancel")
        reset = await op.admin.post("/admin/v1/upstream/accounts/sandbox/reset")
        assert reset.status_code == 200, reset.text
        assert reset.json()["health"] == "active"
        refresh = await op.admin.post("/admin/v1/upstream/accounts/sandbox/credits/refresh")
        error = error_of(refresh, 400)
        assert "'sandbox'" in error["message"]
        assert error["param"] == "account_id"
        for path in ("reset", "credits/refresh"):
            unknown = await op.admin.post(f"/admin/v1/upstream/accounts/nobody/{path}")
            assert error_of(unknown, 404)["param"] == "account_id"
        async with op.client(token) as client:
            refused = await client.get("/admin/v1/upstream/accounts")
        assert refused.status_code == 401


async def test_a_vidu_accounts_credits_health_and_slots(tmp_path: Path) -> None:
    config = fast_config(process_seconds=3600)  # tasks stay processing upstream
    with run_emulator(config) as emulator:
        async with operator(tmp_path, prices=False, **_vidu(emulator.base_url, 1)) as op:
            answer = await op.admin.get("/admin/v1/upstream/accounts")
            assert KEY_A not in answer.text  # never a key
            lines = await _lines(op.admin)
            assert list(lines) == ["a", "sandbox"]
            account = lines["a"]
            assert account["provider"] == "vidu"
            assert account["base_url"] == emulator.base_url
            assert account["concurrency"] == 1
            assert (account["health"], account["running"], account["waiting"]) == ("active", 0, 0)

            read = await op.admin.post("/admin/v1/upstream/accounts/a/credits/refresh")
            assert read.status_code == 200, read.text
            assert read.json()["credits"] == "10000"
            assert read.json()["credits_read_at"] is not None

            _tenant, _key, token = await op.tenant_with_key("0")
            async with op.client(token) as client:
                first = (await client.post("/v1/videos", json=CLIP)).json()
                second = (await client.post("/v1/videos", json=CLIP)).json()

                async def one_on_a_one_waiting() -> bool:
                    line = (await _lines(op.admin))["a"]
                    return (line["running"], line["waiting"]) == (1, 1)

                await _until(one_on_a_one_waiting, "1 on account a, 1 waiting")
                assert (await _lines(op.admin))["sandbox"]["running"] == 0
                for video in (first, second):
                    await client.post(f"/v1/videos/{video['id']}/cancel")

            # What a 401 from Vidu makes of it (providers/vidu/accounts.py), then the reset.
            upstream = op.app.state.gateway.upstream
            disabled = AccountState("a", "vidu", AccountHealth.DISABLED, "401 Unauthorized")
            await upstream.states.save(disabled)
            line = (await _lines(op.admin))["a"]
            assert (line["health"], line["reason"]) == ("disabled", "401 Unauthorized")
            reset = await op.admin.post("/admin/v1/upstream/accounts/a/reset")
            assert reset.status_code == 200, reset.text
            assert reset.json()["health"] == "active"
            assert reset.json()["reason"] == "reset by an operator"
            assert reset.json()["until"] is None
            assert reset.json()["credits"] == "10000"  # the reset leaves the credits
            assert (await _lines(op.admin))["a"] == reset.json()


async def test_a_failed_try_shows_the_upstream_fault_on_the_timeline(tmp_path: Path) -> None:
    config = fast_config(result_mode="fixed")
    config.faults.error_5xx = 1.0
    with run_emulator(config) as emulator:
        async with operator(tmp_path, prices=False, **_vidu(emulator.base_url)) as op:
            _tenant, _key, token = await op.tenant_with_key("0")
            async with op.client(token) as client:
                video = (await client.post("/v1/videos", json=CLIP)).json()
                path = f"/admin/v1/videos/{video['id']}/timeline"

                async def a_try_failed() -> bool:
                    events = (await op.admin.get(path)).json()["events"]
                    return any(e["type"] == "task.attempts_counted" for e in events)

                await _until(a_try_failed, "a failed try")
                emulator.admin("POST", "/faults", {"error_5xx": 0.0})
                assert (await finished(client, video["id"]))["status"] == "completed"
            events = (await op.admin.get(path)).json()["events"]
    tried = next(e for e in events if e["type"] == "task.attempts_counted")
    assert tried["detail"]["attempts"] == 1
    assert tried["detail"]["code"]
    assert tried["detail"]["message"]
    assert tried["summary"].startswith(f"Try 1 failed: {tried['detail']['code']}: ")
    types = [e["type"] for e in events]
    assert types[0] == "task.created"
    assert "task.intent_recorded" in types
    assert types[-1] == "task.completed"
    submitted = next(e for e in events if e["type"] == "task.submitted")
    assert submitted["detail"]["account"] == "a"
    assert submitted["summary"].startswith("Accepted upstream as ")
