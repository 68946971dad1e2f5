"""Helpers of the admin API and client money tests: an in-process gateway with an admin
key, a price table as the operator sends it, and waiting for a video's end."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from inprocess import asgi_client, gateway_settings, running_app
from vidugate.clock import Clock
from vidugate.domain.keys import KeyRole
from vidugate.domain.ledger import DEFAULT_TENANT

# viduq2-turbo offers 540p, 720p and 1080p: each needs a price.
PRICES: dict[str, Any] = {
    "currency": "EUR",
    "decimals": 2,
    "models": {
        "viduq2-turbo": {"per_second": {"540p": "0.10", "720p": "0.20", "1080p": "0.40"}},
    },
}
CLIP = {"model": "viduq2-turbo", "prompt": "a slow sunrise", "duration": 1, "resolution": "540p"}


@dataclass
class Operator:
    app: FastAPI
    admin: httpx.AsyncClient
    admin_token: str

    def client(self, token: str | None) -> httpx.AsyncClient:
        return asgi_client(self.app, token)

    async def tenant_with_key(
        self, balance: str, *, cap: str | None = None, name: str = "acme"
    ) -> tuple[str, str, str]:
        """A tenant made over the admin API with this balance, and a client key of its:
        (tenant id, key id, token)."""
        tenant = await self.admin.post("/admin/v1/tenants", json={"name": name, "balance": balance})
        assert tenant.status_code == 200, tenant.text
        body: dict[str, Any] = {"tenant_id": tenant.json()["id"], "name": f"{name}-app"}
        if cap is not None:
            body["spend_cap"] = cap
        key = await self.admin.post("/admin/v1/keys", json=body)
        assert key.status_code == 200, key.text
        return tenant.json()["id"], key.json()["id"], key.json()["token"]

    async def balanced(self) -> None:
        assert await self.app.state.gateway.billing.ledger.unbalanced() == []


@contextlib.asynccontextmanager
async def operator(
    tmp_path: Path, *, prices: bool = True, clock: Clock | None = None, **settings: Any
) -> AsyncIterator[Operator]:
    """A running gateway (settings by field name), an admin key's client on it, and the
    price table PUT (unless prices=False)."""
    async with running_app(gateway_settings(tmp_path, **settings), clock) as app:
        billing = app.state.gateway.billing
        _key, token = await billing.create_key(DEFAULT_TENANT, "ops", role=KeyRole.ADMIN)
        async with asgi_client(app, token) as admin:
            if prices:
                put = await admin.put("/admin/v1/prices", json=PRICES)
                assert put.status_code == 200, put.text
            yield Operator(app, admin, token)


async def finished(client: httpx.AsyncClient, video_id: str) -> dict[str, Any]:
    for _ in range(6000):
        body: dict[str, Any] = (await client.get(f"/v1/videos/{video_id}")).json()
        if body["status"] in ("completed", "failed", "cancelled"):
            return body
        await asyncio.sleep(0.02)
    raise AssertionError(f"{video_id} never finished")


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """The OpenAI envelope's error of a response that must have this status."""
    assert response.status_code == status, (response.status_code, response.text)
    error: dict[str, Any] = response.json()["error"]
    return error
