"""Task rows through one object: reads through a small in-process cache, and every write a
process makes to a task (transitions, creates, the worker's claims and batched hand-backs,
pokes, the purge), each refreshing the cache where it is written.

Clients poll the status route every second for minutes; most polls would read a row that
has not changed. Since every write made in this process goes through here, this process
always reads its own writes; the TTLs bound how stale a write made by another process can
look (an active task changes often, a finished one never).

The entries are bounded by count and by bytes (a task's texts may hold a megabyte), the
least recently kept going first; one task is one entry whoever asks for it."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from typing import NamedTuple

from vidugate.clock import Clock
from vidugate.domain.request import REQUEST_OVERHEAD
from vidugate.domain.scheduling import SlotPool
from vidugate.domain.tasks import VideoTask, is_task_id
from vidugate.domain.transitions import Transition
from vidugate.store.tasks import Release, TaskRepository, held

# The scheduling names a worker needs, so it knows only this layer.
__all__ = ["CachedTasks", "Release", "held", "task_bytes"]

ACTIVE_TTL = 0.5
# A finished task changes again only by a delete or its files expiring. One process sees
# its own; where other processes share the database (PostgreSQL), trust it only briefly.
TERMINAL_TTL_ALONE = 60.0
TERMINAL_TTL_SHARED = 1.0
LIMIT = 20_000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
# A task larger than this share of the budget is read from the database each time rather
# than pushing out many others.
LARGEST_SHARE = 8


class _Entry(NamedTuple):
    task: VideoTask
    until: float
    size: int


def task_bytes(task: VideoTask) -> int:
    """About the memory a task holds: its request and as much again for the rest."""
    return REQUEST_OVERHEAD + task.request.approx_bytes()


class CachedTasks:
    def __init__(
        self,
        repo: TaskRepository,
        *,
        shared: bool,
        clock: Clock,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.repo = repo
        self.clock = clock
        self.terminal_ttl = TERMINAL_TTL_SHARED if shared else TERMINAL_TTL_ALONE
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._bytes = 0

    @property
    def size(self) -> tuple[int, int]:
        """(entries, bytes) held now."""
        return len(self._entries), self._bytes

    def remember(self, task: VideoTask) -> VideoTask:
        """Keep a task as just read or written."""
        self.forget(task.id)
        size = task_bytes(task)
        if size * LARGEST_SHARE > self.max_bytes:
            return task
        ttl = self.terminal_ttl if task.status.terminal else ACTIVE_TTL
        now = self.clock.monotonic()
        self._entries[task.id] = _Entry(task, now + ttl, size)
        self._bytes += size
        # Expired entries at the old end answer no read (each is read again from the
        # database), so they go too: a burst of creates does not leave LIMIT of them in
        # memory after it.
        while (
            len(self._entries) > LIMIT
            or self._bytes > self.max_bytes
            or (next(iter(self._entries.values())).until <= now)
        ):
            self._bytes -= self._entries.popitem(last=False)[1].size
        return task

    def forget(self, task_id: str) -> None:
        entry = self._entries.pop(task_id, None)
        if entry is not None:
            self._bytes -= entry.size

    # Reads.

    async def get(self, task_id: str) -> VideoTask | None:
        """The task, whoever owns it (for workers and signed links)."""
        if not is_task_id(task_id):
            return None
        entry = self._entries.get(task_id)
        if entry is not None and entry.until > self.clock.monotonic():
            return entry.task
        task = await self.repo.get(task_id)
        if task is None:
            self.forget(task_id)
            return None
        return self.remember(task)

    async def get_owned(self, key_id: str, task_id: str) -> VideoTask | None:
        """The task if key_id owns it. Another key's task takes the path of a missing one:
        its entry is not used (nor dropped), and the query, by key and id, finds nothing."""
        if not is_task_id(task_id):
            return None
        entry = self._entries.get(task_id)
        if (
            entry is not None
            and entry.task.key_id == key_id
            and entry.until > self.clock.monotonic()
        ):
            return entry.task
        task = await self.repo.get(task_id, key_id=key_id)
        return None if task is None else self.remember(task)

    # Writes: the only ones made to task rows.

    async def create(
        self,
        task: VideoTask,
        *,
        idempotency_key: str | None = None,
        request_hash: str | None = None,
    ) -> VideoTask:
        await self.repo.create(task, idempotency_key=idempotency_key, request_hash=request_hash)
        return self.remember(task)

    async def apply(
        self, task_id: str, transition: Transition, *, owner: str | None = None
    ) -> VideoTask | None:
        """The transition applied now (see TaskRepository.apply); None when another change
        won, and the entry is then dropped so the next read sees the winner."""
        task = await self.repo.apply(task_id, transition, owner=owner, now=self.clock.now())
        if task is None:
            self.forget(task_id)
            return None
        return self.remember(task)

    async def claim(self, owner: str, *, lease_seconds: float, limit: int) -> list[VideoTask]:
        """Lease up to `limit` due tasks for `lease_seconds`."""
        now = self.clock.now()
        claimed = await self.repo.claim_due(
            owner, now=now, lease_until=now + lease_seconds, limit=limit
        )
        for task in claimed:
            self.remember(task)
        return claimed

    async def admit(
        self, provider: str, pools: Sequence[SlotPool], *, owner: str, hold_seconds: float
    ) -> list[tuple[str, str]]:
        """Fill the pools' free slots with the fairest waiting tasks (fair scheduling,
        TaskRepository.admit); the (task id, pool id) pairs admitted."""
        admitted = await self.repo.admit(
            provider, pools, owner=owner, now=self.clock.now(), hold_seconds=hold_seconds
        )
        for task_id, _pool in admitted:
            self.forget(task_id)
        return admitted

    async def wake_overdue(self, provider: str) -> int:
        """Make waiting tasks past their deadline due, so a worker fails them."""
        return await self.repo.wake_overdue(provider, self.clock.now())

    async def renew(self, owner: str, task_ids: list[str], *, lease_seconds: float) -> None:
        await self.repo.renew(owner, task_ids, lease_until=self.clock.now() + lease_seconds)

    async def hand_back(
        self, owner: str, items: Sequence[Release], *, hold_seconds: float = 0.0
    ) -> None:
        """Hand leased tasks back in one batch (TaskRepository.release_many), then show the
        higher progress it recorded in the cached entries."""
        now = self.clock.now()
        await self.repo.release_many(owner, items, now=now, hold_seconds=hold_seconds)
        for item in items:
            if item.progress is not None:
                self._raise_progress(item.task_id, item.progress, now)

    def _raise_progress(self, task_id: str, progress: int, now: float) -> None:
        entry = self._entries.get(task_id)
        # Written only for a task still active (the hand-back's own condition).
        if entry is not None and not entry.task.status.terminal and progress > entry.task.progress:
            task = replace(entry.task, progress=progress, updated_at=now)
            self._entries[task_id] = entry._replace(task=task)

    async def lease_owners(self) -> list[str]:
        """Every worker that holds a lease now (a read, for reclaiming dead ones)."""
        return await self.repo.lease_owners()

    async def release_owners(self, owners: Sequence[str]) -> int:
        """Hand back every lease of these (dead, or stopping) workers."""
        return await self.repo.release_owners(owners)

    async def poke_upstream(self, account: str, upstream_id: str) -> str | None:
        """Make the active task following this upstream job due at once; its id, if any."""
        return await self.repo.poke_upstream(account, upstream_id)

    async def purge(self, task_ids: Sequence[str], finished_before: float) -> int:
        """Delete the rows of long-finished tasks (TaskRepository.purge)."""
        purged = await self.repo.purge(task_ids, finished_before)
        for task_id in task_ids:
            self.forget(task_id)
        return purged
