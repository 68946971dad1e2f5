"""GET /metrics: the Prometheus text format (docs/metrics.md), for an admin key or the
scrape token (VIDUGATE_METRICS_TOKEN). Not open to every caller: it names tenants and
upstream accounts, and tells volumes and money.

The figures read from the database are kept for VIDUGATE_METRICS_CACHE_SECONDS and read
by one scrape at a time, so a burst of scrapes (several Prometheus servers, a dashboard
reloaded) costs one read. When the database cannot be read, the last figures are served
(their age says how old) with this process's counters, which need no database."""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

from fastapi import APIRouter, Request
from starlette.responses import Response

from vidugate import metrics
from vidugate.api.deps import bearer_token, objects_of, settings_of
from vidugate.clock import Clock
from vidugate.domain.keys import KeyRole
from vidugate.errors import DatabaseUnavailableError
from vidugate.logs import get_logger

log = get_logger("vidugate.metrics")
router = APIRouter(tags=["metrics"])

StateReader = Callable[[float], Awaitable[metrics.StateSnapshot]]


class Scrape:
    """One process's answer to scrapes. Built by the composition root."""

    def __init__(
        self,
        read: StateReader,
        exposition: metrics.Exposition,
        *,
        clock: Clock,
        cache_seconds: float,
    ) -> None:
        self.read = read
        self.exposition = exposition
        self.clock = clock
        self.cache_seconds = cache_seconds
        self._snapshot: metrics.StateSnapshot | None = None
        self._read_at = 0.0
        self._reading = asyncio.Lock()

    async def text(self) -> bytes:
        return self.exposition.render(await self._state())

    def _fresh(self) -> metrics.StateSnapshot | None:
        snapshot = self._snapshot
        if snapshot is None:
            return None
        age = self.clock.monotonic() - self._read_at
        return replace(snapshot, age_seconds=age) if age < self.cache_seconds else None

    async def _state(self) -> metrics.StateSnapshot:
        if (fresh := self._fresh()) is not None:
            return fresh
        async with self._reading:
            if (fresh := self._fresh()) is not None:
                return fresh  # read by the scrape this one waited for
            start = time.perf_counter()
            try:
                snapshot = await self.read(self.clock.now())
            except DatabaseUnavailableError:
                log.warning("metrics.state_unread", reason="database_unavailable")
                if self._snapshot is None:
                    return metrics.StateSnapshot()
                age = self.clock.monotonic() - self._read_at
                return replace(self._snapshot, age_seconds=age)
            self._snapshot = replace(snapshot, read_seconds=time.perf_counter() - start)
            self._read_at = self.clock.monotonic()
            return self._snapshot


async def _allowed(request: Request) -> None:
    """The scrape token, or an admin key (AuthenticationError otherwise)."""
    token = bearer_token(request)
    expected = settings_of(request).metrics_token
    if expected is not None and hmac.compare_digest(
        token.encode(), expected.get_secret_value().encode()
    ):
        return
    await objects_of(request).keys.authenticate(token, KeyRole.ADMIN)


@router.get("/metrics", operation_id="metrics", include_in_schema=False)
async def scrape_metrics(request: Request) -> Response:
    await _allowed(request)
    body = await objects_of(request).scrape.text()
    return Response(body, media_type=metrics.CONTENT_TYPE)
