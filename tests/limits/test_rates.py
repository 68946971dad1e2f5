"""Requests and creates per minute: the edge, the headers, the window's return, key and
tenant; in one process (memory) and across two apps sharing a Redis."""

from __future__ import annotations

from pathlib import Path

import pytest
from limitlib import BODY, REDIS, app_with, client, fresh_prefix, new_key, new_tenant

from vidugate.clock import ManualClock
from vidugate.domain.limits import Limits

pytestmark = pytest.mark.asyncio


async def test_requests_per_minute_edge_headers_and_window(tmp_path: Path) -> None:
    clock = ManualClock()
    async with app_with(tmp_path, clock) as app:
        _key, token = await new_key(app, Limits(requests_per_minute=3))
        async with client(app, token) as http:
            for left in (2, 1, 0):
                answer = await http.get("/v1/videos")
                assert answer.status_code == 200
                assert answer.headers["x-ratelimit-limit-requests"] == "3"
                assert answer.headers["x-ratelimit-remaining-requests"] == str(left)
            refused = await http.get("/v1/videos")
            assert refused.status_code == 429
            error = refused.json()["error"]
            assert error["type"] == "rate_limit_error"
            assert error["code"] == "rate_limit_exceeded"
            assert "requests per minute for this key: 3" in error["message"]
            assert refused.headers["retry-after"] == "20"
            assert refused.headers["x-ratelimit-remaining-requests"] == "0"
            assert refused.headers["x-ratelimit-reset-requests"] == "1m0s"
            clock.advance(20)  # one interval (60 s / 3): one call fits again
            assert (await http.get("/v1/videos")).status_code == 200
            assert (await http.get("/v1/videos")).status_code == 429
            clock.advance(60)  # the whole window: all three again
            for _ in range(3):
                assert (await http.get("/v1/videos")).status_code == 200


async def test_fast_lane_status_get_is_limited_too(tmp_path: Path) -> None:
    clock = ManualClock()
    async with app_with(tmp_path, clock) as app:
        _key, token = await new_key(app, Limits(requests_per_minute=1))
        async with client(app, token) as http:
            first = await http.get("/v1/videos/video_nope")
            assert first.status_code == 404
            assert first.headers["x-ratelimit-remaining-requests"] == "0"
            assert (await http.get("/v1/videos/video_nope")).status_code == 429


async def test_creates_per_minute_on_every_surface_and_vidu_reason(tmp_path: Path) -> None:
    clock = ManualClock()
    async with app_with(tmp_path, clock) as app:
        _key, token = await new_key(app, Limits(creates_per_minute=2))
        async with client(app, token) as http:
            made = await http.post("/v1/videos", json=BODY)
            assert made.status_code == 200, made.text
            assert made.headers["x-ratelimit-limit-creates"] == "2"
            assert made.headers["x-ratelimit-remaining-creates"] == "1"
            vidu = await http.post(
                "/vidu/ent/v2/text2video", json={"model": "viduq2", "prompt": "a cat"}
            )
            assert vidu.status_code == 200, vidu.text
            refused = await http.post(
                "/vidu/ent/v2/text2video", json={"model": "viduq2", "prompt": "a cat"}
            )
            assert refused.status_code == 429
            assert refused.json()["reason"] == "TooManyRequests"
            assert "creates per minute for this key: 2" in refused.json()["message"]
            assert refused.headers["retry-after"] == "30"
            # Reads are no creates: still answered.
            assert (await http.get("/v1/videos")).status_code == 200
            assert (await http.post("/v1/videos", json=BODY)).status_code == 429


