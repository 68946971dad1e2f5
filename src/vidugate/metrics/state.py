"""The figures /metrics reads from the database when it is scraped: tasks by state, model
and provider; each tenant's queue (depth, age of its oldest waiting task) and balance;
ledger totals. Read, not counted: the database is shared by every process, so one read is
exact for all of them, and there is nothing to add up or to lose at a restart."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

NO_TENANT = "none"  # tasks made before tenants existed


@dataclass(frozen=True, slots=True)
class TaskCount:
    state: str
    model: str
    provider: str
    count: int


@dataclass(frozen=True, slots=True)
class TenantQueue:
    tenant: str
    depth: int
    oldest_age_seconds: float


@dataclass(frozen=True, slots=True)
class LedgerTotal:
    kind: str
    entries: int
    amount: float  # in the price table's currency


@dataclass(frozen=True, slots=True)
class TenantBalance:
    tenant: str
    balance: float


@dataclass(frozen=True, slots=True)
class StateSnapshot:
    tasks: tuple[TaskCount, ...] = ()
    queues: tuple[TenantQueue, ...] = ()
    ledger: tuple[LedgerTotal, ...] = ()
    balances: tuple[TenantBalance, ...] = ()
    read_seconds: float = 0.0  # what the read took
    age_seconds: float = 0.0  # how old the figures are (the cache, see services/stats.py)


class StateCollector(Collector):
    """Yields the families of the snapshot it was last given."""

    def __init__(self) -> None:
        self.snapshot = StateSnapshot()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snap = self.snapshot
        tasks = GaugeMetricFamily(
            "vidugate_tasks",
            "Tasks stored, by state, model and provider.",
            labels=("state", "model", "provider"),
        )
        for t in snap.tasks:
            tasks.add_metric((t.state, t.model, t.provider), t.count)
        depth = GaugeMetricFamily(
            "vidugate_queue_depth",
            "Tasks waiting to be submitted upstream (queued), by tenant.",
            labels=("tenant",),
        )
        oldest = GaugeMetricFamily(
            "vidugate_queue_oldest_age_seconds",
            "Age of the oldest waiting (queued) task, by tenant.",
            labels=("tenant",),
        )
        for q in snap.queues:
            depth.add_metric((q.tenant,), q.depth)
            oldest.add_metric((q.tenant,), q.oldest_age_seconds)
        entries = GaugeMetricFamily(
            "vidugate_ledger_entries",
            "Ledger rows, by kind (reserve, settle, refund, topup, adjust).",
            labels=("kind",),
        )
        amount = GaugeMetricFamily(
            "vidugate_ledger_amount",
            "Sum of the ledger's amounts, by kind, in the price table's currency "
            "(reserves negative).",
            labels=("kind",),
        )
        for entry in snap.ledger:
            entries.add_metric((entry.kind,), entry.entries)
            amount.add_metric((entry.kind,), entry.amount)
        balances = GaugeMetricFamily(
            "vidugate_tenant_balance", "Each tenant's balance.", labels=("tenant",)
        )
        for b in snap.balances:
            balances.add_metric((b.tenant,), b.balance)
        read = GaugeMetricFamily(
            "vidugate_state_read_seconds",
            "Time the last database read of these figures took.",
            value=snap.read_seconds,
        )
        age = GaugeMetricFamily(
            "vidugate_state_age_seconds",
            "Age of these figures (reused for VIDUGATE_METRICS_CACHE_SECONDS).",
            value=snap.age_seconds,
        )
        yield from (tasks, depth, oldest, entries, amount, balances, read, age)
