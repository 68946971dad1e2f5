"""Helpers of the limits tests: an in-process app with a ManualClock, keys and tenants."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from inprocess import asgi_client, gateway_settings, running_app
from vidugate.clock import ManualClock
from vidugate.domain.keys import ApiKey
from vidugate.domain.limits import Limits

REDIS = "redis://127.0.0.1:6379/0"
BODY = {"model": "viduq2", "prompt": "a cat", "seconds": "1", "size": "1280x720"}


def fresh_prefix() -> str:
    return f"vidugate-test:{uuid.uuid4().hex}:"


@contextlib.asynccontextmanager
async def app_with(data_dir: Path, clock: ManualClock, **values: Any) -> AsyncIterator[FastAPI]:
    """An API-only gateway (no worker: videos stay queued) with these settings."""
    settings = gateway_settings(data_dir, role="api", **values)
    async with running_app(settings, clock=clock) as app:
        yield app


async def new_key(
    app: FastAPI, limits: Limits | None = None, tenant: str | None = None
) -> tuple[ApiKey, str]:
    gateway = app.state.gateway
    kwargs = {"tenant_id": tenant} if tenant else {}
    key, token = await gateway.keys.create("t", **kwargs)
    if limits is not None:
        await gateway.keys.set_limits(key.id, limits)
    return key, token


async def new_tenant(app: FastAPI, limits: Limits | None = None) -> str:
    billing = app.state.gateway.billing
    tenant = await billing.create_tenant(f"tenant {uuid.uuid4().hex[:6]}")
    if limits is not None:
        await billing.tenants.set_limits(tenant.id, limits)
    return str(tenant.id)


def client(app: FastAPI, token: str) -> httpx.AsyncClient:
    return asgi_client(app, token)
