"""Fair scheduling of slots (docs/scheduling.md): which waiting tasks take the slots that
are free, as a pure function over counts read from the database.

A slot pool is a number of tasks that may run at once: a process's sandbox renders, or one
upstream account's concurrency. When slots free up, each one goes to the tenant whose use
of the slots is lowest for its weight: (use + 1) / weight, where use counts the tenant's
tasks holding a slot now and those that gave one back within the last USAGE_WINDOW
seconds (so with few slots, weight 2 still gets twice the turns of weight 1 over time,
and a tenant that just had many waits behind one that had few). Within a tenant the
oldest task goes first; a lower tier (off_peak) only once no normal task waits. Everything
is recomputed from the database at each admission: nothing is remembered between them."""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

# Tasks made before tenants (tenant_id NULL) count as this tenant's (domain/ledger.py).
from vidugate.domain.ledger import DEFAULT_TENANT

__all__ = [
    "DEFAULT_TENANT",
    "USAGE_WINDOW",
    "Scheduling",
    "SlotPool",
    "Waiting",
    "choose",
    "tier_of",
]

NORMAL_TIER = 0
OFF_PEAK_TIER = 1
# Slots given back this recently still count as the tenant's use.
USAGE_WINDOW = 60.0


class Scheduling(StrEnum):
    FAIR = "fair"  # queued tasks wait in the gateway until a slot is free, tenants in turn
    FIFO = "fifo"  # every task is submitted at once, first come first served


@dataclass(frozen=True, slots=True)
class SlotPool:
    """Slots a provider offers: `capacity` tasks at once under this id (a task admitted to
    the pool carries the id as its `slot` until it ends)."""

    id: str
    capacity: int
    # True when the pool belongs to one process (the sandbox's renders): a task admitted
    # to it is held for that process.
    local: bool = False
    # Among pools with room, a task goes to the one with the most room times weight
    # (an upstream account's weight: the provider's own preference).
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Waiting:
    """A task waiting for a slot, as the admission reads it."""

    id: str
    tenant: str
    tier: int
    created_at: float


def tier_of(off_peak: bool) -> int:
    return OFF_PEAK_TIER if off_peak else NORMAL_TIER


def choose(
    free: int,
    use: Mapping[str, int],
    weights: Mapping[str, int],
    heads: Mapping[str, Sequence[Waiting]],
) -> list[Waiting]:
    """Up to `free` tasks to admit, in order. `heads` holds each waiting tenant's oldest
    tasks (tier, then age); `use` each tenant's tasks holding a slot now or lately."""
    queue: list[tuple[int, float, float, str, int]] = []
    counts = {tenant: use.get(tenant, 0) for tenant in heads}

    def push(tenant: str, index: int) -> None:
        tasks = heads[tenant]
        if index < len(tasks):
            head = tasks[index]
            share = (counts[tenant] + 1) / max(1, weights.get(tenant, 1))
            heapq.heappush(queue, (head.tier, share, head.created_at, tenant, index))

    for tenant in heads:
        push(tenant, 0)
    chosen: list[Waiting] = []
    while queue and len(chosen) < free:
        _tier, _share, _age, tenant, index = heapq.heappop(queue)
        chosen.append(heads[tenant][index])
        counts[tenant] += 1
        push(tenant, index + 1)
    return chosen
