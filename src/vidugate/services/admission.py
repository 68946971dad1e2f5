"""Fair scheduling, the worker's side: before each claim, fill the free slots of every
provider that has slot pools with the fairest waiting tasks (store/admission.py), and make
waiting tasks past their deadline due. Under fifo it does nothing: every task is due at
once, as before (docs/scheduling.md)."""

from __future__ import annotations

from vidugate.clock import Clock
from vidugate.domain.scheduling import Scheduling
from vidugate.logs import get_logger
from vidugate.providers.base import Provider, SlotPools
from vidugate.services.cached_tasks import CachedTasks

log = get_logger("vidugate.admission")

# Waiting tasks are checked against their deadline this often (a read of the waiting set).
DEADLINE_EVERY = 1.0


def gated(providers: dict[str, Provider], scheduling: Scheduling) -> frozenset[str]:
    """The providers whose new tasks wait for a slot."""
    if scheduling is not Scheduling.FAIR:
        return frozenset()
    return frozenset(pid for pid, p in providers.items() if isinstance(p, SlotPools))


class Admission:
    def __init__(
        self,
        tasks: CachedTasks,
        providers: dict[str, Provider],
        scheduling: Scheduling,
        *,
        clock: Clock,
        hold_seconds: float,
    ) -> None:
        self.tasks = tasks
        self.clock = clock
        self.hold_seconds = hold_seconds
        gate = gated(providers, scheduling)
        self.pools: dict[str, SlotPools] = {
            pid: p for pid, p in providers.items() if pid in gate and isinstance(p, SlotPools)
        }
        self._deadlines_at = 0.0

    @property
    def enabled(self) -> bool:
        return bool(self.pools)

    async def admit(self, owner: str) -> int:
        """Admit what the free slots take now; how many tasks were admitted."""
        admitted = 0
        check_deadlines = self.clock.monotonic() >= self._deadlines_at
        if check_deadlines:
            self._deadlines_at = self.clock.monotonic() + DEADLINE_EVERY
        for pid, provider in self.pools.items():
            if check_deadlines:
                overdue = await self.tasks.wake_overdue(pid)
                if overdue:
                    log.info("admission.overdue", provider=pid, tasks=overdue)
            pools = await provider.slot_pools(owner)
            pairs = await self.tasks.admit(pid, pools, owner=owner, hold_seconds=self.hold_seconds)
            for task_id, pool in pairs:
                log.info("task.admitted", task_id=task_id, slot=pool)
            admitted += len(pairs)
        return admitted
