"""Unfinished videos at once and spend per day (counted by the database, exactly), Redis
away, and revoke."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from limitlib import BODY, app_with, client, fresh_prefix, new_key

from vidugate.clock import ManualClock
from vidugate.domain.limits import Limits

pytestmark = pytest.mark.asyncio


async def test_active_videos_edge_and_a_cancel_frees_a_place(tmp_path: Path) -> None:
    clock = ManualClock()
    async with app_with(tmp_path, clock) as app:
        _key, token = await new_key(app, Limits(active_videos=2))
        async with client(app, token) as http:
            ids = []
            for _ in range(2):
                made = await http.post("/v1/videos", json=BODY)
                assert made.status_code == 200, made.text
                ids.append(made.json()["id"])
            refused = await http.post("/v1/videos", json=BODY)
            assert refused.status_code == 429
            assert "unfinished videos at once for this key: 2" in refused.json()["error"]["message"]
            assert refused.headers["retry-after"] == "5"
            listed = (await http.get("/v1/videos")).json()["data"]
            assert len(listed) == 2  # nothing stored for the refused one
            assert (await http.post(f"/v1/videos/{ids[0]}/cancel")).status_code == 200
            assert (await http.post("/v1/videos", json=BODY)).status_code == 200


async def test_active_videos_exact_under_20_concurrent_creates(tmp_path: Path) -> None:
    clock = ManualClock()
    async with app_with(tmp_path, clock) as app:
        key, token = await new_key(app, Limits(active_videos=7))
        async with client(app, token) as http:
            answers = await asyncio.gather(*(http.post("/v1/videos", json=BODY) for _ in range(20)))
        codes = sorted(a.status_code for a in answers)
        assert codes == [200] * 7 + [429] * 13, [a.text for a in answers if a.status_code >= 500]
        keys = await app.state.gateway.keys.all()
        assert next(k for k in keys if k.id == key.id).active_videos == 7


async def test_revoke_cancels_queued_videos_and_frees_the_counts(tmp_path: Path) -> None:
    clock = ManualClock()
    async with app_with(tmp_path, clock) as app:
        key, token = await new_key(app)
        async with client(app, token) as http:
            made = [(await http.post("/v1/videos", json=BODY)).json()["id"] for _ in range(3)]
        await app.state.gateway.keys.revoke(key.id)
        tasks = app.state.gateway.tasks
        for task_id in made:
            task = await tasks.get(task_id)
            assert task is not None
            assert task.status.value == "cancelled"
        keys = await app.state.gateway.keys.all()
        assert next(k for k in keys if k.id == key.id).active_videos == 0
        async with client(app, token) as http:
            assert (await http.get("/v1/videos")).status_code == 401


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("mode", ["open", "closed"])
async def test_redis_stopped_mid_test(tmp_path: Path, mode: str) -> None:
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("no redis-server on this machine")
    port = _free_port()
    proc = subprocess.Popen(  # noqa: ASYNC220 (started once, before the app runs)
        [server, "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        cwd=tmp_path,
        env={**os.environ},
    )
    try:
        url = f"redis://127.0.0.1:{port}/0"
        for _ in range(100):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            await asyncio.sleep(0.05)
        clock = ManualClock()
        async with app_with(
            tmp_path, clock, redis_url=url, limits_redis_prefix=fresh_prefix(),
            limits_redis_down=mode, limits_redis_batch_seconds=0,
        ) as app:  # fmt: skip
            _key, token = await new_key(app, Limits(requests_per_minute=2))
            async with client(app, token) as http:
                assert (await http.get("/v1/videos")).status_code == 200
                proc.kill()
                proc.wait()
                answer = await http.get("/v1/videos")
                if mode == "open":
                    assert answer.status_code == 200
                    assert "x-ratelimit-limit-requests" not in answer.headers
                else:
                    assert answer.status_code == 503
                    assert answer.headers["retry-after"] == "1"
                    assert "Redis" in answer.json()["error"]["message"]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_spend_per_day_edge_and_next_day(tmp_path: Path) -> None:
    clock = ManualClock()
    prices = tmp_path / "prices.toml"
    prices.write_text(
        'currency = "USD"\n[models.viduq2]\n'
        'per_second = { "540p" = "1", "720p" = "1", "1080p" = "1" }\n',
        encoding="utf-8",
    )
    async with app_with(tmp_path / "d", clock, prices_file=prices) as app:
        billing = app.state.gateway.billing
        from vidugate.domain.ledger import LedgerKind

        key, token = await new_key(app, Limits(spend_per_day=Decimal("2.00")))
        await billing.move(key.tenant_id, LedgerKind.TOPUP, Decimal(100), "test")
        async with client(app, token) as http:
            for _ in range(2):
                made = await http.post("/v1/videos", json=BODY)
                assert made.status_code == 200, made.text
            refused = await http.post("/v1/videos", json=BODY)
            assert refused.status_code == 429, refused.text
            assert "spend per day for this key: 2" in refused.json()["error"]["message"]
            clock.advance(86400)
            assert (await http.post("/v1/videos", json=BODY)).status_code == 200
