"""Time as an input: code that reads the time or waits for it takes a `Clock`, so a test
can move time by hand instead of sleeping through it.

- `SystemClock`: the real one (`time.time`, `time.monotonic`, `asyncio.sleep`).
- `ManualClock`: stands still until `advance(seconds)`; then every `sleep` and `wait`
  whose deadline has come returns. It may be advanced from a thread other than the event
  loop that sleeps on it (a test thread driving a server that runs in its own thread), and
  shared by several loops.

`now()` is wall time in Unix seconds (timestamps, Date headers, expiries); `monotonic()`
measures intervals; a ManualClock moves both together. `wait(event, until)` is the loop step
of a worker that sleeps until it is told of work or until a moment it computed from
`now()`: the deadline is absolute, so a ManualClock advanced between the computation and the
wait still wakes it (a relative sleep would start counting only once it began).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import threading
import time
from typing import Protocol

# 2026-01-01T00:00:00Z: a ManualClock's default start, so timestamps in tests are stable.
DEFAULT_START = 1_767_225_600.0


class Clock(Protocol):
    def now(self) -> float:
        """Wall time, Unix seconds."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin, never going back: for intervals."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return once `seconds` have passed on this clock."""
        ...

    async def wait(self, event: asyncio.Event, until: float) -> bool:
        """Until `event` is set (True) or `now()` reaches `until` (False)."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def wait(self, event: asyncio.Event, until: float) -> bool:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(until - time.time()):
                await event.wait()
        return event.is_set()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class ManualClock:
    """A clock that moves only when told to (see the module docstring)."""

    def __init__(self, now: float = DEFAULT_START, monotonic: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._now = now
        self._monotonic = monotonic
        # (deadline in now() terms, tiebreak, future): a heap. Deadlines are kept in now()
        # terms so `until` is compared exactly as the caller computed it.
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose deadline has come."""
        if seconds < 0:
            raise ValueError("a clock does not go back")
        with self._lock:
            self._now += seconds
            self._monotonic += seconds
            due = []
            while self._sleepers and self._sleepers[0][0] <= self._now:
                due.append(heapq.heappop(self._sleepers)[2])
        for future in due:
            # Through the future's own loop: it may run in another thread.
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits
                future.get_loop().call_soon_threadsafe(_resolve, future)

    def sleeping(self) -> list[float]:
        """Seconds until each pending sleeper wakes, soonest first (for tests to await
        "something now waits N seconds" before advancing by N)."""
        with self._lock:
            pending = [when for when, _, future in self._sleepers if not future.done()]
            return sorted(when - self._now for when in pending)

    def _register(self, until: float | None, seconds: float = 0.0) -> asyncio.Future[None]:
        """A future resolved once now() reaches `until` (or now() + `seconds`, taken
        under the lock); resolved at once if that moment has come."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:
            deadline = self._now + seconds if until is None else until
            if deadline <= self._now:
                future.set_result(None)
            else:
                heapq.heappush(self._sleepers, (deadline, next(self._order), future))
        return future

    def _forget(self, future: asyncio.Future[None]) -> None:
        with self._lock:
            kept = [entry for entry in self._sleepers if entry[2] is not future]
            if len(kept) != len(self._sleepers):
                heapq.heapify(kept)
                self._sleepers = kept

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future = self._register(None, seconds)
        try:
            await future
        finally:
            if future.cancelled():
                self._forget(future)

    @staticmethod
    async def _until(event: asyncio.Event) -> None:
        await event.wait()

    async def wait(self, event: asyncio.Event, until: float) -> bool:
        if event.is_set():
            return True
        deadline = self._register(until)
        waiter: asyncio.Future[None] = asyncio.ensure_future(self._until(event))
        try:
            await asyncio.wait({deadline, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # Not awaited: its CancelledError would be indistinguishable from a cancel of
            # this very task arriving meanwhile, which would then be lost.
            waiter.cancel()
            deadline.cancel()
            self._forget(deadline)
        return event.is_set()
