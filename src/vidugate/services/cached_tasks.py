"""Task reads through a small in-process cache.

Clients poll the status route every second for minutes; most polls would read a row that
has not changed. Every write made in this process goes through here and refreshes the
entry, so this process always reads its own writes; the TTLs bound how stale a write made
by another process can look (an active task changes often, a finished one never).

The entries are bounded by count and by bytes (a task's texts may hold a megabyte), the
least recently kept going first; one task is one entry whoever asks for it."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, NamedTuple

from vidugate.domain.request import REQUEST_OVERHEAD
from vidugate.domain.tasks import TaskStatus, VideoTask, is_task_id
from vidugate.store.tasks import TaskRepository

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
        self, repo: TaskRepository, *, shared: bool, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        self.repo = repo
        self.terminal_ttl = TERMINAL_TTL_SHARED if shared else TERMINAL_TTL_ALONE
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._bytes = 0

    @property
    def size(self) -> tuple[int, int]:
        """(entries, bytes) held now."""
        return len(self._entries), self._bytes

    def remember(self, task: VideoTask) -> VideoTask:
        self.forget(task.id)
        size = task_bytes(task)
        if size * LARGEST_SHARE > self.max_bytes:
            return task
        ttl = self.terminal_ttl if task.status.terminal else ACTIVE_TTL
        self._entries[task.id] = _Entry(task, time.monotonic() + ttl, size)
        self._bytes += size
        while len(self._entries) > LIMIT or self._bytes > self.max_bytes:
            self._bytes -= self._entries.popitem(last=False)[1].size
        return task

    def note_progress(self, task_id: str, progress: int) -> None:
        """A worker raised a task's progress (written with its batched hand-back)."""
        entry = self._entries.get(task_id)
        if entry is not None and not entry.task.status.terminal and progress > entry.task.progress:
            task = replace(entry.task, progress=progress, updated_at=time.time())
            self._entries[task_id] = entry._replace(task=task)

    def forget(self, task_id: str) -> None:
        entry = self._entries.pop(task_id, None)
        if entry is not None:
            self._bytes -= entry.size

    async def get(self, task_id: str) -> VideoTask | None:
        """The task, whoever owns it (for workers and signed links)."""
        if not is_task_id(task_id):
            return None
        entry = self._entries.get(task_id)
        if entry is not None and entry.until > time.monotonic():
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
        if entry is not None and entry.task.key_id == key_id and entry.until > time.monotonic():
            return entry.task
        task = await self.repo.get(task_id, key_id=key_id)
        return None if task is None else self.remember(task)

    async def update(
        self,
        task_id: str,
        *,
        expect: Iterable[TaskStatus] | None = None,
        owner: str | None = None,
        values: dict[str, Any],
    ) -> VideoTask | None:
        values.setdefault("updated_at", time.time())
        task = await self.repo.update(task_id, expect=expect, owner=owner, values=values)
        if task is None:
            self.forget(task_id)
            return None
        return self.remember(task)
