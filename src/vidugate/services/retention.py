"""What finished tasks leave behind, removed in bounded batches: result files once their
keep-until time has passed (the task's `Expired` transition; content then answers 410),
whole task rows, with every file still under them, once they finished longer ago than the
row retention (VIDUGATE_TASK_ROW_RETENTION_SECONDS), used callback nonces once their
Date can no longer pass, and settled webhook messages and delivery logs as old as the rows.
`now` is an argument: the sweeper (workers/sweeper.py) passes its clock's, tests pass any."""

from __future__ import annotations

from vidugate.domain.transitions import Expired
from vidugate.files.base import FileStore
from vidugate.logs import get_logger
from vidugate.services.cached_tasks import CachedTasks
from vidugate.services.results import result_prefix
from vidugate.services.submission import input_prefix
from vidugate.store.nonces import NonceRepository
from vidugate.store.webhook_outbox import WebhookOutbox

log = get_logger("vidugate.sweeper")

BATCH = 500  # tasks per kind of clean-up per sweep


async def sweep_expired(
    tasks: CachedTasks, files: FileStore, *, now: float, limit: int = BATCH
) -> int:
    """Remove the files of up to `limit` tasks whose keep-until time has passed."""
    expired = await tasks.repo.expired(now, limit=limit)
    for task in expired:
        await files.delete_prefix(result_prefix(task.id))
        await tasks.apply(task.id, Expired())
    if expired:
        log.info("sweeper.expired", count=len(expired))
    return len(expired)


async def purge_finished(
    tasks: CachedTasks, files: FileStore, *, now: float, retention: float, limit: int = BATCH
) -> int:
    """Delete up to `limit` rows of tasks finished more than `retention` seconds ago, their
    files first: a crash in between leaves a row to purge again, never files no row names."""
    before = now - retention
    ids = await tasks.repo.purgeable(before, limit)
    for task_id in ids:
        await files.delete_prefix(input_prefix(task_id))
        await files.delete_prefix(result_prefix(task_id))
    purged = await tasks.purge(ids, before)
    if purged:
        log.info("sweeper.purged", count=purged)
    return purged


class Retention:
    def __init__(
        self,
        tasks: CachedTasks,
        files: FileStore,
        nonces: NonceRepository,
        *,
        row_retention: float,
        batch: int = BATCH,
        outbox: WebhookOutbox | None = None,
    ) -> None:
        self.outbox = outbox
        self.tasks = tasks
        self.files = files
        self.nonces = nonces
        self.row_retention = row_retention
        self.batch = batch

    async def sweep(self, now: float) -> bool:
        """One sweep as of `now`; True when a batch was full (more is waiting)."""
        expired = await sweep_expired(self.tasks, self.files, now=now, limit=self.batch)
        purged = await purge_finished(
            self.tasks, self.files, now=now, retention=self.row_retention, limit=self.batch
        )
        await self.nonces.purge(now)
        if self.outbox is not None:
            # Webhook messages and their log go with the rows they are about.
            await self.outbox.purge(now - self.row_retention)
        return expired >= self.batch or purged >= self.batch