async def test_tenant_limit_counts_all_its_keys(tmp_path: Path) -> None:
    clock = ManualClock()
    async with app_with(tmp_path, clock) as app:
        tenant = await new_tenant(app, Limits(requests_per_minute=3))
        _a, token_a = await new_key(app, tenant=tenant)
        _b, token_b = await new_key(app, Limits(requests_per_minute=100), tenant=tenant)
        async with client(app, token_a) as a, client(app, token_b) as b:
            assert (await a.get("/v1/videos")).status_code == 200
            assert (await b.get("/v1/videos")).status_code == 200
            assert (await a.get("/v1/videos")).status_code == 200
            refused = await b.get("/v1/videos")
            assert refused.status_code == 429
            assert (
                "requests per minute for this key's tenant: 3" in refused.json()["error"]["message"]
            )
            # A refused call uses up nothing of the key's own window.
            assert refused.headers["x-ratelimit-remaining-requests"] == "0"


async def test_settings_default_applies_to_keys_and_tenants_unless_overridden(
    tmp_path: Path,
) -> None:
    clock = ManualClock()
    async with app_with(tmp_path, clock, limit_requests_per_minute=1) as app:
        _a, token_a = await new_key(app)
        tenant = await new_tenant(app, Limits(requests_per_minute=10))
        _b, token_b = await new_key(app, Limits(requests_per_minute=2), tenant=tenant)
        async with client(app, token_a) as a, client(app, token_b) as b:
            assert (await a.get("/v1/videos")).status_code == 200
            refused = await a.get("/v1/videos")
            assert refused.status_code == 429
            assert ": 1." in refused.json()["error"]["message"]
            assert (await b.get("/v1/videos")).status_code == 200
            assert (await b.get("/v1/videos")).status_code == 200
            assert (await b.get("/v1/videos")).status_code == 429


async def test_two_apps_share_a_redis_window(tmp_path: Path) -> None:
    clock = ManualClock()
    prefix = fresh_prefix()
    async with app_with(
        tmp_path / "one",
        clock,
        redis_url=REDIS,
        limits_redis_prefix=prefix,
        limits_redis_batch_seconds=0,
    ) as one:
        settings_url = one.state.settings.database_url
        async with app_with(
            tmp_path / "two",
            clock,
            redis_url=REDIS,
            limits_redis_prefix=prefix,
            limits_redis_batch_seconds=0,
            database_url=settings_url,
        ) as two:
            _key, token = await new_key(one, Limits(requests_per_minute=4))
            async with client(one, token) as a, client(two, token) as b:
                for http in (a, b, a, b):
                    assert (await http.get("/v1/videos")).status_code == 200
                assert (await a.get("/v1/videos")).status_code == 429
                assert (await b.get("/v1/videos")).status_code == 429
                clock.advance(15)
                assert (await b.get("/v1/videos")).status_code == 200
                assert (await a.get("/v1/videos")).status_code == 429


async def test_batched_redis_windows_meet_at_each_interval(tmp_path: Path) -> None:
    """With a batch interval, a process counts its calls itself and sends them to Redis
    once per interval; a process's first call of a window is checked in Redis."""
    clock = ManualClock()
    prefix = fresh_prefix()
    shared = {"redis_url": REDIS, "limits_redis_prefix": prefix, "limits_redis_batch_seconds": 1}
    async with app_with(tmp_path / "one", clock, **shared) as one:
        url = one.state.settings.database_url
        async with app_with(tmp_path / "two", clock, database_url=url, **shared) as two:
            _key, token = await new_key(one, Limits(requests_per_minute=4))
            async with client(one, token) as a, client(two, token) as b:
                for _ in range(3):  # one checked in Redis, two counted by `one` alone
                    assert (await a.get("/v1/videos")).status_code == 200
                # `two` reads Redis: it sees one call of `one` so far (the bound of batching).
                answer = await b.get("/v1/videos")
                assert answer.status_code == 200
                assert answer.headers["x-ratelimit-remaining-requests"] == "2"
                clock.advance(1.0)  # an interval: `one` sends its two calls with the next
                refused = await a.get("/v1/videos")
                assert refused.status_code == 429
                assert refused.headers["x-ratelimit-remaining-requests"] == "0"
