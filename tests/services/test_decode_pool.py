"""The image decode pool: threads of its own, one job at a time per key, and a caller that
stops waiting neither frees the key's slot early nor leaves files behind."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from vidugate.services.images import DecodePool

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def pool() -> AsyncIterator[DecodePool]:
    decode_pool = DecodePool(2)
    yield decode_pool
    decode_pool.close()


class Blocker:
    """A job that holds its thread until released, and counts how many run at once."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Semaphore(0)
        self._lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.thread_names: set[str] = set()

    def __call__(self) -> str:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.thread_names.add(threading.current_thread().name)
        self.started.release()
        try:
            assert self.release.wait(30), "never released"
            return "done"
        finally:
            with self._lock:
                self.running -= 1


async def started(blocker: Blocker) -> None:
    assert await asyncio.to_thread(blocker.started.acquire, True, 30)


async def test_one_keys_jobs_queue_behind_each_other_not_in_front_of_anothers(
    pool: DecodePool,
) -> None:
    heavy = Blocker()
    jobs = [asyncio.create_task(pool.run("key-a", heavy)) for _ in range(4)]
    await started(heavy)
    # Key A holds one thread; key B's job runs on the other at once and finishes first.
    assert await pool.run("key-b", lambda: "small") == "small"
    assert not any(job.done() for job in jobs)
    assert heavy.running == 1
    heavy.release.set()
    assert await asyncio.gather(*jobs) == ["done"] * 4
    assert heavy.most == 1  # never two of key A's at once
    assert all(name.startswith("vg-image") for name in heavy.thread_names)


async def test_a_caller_that_stops_waiting_keeps_the_slot_until_the_thread_ends(
    pool: DecodePool,
) -> None:
    heavy = Blocker()
    cleaned = threading.Event()
    first = asyncio.create_task(pool.run("key-a", heavy, abandoned=cleaned.set))
    await started(heavy)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    # The thread still runs: the key's next job waits for it, and the clean-up comes after.
    second = asyncio.create_task(pool.run("key-a", lambda: "next"))
    await asyncio.sleep(0)
    assert not second.done()
    assert not cleaned.is_set()
    heavy.release.set()
    assert await second == "next"
    assert await asyncio.to_thread(cleaned.wait, 30)


async def test_a_job_cancelled_while_queued_never_runs(pool: DecodePool) -> None:
    a, b = Blocker(), Blocker()
    busy = [asyncio.create_task(pool.run(key, job)) for key, job in (("a", a), ("b", b))]
    await started(a)
    await started(b)
    ran = threading.Event()
    queued = asyncio.create_task(pool.run("c", ran.set))  # both threads are taken
    await asyncio.sleep(0)  # one turn: its slot is free, so it is now in the executor's queue
    queued.cancel()
    with pytest.raises(asyncio.CancelledError):
        await queued
    a.release.set()
    b.release.set()
    await asyncio.gather(*busy)
    assert await pool.run("c", lambda: "free") == "free"  # its slot was given back
    assert not ran.is_set()


async def test_errors_reach_the_caller_and_free_the_slot(pool: DecodePool) -> None:
    def broken() -> None:
        raise ValueError("bad image")

    with pytest.raises(ValueError, match="bad image"):
        await pool.run("key-a", broken)
    assert await pool.run("key-a", lambda: 1) == 1
