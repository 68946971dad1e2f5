"""The task worker: admits waiting tasks into free slots (fair scheduling,
services/admission.py), leases due tasks and runs lifecycle steps with bounded concurrency,
renews the leases of running steps, and hands tasks back in batches. Every write goes
through the one writer of task rows (services/cached_tasks.py); waits and times come from
the injected clock."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import secrets
import socket

from vidugate import metrics
from vidugate.clock import Clock
from vidugate.domain.tasks import VideoTask
from vidugate.errors import DatabaseUnavailableError
from vidugate.logs import get_logger
from vidugate.services.admission import Admission
from vidugate.services.cached_tasks import CachedTasks, Release, held
from vidugate.services.lifecycle import Next, TaskLifecycle

HELD_PREFIX = held("")

log = get_logger("vidugate.worker")

IDLE_TICK = 0.2
# Hand-backs are written together: a poll that changed nothing costs a row in a batch, not
# a transaction of its own (SQLite takes one writer at a time).
FLUSH_EVERY = 0.02
# Admissions (fair scheduling) at most this often: each is a transaction under a lock.
ADMIT_EVERY = 0.1
# Looks this worker scheduled and has not taken up yet (for the poll lag), at most this
# many: a look another process takes up is never taken up here, and is forgotten in turn.
DUE_REMEMBERED = 100_000


def worker_id() -> str:
    # host:pid:random, so a restarted process (even one given the same pid) is a new owner.
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _is_dead_local_owner(owner: str, host: str) -> bool:
    parts = owner.removeprefix(HELD_PREFIX).rsplit(":", 2)
    if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return True  # an earlier life of this very process id
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Worker:
    def __init__(
        self,
        lifecycle: TaskLifecycle,
        tasks: CachedTasks,
        *,
        clock: Clock,
        concurrency: int,
        lease_seconds: float,
        shutdown_grace: float = 0.0,
        admission: Admission | None = None,
    ) -> None:
        self.lifecycle = lifecycle
        self.admission = admission if admission is not None and admission.enabled else None
        self._admitted_at = -math.inf
        self.tasks = tasks
        self.clock = clock
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self.shutdown_grace = shutdown_grace
        self._draining = False
        # Renewals and hand-backs both update this worker's rows; run at once, they can lock
        # the same rows in opposite orders (a deadlock on PostgreSQL). One at a time.
        self._writing = asyncio.Lock()
        self._away_logged_at = -math.inf
        self.owner = worker_id()
        self._wake = asyncio.Event()
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._main: asyncio.Task[None] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._releases: list[Release] = []
        # task id -> (provider, when its next look is due), for the poll lag.
        self._due: dict[str, tuple[str, float]] = {}
        self.last_loop_at = 0.0

    @property
    def alive(self) -> bool:
        return self._main is not None and not self._main.done()

    @property
    def running(self) -> int:
        """Steps under way now."""
        return len(self._inflight)

    @property
    def unwritten(self) -> int:
        """Hand-backs waiting for the next batch to be written."""
        return len(self._releases)

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        await self._reclaim_dead_local_leases()
        self._main = asyncio.create_task(self._loop(), name="vidugate worker")
        self._flusher = asyncio.create_task(self._flush_loop(), name="vidugate releases")

    async def stop(self) -> None:
        """Stop claiming; give running steps the grace period to end (leases still renewed
        meanwhile), cancel the rest, then hand every lease back so another worker resumes
        those tasks at once instead of after the lease runs out."""
        self._draining = True
        running = list(self._inflight.values())
        if running and self.shutdown_grace > 0:
            log.info("worker.draining", steps=len(running), grace_seconds=self.shutdown_grace)
            await self._drain(running)
        if self._main is not None:
            self._main.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._main
        for step in list(self._inflight.values()):
            step.cancel()
        for step in list(self._inflight.values()):
            with contextlib.suppress(asyncio.CancelledError):
                await step
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self._flush()
        await self.tasks.release_owners([self.owner])

    async def _drain(self, running: list[asyncio.Task[None]]) -> None:
        """Until every running step has ended or the grace period (on the clock) is over."""
        grace = asyncio.ensure_future(self.clock.sleep(self.shutdown_grace))
        pending: set[asyncio.Future[None]] = set(running)
        try:
            while pending and not grace.done():
                _, pending = await asyncio.wait(
                    {*pending, grace}, return_when=asyncio.FIRST_COMPLETED
                )
                pending.discard(grace)
        finally:
            grace.cancel()

    def _database_away(self, where: str) -> None:
        # Expected while the database restarts: one line a few seconds, not a traceback a tick.
        now = self.clock.monotonic()
        if now - self._away_logged_at >= 5:
            self._away_logged_at = now
            log.warning("worker.database_unavailable", where=where, retrying=True)

    async def _reclaim_dead_local_leases(self) -> None:
        host = socket.gethostname()
        dead = [o for o in await self.tasks.lease_owners() if _is_dead_local_owner(o, host)]
        if dead:
            count = await self.tasks.release_owners(dead)
            log.info("worker.reclaimed", tasks=count, owners=len(dead))

    async def _loop(self) -> None:
        next_renew = self.clock.monotonic() + self.lease_seconds / 3
        while True:
            self.last_loop_at = self.clock.now()
            try:
                if not self._draining:
                    await self._admit()
                    await self._claim()
                if self.clock.monotonic() >= next_renew:
                    await self._renew()
                    next_renew = self.clock.monotonic() + self.lease_seconds / 3
            except DatabaseUnavailableError:
                self._database_away("loop")
            except Exception:
                log.exception("worker.loop_error")
            self._wake.clear()
            await self.clock.wait(self._wake, self.clock.now() + IDLE_TICK)

    async def _admit(self) -> None:
        """Waiting tasks into free slots (fair scheduling), before claiming them."""
        now = self.clock.monotonic()
        if self.admission is None or now - self._admitted_at < ADMIT_EVERY:
            return
        self._admitted_at = now
        await self.admission.admit(self.owner)

    async def _claim(self) -> None:
        free = self.concurrency - len(self._inflight)
        if free <= 0:
            return
        claimed = await self.tasks.claim(self.owner, lease_seconds=self.lease_seconds, limit=free)
        now = self.clock.now()
        for task in claimed:
            due = self._due.pop(task.id, None)
            if due is not None:
                metrics.poll_lag(due[0], now - due[1])
            self._inflight[task.id] = asyncio.create_task(self._step(task), name=task.id)

    async def _renew(self) -> None:
        if self._inflight:
            async with self._writing:
                await self.tasks.renew(
                    self.owner, sorted(self._inflight), lease_seconds=self.lease_seconds
                )

    async def _step(self, task: VideoTask) -> None:
        outcome = Next(self.clock.now() + self.lease_seconds)
        try:
            outcome = await self.lifecycle.step(task, self.owner)
        except asyncio.CancelledError:
            # Shutting down: due again at once, for whoever is next.
            outcome = Next(self.clock.now())
            raise
        except Exception as exc:
            with contextlib.suppress(Exception):
                outcome = Next(await self.lifecycle.step_failed(task, self.owner, exc))
        finally:
            self._inflight.pop(task.id, None)
            if outcome.at is None:
                self._admitted_at = -math.inf  # a slot may be free: admit at the next look
            else:
                self._remember_due(task, outcome.at)
            self._releases.append(
                Release(task.id, outcome.at, outcome.progress, outcome.keep_lease)
            )

    def _remember_due(self, task: VideoTask, at: float) -> None:
        """The poll lag is how late the look scheduled here is taken up (by this worker:
        one taken up by another process is not measured)."""
        if len(self._due) >= DUE_REMEMBERED:
            del self._due[next(iter(self._due))]
        self._due[task.id] = (task.provider, at)

    async def _flush_loop(self) -> None:
        while True:
            await self.clock.sleep(FLUSH_EVERY)
            try:
                await self._flush()
            except DatabaseUnavailableError:  # kept for the next flush
                self._database_away("flush")
            except Exception:
                log.exception("worker.flush_error")

    async def _flush(self) -> None:
        if not self._releases:
            return
        batch, self._releases = self._releases, []
        try:
            async with self._writing:
                await self.tasks.hand_back(
                    self.owner,
                    sorted(batch, key=lambda item: item.task_id),
                    hold_seconds=self.lease_seconds,
                )
        except BaseException:
            self._releases[:0] = batch
            raise
        self._wake.set()
