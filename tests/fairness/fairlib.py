"""Helpers of the fairness tests: tasks as the database has them, in the order they were
submitted, and the questions the tests ask of that order."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from dblib import query


@dataclass(frozen=True)
class Row:
    id: str
    tenant: str
    created_at: float
    started_at: float | None
    status: str


async def rows(url: str) -> list[Row]:
    found = await query(
        url, "SELECT id, tenant_id, created_at, started_at, status FROM tasks ORDER BY id"
    )
    return [Row(*row) for row in found]


async def until_all_done(url: str, count: int, within: float = 180) -> list[Row]:
    deadline = time.monotonic() + within
    while True:
        found = await rows(url)
        done = [r for r in found if r.status in ("completed", "failed", "cancelled")]
        if len(done) >= count:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(done)} of {count} tasks finished in {within} s")
        await asyncio.sleep(0.2)


def started_order(found: list[Row]) -> list[Row]:
    return sorted((r for r in found if r.started_at is not None), key=lambda r: r.started_at or 0)


def flood_started_before_light(found: list[Row], flood: str, light: str) -> tuple[int, int]:
    """(the flood's tasks started after the light tenant's first create and before its
    first task started, ... and before its last task started)."""
    light_rows = [r for r in found if r.tenant == light]
    arrived = min(r.created_at for r in light_rows)
    first = min(r.started_at or 0 for r in light_rows)
    last = max(r.started_at or 0 for r in light_rows)
    flood_rows = [r for r in found if r.tenant == flood and r.started_at is not None]
    before_first = sum(1 for r in flood_rows if arrived < (r.started_at or 0) < first)
    before_last = sum(1 for r in flood_rows if arrived < (r.started_at or 0) < last)
    return before_first, before_last
