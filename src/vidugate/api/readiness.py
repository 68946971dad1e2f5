"""What /readyz checks: the database answers and, in a process that runs one, the
worker's loop is turning. Built by the composition root; read by api/health.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from vidugate.clock import Clock

WORKER_STALE_SECONDS = 30.0


class Heartbeat(Protocol):
    """What readiness reads of a worker (workers/runner.py's Worker has it)."""

    @property
    def alive(self) -> bool: ...

    @property
    def last_loop_at(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Readiness:
    ping: Callable[[], Awaitable[None]]  # raises when the database cannot be reached
    worker: Heartbeat | None  # None: this process runs no worker
    clock: Clock

    async def checks(self) -> dict[str, str]:
        """Each check's word: "ok", or why not."""
        checks: dict[str, str] = {}
        try:
            await self.ping()
            checks["database"] = "ok"
        except Exception as exc:  # any failure to reach the database means not ready
            checks["database"] = f"unreachable: {type(exc).__name__}"
        if self.worker is not None:
            fresh = self.clock.now() - self.worker.last_loop_at < WORKER_STALE_SECONDS
            checks["worker"] = "ok" if self.worker.alive and fresh else "stalled"
        return checks
