"""Task reads through a small in-process cache.

Clients poll the status route every second for minutes; most polls would read a row that
has not changed. Every write made in this process goes through here and refreshes the
entry, so this process always reads its own writes; the TTLs bound how stale a write made
by another process can look (an active task changes often, a finished one never)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from vidugate.domain.tasks import TaskStatus, VideoTask, is_task_id
from vidugate.store.tasks import TaskRepository

ACTIVE_TTL = 0.5
# A finished task changes again only by a delete or its files expiring. One process sees
# its own; where other processes share the database (PostgreSQL), trust it only briefly.
TERMINAL_TTL_ALONE = 60.0
TERMINAL_TTL_SHARED = 1.0
LIMIT = 20_000


class CachedTasks:
    def __init__(self, repo: TaskRepository, *, shared: bool) -> None:
        self.repo = repo
        self.terminal_ttl = TERMINAL_TTL_SHARED if shared else TERMINAL_TTL_ALONE
        self._entries: OrderedDict[str, tuple[VideoTask, float]] = OrderedDict()

    def remember(self, task: VideoTask) -> VideoTask:
        ttl = self.terminal_ttl if task.status.terminal else ACTIVE_TTL
        self._entries[task.id] = (task, time.monotonic() + ttl)
        self._entries.move_to_end(task.id)
        if len(self._entries) > LIMIT:
            self._entries.popitem(last=False)
        return task

    def note_progress(self, task_id: str, progress: int) -> None:
        """A worker raised a task's progress (written with its batched hand-back)."""
        entry = self._entries.get(task_id)
        if entry is not None and not entry[0].status.terminal and progress > entry[0].progress:
            task = replace(entry[0], progress=progress, updated_at=time.time())
            self._entries[task_id] = (task, entry[1])

    def forget(self, task_id: str) -> None:
        self._entries.pop(task_id, None)

    async def get(self, task_id: str) -> VideoTask | None:
        if not is_task_id(task_id):
            return None
        entry = self._entries.get(task_id)
        if entry is not None and entry[1] > time.monotonic():
            return entry[0]
        task = await self.repo.get(task_id)
        if task is None:
            self.forget(task_id)
            return None
        return self.remember(task)

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
