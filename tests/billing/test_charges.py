"""A task's money through the HTTP API, in the test process: the price reserved with the
task, settled when it completes, refunded when it fails; the balance always the sum of the
ledger rows. On both backends (scripts/check runs tests/billing on PostgreSQL too)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from inprocess import asgi_client, gateway_settings, running_app
from vidugate.domain.ledger import LedgerKind
from vidugate.domain.price_documents import loads_prices

pytestmark = pytest.mark.asyncio

PRICES = """
currency = "EUR"
decimals = 2
[models."viduq2-turbo"]
per_second = { "540p" = "0.10", "720p" = "0.20", "1080p" = "0.40" }
"""
CLIP = {"model": "viduq2-turbo", "prompt": "a slow sunrise", "duration": 1, "resolution": "540p"}


async def tenant_with_key(app: FastAPI, balance: str) -> tuple[str, str]:
    billing = app.state.gateway.billing
    tenant = await billing.create_tenant("acme")
    if Decimal(balance):
        await billing.move(tenant.id, LedgerKind.TOPUP, Decimal(balance), "first payment")
    _key, token = await billing.create_key(tenant.id, "acme-app")
    return tenant.id, token


async def finished(client: httpx.AsyncClient, video_id: str) -> dict[str, Any]:
    for _ in range(6000):
        body: dict[str, Any] = (await client.get(f"/v1/videos/{video_id}")).json()
        if body["status"] in ("completed", "failed", "cancelled"):
            return body
        await asyncio.sleep(0.02)
    raise AssertionError(f"{video_id} never finished")


async def test_completed_video_is_charged_once(tmp_path: Path) -> None:
    async with running_app(gateway_settings(tmp_path)) as app:
        await app.state.gateway.billing.prices.set(loads_prices(PRICES, format="toml"), "test")
        tenant_id, token = await tenant_with_key(app, "1.00")
        async with asgi_client(app, token) as client:
            created = await client.post("/v1/videos", json=CLIP)
            assert created.status_code == 200, created.text
            assert created.json()["price"] == {
                "amount": "0.10",
                "currency": "EUR",
                "state": "reserved",
                "charged": None,
            }
            done = await finished(client, created.json()["id"])
        assert done["status"] == "completed"
        assert done["price"]["state"] == "settled"
        billing = app.state.gateway.billing
        assert (await billing.tenant(tenant_id)).balance == Decimal("0.9")
        kinds = [e.kind for e in await billing.ledger.entries(tenant_id=tenant_id)]
        assert kinds == [LedgerKind.TOPUP, LedgerKind.RESERVE, LedgerKind.SETTLE]
        assert await billing.ledger.unbalanced() == []


async def test_insufficient_balance_is_402_and_creates_nothing(tmp_path: Path) -> None:
    async with running_app(gateway_settings(tmp_path)) as app:
        await app.state.gateway.billing.prices.set(loads_prices(PRICES, format="toml"), "test")
        tenant_id, token = await tenant_with_key(app, "0.05")
        async with asgi_client(app, token) as client:
            refused = await client.post("/v1/videos", json=CLIP)
            assert refused.status_code == 402, refused.text
            error = refused.json()["error"]
            assert error["type"] == "insufficient_quota"
            assert "0.10 EUR" in error["message"]
            assert (await client.get("/v1/videos")).json()["data"] == []
            vidu = await client.post(
                "/vidu/ent/v2/text2video",
                json={"model": "viduq2-turbo", "prompt": "x", "duration": 1, "resolution": "540p"},
            )
            assert vidu.status_code == 402, vidu.text
            assert vidu.json()["reason"] == "CreditInsufficient"
        billing = app.state.gateway.billing
        assert (await billing.tenant(tenant_id)).balance == Decimal("0.05")
        assert [e.kind for e in await billing.ledger.entries(tenant_id=tenant_id)] == [
            LedgerKind.TOPUP
        ]
