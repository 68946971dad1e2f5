"""/metrics in one process: parsed as Prometheus parses it, its counters match what the
test did (requests by route template, method and status; task changes, renders, result
copies, refusals), and its database figures match the database (tasks by state, queues,
ledger). Who may read it: an admin key or the scrape token, nobody else."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from metricslib import Scraped, delta
from pydantic import SecretStr

from adminlib import CLIP, operator
from inprocess import asgi_client, gateway_settings, running_app
from vidugate.clock import ManualClock
from vidugate.domain.keys import KeyRole
from vidugate.domain.ledger import DEFAULT_TENANT
from vidugate.domain.limits import Limits

pytestmark = pytest.mark.asyncio
ITEM = "/v1/videos/{video_id}"
TOKEN = "scrape-token-for-the-tests"


@contextlib.asynccontextmanager
async def api_only(data_dir: Path, clock: ManualClock, **values: Any) -> AsyncIterator[FastAPI]:
    """An API-only gateway (no worker: what is made stays queued)."""
    async with running_app(gateway_settings(data_dir, role="api", **values), clock) as app:
        yield app


async def new_key(app: FastAPI, limits: Limits | None = None, tenant: str | None = None) -> str:
    gateway = app.state.gateway
    key, token = await gateway.keys.create("t", **({"tenant_id": tenant} if tenant else {}))
    if limits is not None:
        await gateway.keys.set_limits(key.id, limits)
    return str(token)


async def admin_token(app: FastAPI) -> str:
    billing = app.state.gateway.billing
    _, token = await billing.create_key(DEFAULT_TENANT, "ops", role=KeyRole.ADMIN)
    return str(token)


async def scrape(client: httpx.AsyncClient) -> Scraped:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return Scraped.parse(response.text)


async def test_counters_and_figures_match_what_was_done(tmp_path: Path) -> None:
    async with operator(tmp_path, metrics_cache_seconds=0) as ops:
        tenant, key_id, token = await ops.tenant_with_key("10.00")
        before = await scrape(ops.admin)
        async with ops.client(token) as client:
            ids = []
            for index in range(2):
                made = await client.post("/v1/videos", json={**CLIP, "prompt": f"m {index}"})
                assert made.status_code == 200, made.text
                ids.append(made.json()["id"])
            polls = 0
            for video_id in ids:
                while (await client.get(f"/v1/videos/{video_id}")).json()["status"] not in (
                    "completed",
                    "failed",
                ):
                    polls += 1
                    await asyncio.sleep(0.02)
                polls += 1
            assert (await client.get("/v1/videos/video_nobody")).status_code == 404
            assert (await client.get("/no/such/route")).status_code == 404
        after = await scrape(ops.admin)
        balance = (await ops.admin.get(f"/admin/v1/tenants/{tenant}")).json()["balance"]

    requests = "vidugate_http_requests_total"
    assert delta(before, after, requests, route="/v1/videos", method="POST", status="200") == 2
    assert delta(before, after, requests, route=ITEM, method="GET", status="200") == polls
    assert delta(before, after, requests, route=ITEM, method="GET", status="404") == 1
    assert delta(before, after, requests, route="unmatched", method="GET", status="404") == 1
    # Each request's time is observed once, under the same route and method.
    durations = "vidugate_http_request_duration_seconds_count"
    assert delta(before, after, durations, route=ITEM, method="GET") == polls + 1

    # Work is counted per process: another gateway of this test process (the session's)
    # may finish a render meanwhile, so these are at least this test's; a `serve` of its
    # own counts them exactly (test_metrics_processes.py).
    changes = "vidugate_task_transitions_total"
    for name in ("Created", "Submitted", "Completed"):
        assert delta(before, after, changes, transition=name, provider="sandbox") >= 2, name
    assert delta(before, after, "vidugate_render_duration_seconds_count", outcome="succeeded") >= 2
    assert delta(before, after, "vidugate_result_copy_duration_seconds_count", outcome="ok") >= 2
    assert delta(before, after, "vidugate_result_copy_bytes_total", provider="sandbox") > 0
    assert delta(before, after, "vidugate_poll_lag_seconds_count", provider="sandbox") >= 1

    # Read from the database at the scrape: exact, with nothing left over from before.
    assert (
        after.value(
            "vidugate_tasks", state="completed", model=str(CLIP["model"]), provider="sandbox"
        )
        == 2
    )
    assert after.total("vidugate_tasks") == 2
    assert after.value("vidugate_ledger_entries", kind="reserve") == 2
    assert after.value("vidugate_ledger_entries", kind="settle") == 2
    assert after.value("vidugate_tenant_balance", tenant=tenant) == float(Decimal(balance))
    assert after.value("vidugate_ledger_amount", kind="topup") == 10.0
    assert after.total("vidugate_queue_depth") == 0


async def test_queues_are_by_tenant_with_their_oldest_waiting_age(tmp_path: Path) -> None:
    clock = ManualClock()
    # An API process alone: no worker, so what is made stays queued.
    async with api_only(tmp_path, clock, metrics_cache_seconds=0) as app:
        billing = app.state.gateway.billing
        first = (await billing.create_tenant("first")).id
        second = (await billing.create_tenant("second")).id
        one, two = await new_key(app, tenant=first), await new_key(app, tenant=second)
        body = {"model": "viduq2-turbo", "prompt": "waits", "duration": 1}
        async with asgi_client(app, one) as a, asgi_client(app, two) as b:
            assert (await a.post("/v1/videos", json=body)).status_code == 200
            clock.advance(30)
            assert (await a.post("/v1/videos", json=body)).status_code == 200
            assert (await b.post("/v1/videos", json=body)).status_code == 200
            clock.advance(15)
        async with asgi_client(app, await admin_token(app)) as admin:
            scraped = await scrape(admin)
    assert scraped.value("vidugate_queue_depth", tenant=first) == 2
    assert scraped.value("vidugate_queue_depth", tenant=second) == 1
    assert scraped.value("vidugate_queue_oldest_age_seconds", tenant=first) == 45
    assert scraped.value("vidugate_queue_oldest_age_seconds", tenant=second) == 15
    assert (
        scraped.value("vidugate_tasks", state="queued", model="viduq2-turbo", provider="sandbox")
        == 3
    )


async def test_a_limit_refusal_is_counted_by_limit_and_scope(tmp_path: Path) -> None:
    clock = ManualClock()
    async with api_only(tmp_path, clock) as app:
        token = await new_key(app, Limits(creates_per_minute=1))
        admin = asgi_client(app, await admin_token(app))
        async with admin, asgi_client(app, token) as client:
            before = await scrape(admin)
            body = {"model": "viduq2-turbo", "prompt": "once", "duration": 1}
            assert (await client.post("/v1/videos", json=body)).status_code == 200
            assert (await client.post("/v1/videos", json=body)).status_code == 429
            after = await scrape(admin)
    refusals = "vidugate_limit_refusals_total"
    assert delta(before, after, refusals, limit="creates_per_minute", scope="key") == 1
    assert delta(before, after, refusals) == 1
    assert (
        delta(before, after, "vidugate_http_requests_total", route="/v1/videos", status="429") == 1
    )


async def test_only_an_admin_key_or_the_scrape_token_reads_metrics(tmp_path: Path) -> None:
    settings = gateway_settings(tmp_path, metrics_token=SecretStr(TOKEN))
    async with running_app(settings) as app:
        admin = await admin_token(app)
        client_key = await new_key(app)
        for token, status in ((None, 401), (client_key, 401), ("wrong", 401), (TOKEN, 200)):
            async with asgi_client(app, token) as client:
                assert (await client.get("/metrics")).status_code == status, token
        async with asgi_client(app, admin) as client:
            assert "vidugate_state_read_seconds" in (await scrape(client)).names()


async def test_metrics_off_serves_no_route(tmp_path: Path) -> None:
    async with running_app(gateway_settings(tmp_path, metrics=False)) as app:
        client = asgi_client(app, await admin_token(app))
        async with client:
            assert (await client.get("/metrics")).status_code == 404
