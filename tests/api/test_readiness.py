"""What /readyz checks, moved by a ManualClock: the database answers, and the worker's loop
has turned within WORKER_STALE_SECONDS."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from vidugate.api.readiness import WORKER_STALE_SECONDS, Readiness
from vidugate.clock import ManualClock
from vidugate.errors import DatabaseUnavailableError

pytestmark = pytest.mark.asyncio


@dataclass
class Beat:
    alive: bool
    last_loop_at: float


async def answers() -> None:
    return None


async def away() -> None:
    raise DatabaseUnavailableError()


async def test_a_worker_whose_loop_stopped_turning_is_stalled() -> None:
    clock = ManualClock()
    beat = Beat(alive=True, last_loop_at=clock.now())
    readiness = Readiness(answers, beat, clock)
    assert await readiness.checks() == {"database": "ok", "worker": "ok"}
    clock.advance(WORKER_STALE_SECONDS - 1)
    assert (await readiness.checks())["worker"] == "ok"
    clock.advance(1)
    assert (await readiness.checks())["worker"] == "stalled"
    beat.last_loop_at = clock.now()
    beat.alive = False
    assert (await readiness.checks())["worker"] == "stalled"


async def test_an_unreachable_database_is_named_and_a_process_without_worker_has_no_check() -> None:
    readiness = Readiness(away, None, ManualClock())
    assert await readiness.checks() == {"database": "unreachable: DatabaseUnavailableError"}
