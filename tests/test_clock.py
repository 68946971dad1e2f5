"""The clocks: a ManualClock wakes exactly what its advance makes due, from any thread."""

from __future__ import annotations

import asyncio
import threading

import pytest

from vidugate.clock import DEFAULT_START, Clock, ManualClock, SystemClock


async def _settle() -> None:
    """Let woken tasks run (a ManualClock wakes them through the loop)."""
    for _ in range(5):
        await asyncio.sleep(0)


def test_both_clocks_are_clocks() -> None:
    clocks: list[Clock] = [SystemClock(), ManualClock()]
    assert all(clock.now() > 1.7e9 for clock in clocks)


def test_a_manual_clock_moves_only_when_advanced() -> None:
    clock = ManualClock()
    assert (clock.now(), clock.monotonic()) == (DEFAULT_START, 0.0)
    clock.advance(2.5)
    assert (clock.now(), clock.monotonic()) == (DEFAULT_START + 2.5, 2.5)
    with pytest.raises(ValueError, match="back"):
        clock.advance(-1)


@pytest.mark.asyncio
async def test_sleepers_wake_when_their_moment_comes_and_not_before() -> None:
    clock = ManualClock()
    short = asyncio.create_task(clock.sleep(1.0))
    long = asyncio.create_task(clock.sleep(3.0))
    await _settle()
    assert clock.sleeping() == [1.0, 3.0]
    clock.advance(0.5)
    await _settle()
    assert not short.done()
    clock.advance(0.5)
    await _settle()
    assert short.done()
    assert not long.done()
    assert clock.sleeping() == [2.0]
    clock.advance(10)
    await _settle()
    assert long.done()
    assert clock.sleeping() == []


@pytest.mark.asyncio
async def test_wait_returns_on_the_event_or_at_an_absolute_moment() -> None:
    clock = ManualClock()
    event = asyncio.Event()
    until = clock.now() + 2.0
    clock.advance(1.5)  # before the wait starts: the deadline still holds
    waiting = asyncio.create_task(clock.wait(event, until))
    await _settle()
    assert clock.sleeping() == [0.5]
    clock.advance(0.5)
    assert await waiting is False
    woken = asyncio.create_task(clock.wait(event, clock.now() + 60))
    await _settle()
    event.set()
    assert await woken is True
    assert clock.sleeping() == []  # the wait's deadline is forgotten, not left to pile up


@pytest.mark.asyncio
@pytest.mark.parametrize("turns", range(6))
async def test_a_cancel_arriving_as_a_wait_ends_is_not_lost(turns: int) -> None:
    """Cancelled `turns` loop turns after its deadline came (each moment of its ending in
    turn), a wait still ends cancelled: a worker being stopped must stop."""
    clock = ManualClock()
    waiting = asyncio.create_task(clock.wait(asyncio.Event(), clock.now() + 1))
    await _settle()
    clock.advance(1)
    for _ in range(turns):
        await asyncio.sleep(0)
    if waiting.done():
        assert await waiting is False
        return
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting


@pytest.mark.asyncio
async def test_a_cancelled_sleep_is_forgotten() -> None:
    clock = ManualClock()
    sleeper = asyncio.create_task(clock.sleep(5.0))
    await _settle()
    sleeper.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sleeper
    assert clock.sleeping() == []


def test_a_clock_advanced_from_another_thread_wakes_a_loop_in_its_own() -> None:
    clock = ManualClock()
    done = threading.Event()

    async def sleeper() -> None:
        await clock.sleep(7.0)
        done.set()

    thread = threading.Thread(target=lambda: asyncio.run(sleeper()), daemon=True)
    thread.start()
    while clock.sleeping() != [7.0]:  # until it sleeps: advancing earlier would not count
        assert thread.is_alive()
        threading.Event().wait(0.01)
    clock.advance(7.0)
    thread.join(30)
    assert done.is_set()


@pytest.mark.asyncio
async def test_the_system_clock_waits_for_the_event_or_the_moment() -> None:
    clock = SystemClock()
    event = asyncio.Event()
    assert await clock.wait(event, clock.now() - 1) is False  # that moment has passed
    event.set()
    assert await clock.wait(event, clock.now() + 60) is True
