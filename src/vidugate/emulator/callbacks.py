"""Callback delivery: one scheduler task that notices transitions, and signed POSTs.

Task states are computed lazily (see `tasks`), so nothing "happens" when a task starts or
ends. The dispatcher is the one place that watches the clock: for the tasks that have a
`callback_url` and have not reached a final state (`Emulator.watched`) it keeps a heap of
the next moment each one's state may change (its start, its end, or its account's next
event while it waits for a slot), sleeps until the earliest or until told of a change (a
create names its task; a cancel, forced end or config change may move any, so everything
is looked at again), and queues a delivery for each new state among processing, success
and failed. With thousands of tasks in flight a wake costs the tasks that are due, not all.
A task that ended without ever processing (cancelled, refused at start) gets only its final
callback; one that processed gets `processing` first even if both moments passed between
two wakes. Wakes are capped at `_MAX_SLEEP` as a safety net. All of this runs on the
emulator's clock (`Emulator.clock`): with a `ManualClock`, states change, retries fire and
Date headers move only when a test advances it.

Deliveries POST the status document (the state it was queued for, result links written
against `public_base_url` or the base URL the task was created through) with fresh
signature headers per attempt (new Date and nonce, so a receiver rejecting replayed nonces
accepts a retry). Anything but 200, a connection error or a timeout (`callback_timeout`) is
retried up to 3 times after `callback_backoff`, 2x, 4x seconds on the clock (1, 2, 4 s by
default); then the delivery counts as failed. `callback_timeout` stays real time: it bounds
a network exchange, which no clock of ours can hurry. Deliveries of one task are sent in
order (each waits for the previous one). `drop_callback` makes a delivery silently never
sent. The HMAC key is the account's API key (`callback_secret_source="key"`, as Vidu does);
any other value of `callback_secret_source` is used as the key itself, to let tests provoke
bad signatures.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools

import aiohttp
from yarl import URL

from vidugate.emulator.core import Emulator
from vidugate.emulator.documents import encode, status_document
from vidugate.emulator.signing import callback_headers
from vidugate.emulator.tasks import FINAL, State, Task

RETRIES = 3
_MAX_SLEEP = 1.0
_MIN_SLEEP = 0.001


class CallbackDispatcher:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self._wake = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.Task[None] | None = None
        self._deliveries: set[asyncio.Task[None]] = set()
        self._last: dict[str, asyncio.Task[None]] = {}  # task id -> its latest delivery
        self._due: list[tuple[float, int, Task]] = []  # (when to look, tiebreak, task)
        self._counter = itertools.count()
        self._everything = True  # look at every watched task on the next scan

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self.emulator.on_change = self._changed
        self._loop = asyncio.create_task(self._run(), name="vidu-emulator-callbacks")

    async def stop(self) -> None:
        self.emulator.on_change = lambda _task: None
        pending = [t for t in (self._loop, *self._deliveries) if t is not None]
        for job in pending:
            job.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    async def _run(self) -> None:
        clock = self.emulator.clock
        while True:
            self._wake.clear()
            await clock.wait(self._wake, self.scan(clock.now()))

    def _changed(self, task: Task | None) -> None:
        if task is None:
            self._everything = True
        else:
            heapq.heappush(self._due, (0.0, next(self._counter), task))
        self._wake.set()

    def scan(self, now: float) -> float:
        """Queue deliveries for the due tasks' new states; the moment of the next look."""
        emulator = self.emulator
        if self._everything:
            self._everything = False
            self._due = [(0.0, next(self._counter), task) for task in emulator.watched]
            heapq.heapify(self._due)
        while self._due and self._due[0][0] <= now:
            task = heapq.heappop(self._due)[2]
            if task not in emulator.watched:
                continue
            state = emulator.state_of(task, now)
            if state is State.PROCESSING or (state in FINAL and task.start_at is not None):
                self._queue(task, State.PROCESSING)
            if state in FINAL:
                self._queue(task, state)
                emulator.watched.discard(task)
                continue
            heapq.heappush(
                self._due, (self._next_look(task, state, now), next(self._counter), task)
            )
        soonest = self._due[0][0] if self._due else now + _MAX_SLEEP
        return min(max(soonest, now + _MIN_SLEEP), now + _MAX_SLEEP)

    def _next_look(self, task: Task, state: State, now: float) -> float:
        if state is State.PROCESSING and task.end_at is not None:
            return task.end_at
        if task.start_at is not None:
            return task.start_at
        waiting = self.emulator.accounts[task.key].next_event(self.emulator.config)
        return waiting if waiting is not None and waiting > now else now + _MAX_SLEEP

    def _queue(self, task: Task, state: State) -> None:
        if state in task.notified:
            return
        task.notified.add(state)
        emulator = self.emulator
        if emulator.roll("drop_callback"):
            emulator.stats.callbacks_dropped += 1
            return
        base = emulator.config.public_base_url or task.base_url
        body = encode(status_document(task, state, emulator.links, base))
        emulator.stats.callbacks_pending += 1
        delivery = asyncio.create_task(self._deliver(task, body, self._last.get(task.id)))
        self._last[task.id] = delivery
        self._deliveries.add(delivery)
        delivery.add_done_callback(lambda done: self._forget(task.id, done))

    def _forget(self, task_id: str, done: asyncio.Task[None]) -> None:
        self._deliveries.discard(done)
        self.emulator.stats.callbacks_pending -= 1
        if self._last.get(task_id) is done:
            del self._last[task_id]

    async def _deliver(self, task: Task, body: bytes, previous: asyncio.Task[None] | None) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        config, stats, clock = self.emulator.config, self.emulator.stats, self.emulator.clock
        source = config.callback_secret_source
        key = task.key if source == "key" else source
        url = task.request.callback_url
        # Sent as written: aiohttp would otherwise re-quote it (%7e -> ~), and the receiver
        # would see a query other than the one signed, which Vidu takes as it stands.
        target = URL(url, encoded=True)
        assert self._session is not None
        for attempt in range(RETRIES + 1):
            if attempt:
                await clock.sleep(config.callback_backoff * 2 ** (attempt - 1))
            stats.callback_attempts += 1
            timeout = aiohttp.ClientTimeout(total=config.callback_timeout)
            try:
                headers = callback_headers(url, key, clock.now())
                async with self._session.post(
                    target, data=body, headers=headers, timeout=timeout
                ) as response:
                    await response.read()
                    if response.status == 200:
                        stats.callbacks_sent += 1
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
        stats.callbacks_failed += 1
