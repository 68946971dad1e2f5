"""One API key's credits, tasks and processing slots, scheduled lazily.

`Account.advance(now)` replays, in time order, every event of the account up to `now`: a
task ending (which frees its slot and refunds a failure) or a queued task being granted a
slot. Tasks are granted slots first in, first out, each at `max(its ready_at, the moment a
slot was free)`, and at most `concurrency` tasks hold slots at once. Because events are
replayed in order, a task polled late gets the same start time it would have had with a
background loop ticking, and processing durations are fixed at the moment a task starts
(so a timing change through the admin API affects tasks not yet started).

Reads call `advance` first; when nothing is due it is a couple of comparisons, which keeps
the status poll cheap. The end heap may hold stale entries (a forced finish re-pushes a task
with a new end); an entry counts only while it matches the task's current `end_at`.

Every failed task is refunded when its end is booked: Vidu does not charge for a video it
did not make (fault-injected and forced failures, refusals at start, and cancels alike).
"""

from __future__ import annotations

import heapq
from collections import deque

from vidugate.emulator.config import EmulatorConfig
from vidugate.emulator.tasks import State, Task


class Account:
    def __init__(self, key: str, credits: float) -> None:
        self.key = key
        self.credits = credits
        self.tasks: list[Task] = []  # creation order (seq ascending)
        self.running = 0  # tasks holding a processing slot
        self._waiting: deque[Task] = deque()
        self._ends: list[tuple[float, int, Task]] = []
        self._clock = 0.0  # time of the last replayed event

    @property
    def queued(self) -> int:
        return len(self._waiting)

    def add(self, task: Task) -> None:
        self.tasks.append(task)
        if task.skips_processing:
            task.end_at = task.ready_at
            self._push_end(task)
        else:
            self._waiting.append(task)

    def advance(self, now: float, config: EmulatorConfig) -> None:
        waiting, ends = self._waiting, self._ends
        while waiting or ends:
            start: float | None = None
            if waiting and self.running < config.concurrency:
                start = max(waiting[0].ready_at, self._clock)
                if start > now:
                    start = None
            if ends and ends[0][0] <= now and (start is None or ends[0][0] <= start):
                self._settle(*heapq.heappop(ends))
            elif start is not None:
                self._start(waiting.popleft(), start, config)
            else:
                return

    def next_event(self, config: EmulatorConfig) -> float | None:
        """When `advance` will next have something to do (None: not until something changes)."""
        times = [self._ends[0][0]] if self._ends else []
        if self._waiting and self.running < config.concurrency:
            times.append(max(self._waiting[0].ready_at, self._clock))
        return min(times, default=None)

    def end_now(self, task: Task, now: float, outcome: State, err_code: str = "") -> None:
        """End a task that is not final yet at `now` (cancel, forced finish or failure)."""
        if task.start_at is None and task.end_at is None:
            self._waiting.remove(task)
        task.end_at = now
        task.outcome = outcome
        task.err_code = err_code if outcome is State.FAILED else ""
        self._push_end(task)

    def _push_end(self, task: Task) -> None:
        assert task.end_at is not None
        heapq.heappush(self._ends, (task.end_at, task.seq, task))

    def _start(self, task: Task, start: float, config: EmulatorConfig) -> None:
        task.start_at = start
        work = config.process_seconds + config.per_video_second * task.request.duration
        task.end_at = start + work
        task.holds_slot = True
        self.running += 1
        self._clock = start
        self._push_end(task)

    def _settle(self, end: float, _seq: int, task: Task) -> None:
        if task.settled or task.end_at != end:
            return  # stale entry: the task's end moved (forced) or was booked already
        task.settled = True
        self._clock = max(self._clock, end)
        if task.holds_slot:
            task.holds_slot = False
            self.running -= 1
        if task.outcome is State.FAILED and not task.refunded:
            task.refunded = True
            self.credits += task.credits
