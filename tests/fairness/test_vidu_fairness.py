"""Fair scheduling of upstream slots against the Vidu emulator (one account, concurrency
5): a queued task is sent only when the account has a free slot, the tenants in turn; two
processes sharing PostgreSQL never have more tasks at the account than its concurrency."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from emulatorlib import KEY_A, fast_config, run_emulator
from fairlib import flood_started_before_light, until_all_done
from pydantic import SecretStr
from vidulib import accounts_json, upstream_tasks

from adminlib import CLIP, operator
from dblib import on_postgres, run_sync
from gatewaylib import Gateway
from vidugate.settings import ViduAccountSettings

SLOTS = 5


def account(base_url: str) -> ViduAccountSettings:
    return ViduAccountSettings(
        id="a", api_key=SecretStr(KEY_A), base_url=base_url, concurrency=SLOTS
    )


def at(iso: str | None) -> float:
    assert iso is not None
    return datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def most_at_once(tasks: list[dict[str, Any]]) -> int:
    """The most upstream tasks unfinished at one time (from their create to their end)."""
    edges = sorted(
        [(at(t["created_at"]), 1) for t in tasks]
        + [(at(t["ended_at"]) if t["ended_at"] else float("inf"), -1) for t in tasks],
        key=lambda edge: (edge[0], edge[1]),  # an end before a start at the same instant
    )
    now = peak = 0
    for _time, step in edges:
        now += step
        peak = max(peak, now)
    return peak


@pytest.mark.asyncio
@pytest.mark.slow
async def test_a_light_tenant_is_sent_upstream_before_most_of_a_flood(tmp_path: Path) -> None:
    config = fast_config(concurrency=SLOTS, queue_seconds=0.05, process_seconds=0.3)
    with run_emulator(config) as emulator:
        async with operator(
            tmp_path,
            prices=False,
            provider="vidu",
            vidu_accounts=[account(emulator.base_url)],
            vidu_poll_seconds=0.1,
            vidu_callbacks=False,
        ) as op:
            flood_id, _ka, flood_token = await op.tenant_with_key("0", name="flood")
            light_id, _kb, light_token = await op.tenant_with_key("0", name="light")
            async with op.client(flood_token) as flood, op.client(light_token) as light:
                for i in range(200):
                    made = await flood.post("/v1/videos", json={**CLIP, "prompt": f"f {i}"})
                    assert made.status_code == 200, made.text
                for i in range(5):
                    made = await light.post("/v1/videos", json={**CLIP, "prompt": f"l {i}"})
                    assert made.status_code == 200, made.text
            found = await until_all_done(op.app.state.gateway.database.url, 205, within=300)
        upstream = upstream_tasks(emulator)
    assert all(r.status == "completed" for r in found)
    before_first, before_last = flood_started_before_light(found, flood_id, light_id)
    assert before_first <= SLOTS, before_first
    assert before_last <= SLOTS + 5, before_last
    # Submitted only into free slots: Vidu's own queue never filled.
    assert len(upstream) == 205
    assert most_at_once(upstream) <= SLOTS


@pytest.mark.process
@pytest.mark.slow
@pytest.mark.skipif(not on_postgres(), reason="several processes share PostgreSQL only")
def test_two_processes_never_exceed_an_account_concurrency(tmp_path: Path) -> None:
    config = fast_config(concurrency=SLOTS, queue_seconds=0.05, process_seconds=0.5)
    with run_emulator(config) as emulator:
        settings = {
            "VIDUGATE_PROVIDER": "vidu",
            "VIDUGATE_VIDU_ACCOUNTS": accounts_json(emulator, {"a": KEY_A}),
            "VIDUGATE_VIDU_POLL_SECONDS": "0.1",
            "VIDUGATE_VIDU_CALLBACKS": "false",
        }
        first = Gateway(tmp_path / "one", settings=settings).start()
        second = Gateway(
            tmp_path / "two", settings=settings, database_url=first.database_url, key=first.key
        ).start()
        try:
            made = []
            with first.client() as one, second.client(first.key) as two:
                for i in range(60):
                    client: httpx.Client = one if i % 2 else two
                    answer = client.post("/v1/videos", json={**CLIP, "prompt": f"t {i}"})
                    assert answer.status_code == 200, answer.text
                    made.append(answer.json()["id"])
            url = first.database_url
            found = run_sync(until_all_done(url, len(made), within=300))
            logs = first.log() + second.log()
        finally:
            first.stop()
            second.stop()
        upstream = upstream_tasks(emulator)
    assert all(r.status == "completed" for r in found)
    assert len(upstream) == 60
    assert most_at_once(upstream) <= SLOTS
    # Both processes sent creates (the slots are shared, not split by process).
    assert logs.count("task.admitted") == 60
