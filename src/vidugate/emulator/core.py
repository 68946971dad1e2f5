"""The emulated platform's state: accounts, tasks, credits, fault dice and counters.

HTTP-free on purpose: routes parse requests and call one method here, which raises
`ViduError` for refusals. Choices where vidu-upstream.md is silent:
- a prompt containing "forbidden-content" (any case) is refused at create with 400
  `TaskPromptPolicyViolation` (checked after field validation, before credits);
- `off_peak` with `audio` is accepted and charged, then fails with err_code
  `AudioNotSupportedOffPeak` when its queue time is over, without ever processing;
- the `fail_task` fault is rolled at creation; such a task queues and processes normally
  and ends `failed` with `faults.fail_err_code` when its processing time is over;
- cancel makes the task `failed` with err_code `TaskCanceled`; a task past queueing
  answers 400 `TaskNotCancelable`; all failures are refunded (see `accounts`);
- task ids are numeric strings shaped like snowflake ids (milliseconds << 12 | counter),
  strictly increasing, so "newest first" is "largest id first".

Every moment (task timing, result-link expiry, callback back-off and Date headers) is read
from `clock` (`vidugate.clock`; the system clock unless one is given), so a test holding a
`ManualClock` moves the whole platform through time without sleeping.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import TypeVar

from vidugate.clock import Clock, SystemClock
from vidugate.emulator.accounts import Account
from vidugate.emulator.catalog import price
from vidugate.emulator.config import EmulatorConfig, check_config
from vidugate.emulator.errors import ViduError
from vidugate.emulator.links import ResultLinks
from vidugate.emulator.stats import Stats
from vidugate.emulator.tasks import FINAL, WAITING, State, Task
from vidugate.emulator.validation import CreateRequest

POLICY_WORD = "forbidden-content"
CANCELED = "TaskCanceled"
OFF_PEAK_AUDIO = "AudioNotSupportedOffPeak"
_T = TypeVar("_T")
_EPOCH_MS = 1_577_836_800_000  # 2020-01-01, the start of the id clock


class Emulator:
    def __init__(self, config: EmulatorConfig, clock: Clock | None = None) -> None:
        check_config(config)
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.stats = Stats()
        self.accounts = {key: Account(key, credits) for key, credits in config.accounts.items()}
        self.tasks: dict[str, Task] = {}
        self.links = ResultLinks(config)
        self.watched: set[Task] = set()  # tasks with a callback_url not yet notified of the end
        # Set by the callback dispatcher: told which task changed (None: possibly all of them).
        self.on_change: Callable[[Task | None], None] = lambda _task: None
        self._fault_rng = random.Random(config.faults.seed)
        self._seed_rng = random.Random(config.faults.seed + 7919)
        self._seq = 0
        self._last_id = 0

    # -- access ---------------------------------------------------------------------------
    def authenticate(self, header: str | None) -> Account:
        if not header:
            raise ViduError(401, "Unauthorized", "missing Authorization header: 'Token <api key>'")
        scheme, _, key = header.partition(" ")
        if scheme != "Token":
            raise ViduError(401, "Unauthorized", "use 'Authorization: Token <api key>'")
        account = self.accounts.get(key.strip())
        if account is None:
            raise ViduError(401, "Unauthorized", "invalid API key")
        return account

    def find(self, account: Account, task_id: str, now: float) -> Task:
        """The caller's task, brought up to date; 404 for unknown ids and others' tasks."""
        task = self.tasks.get(task_id)
        if task is None or task.key != account.key:
            raise ViduError(404, "TaskNotFound", f"task {task_id} not found")
        account.advance(now, self.config)
        return task

    def state_of(self, task: Task, now: float) -> State:
        self.accounts[task.key].advance(now, self.config)
        return task.state(now)

    # -- faults ---------------------------------------------------------------------------
    def roll(self, kind: str) -> bool:
        """True when fault `kind` (a Faults probability field) strikes now; counted."""
        probability: float = getattr(self.config.faults, kind)
        if probability <= 0 or self._fault_rng.random() >= probability:
            return False
        self.stats.faults[kind] += 1
        return True

    def pick(self, options: Sequence[_T]) -> _T:
        return self._fault_rng.choice(options)

    def reseed(self) -> None:
        self._fault_rng.seed(self.config.faults.seed)

    # -- lifecycle ------------------------------------------------------------------------
    def _next_id(self, now: float) -> str:
        candidate = (int(now * 1000) - _EPOCH_MS) << 12 | (self._seq & 0xFFF)
        self._last_id = max(candidate, self._last_id + 1)
        return str(self._last_id)

    def create(self, account: Account, request: CreateRequest, base_url: str, now: float) -> Task:
        if POLICY_WORD in request.prompt.lower():
            raise ViduError(
                400, "TaskPromptPolicyViolation", "the prompt violates the content policy"
            )
        cost = price(
            request.model,
            request.duration,
            request.resolution,
            off_peak=request.off_peak,
            is_rec=request.is_rec,
        )
        if account.credits < cost:
            raise ViduError(
                400,
                "CreditInsufficient",
                f"the task costs {cost} credits; the account has {account.credits:g}",
            )
        account.credits -= cost
        self._seq += 1
        queue = self.config.queue_seconds
        task = Task(
            id=self._next_id(now),
            seq=self._seq,
            key=account.key,
            request=request,
            seed=request.seed or self._seed_rng.randint(1, 2**31 - 1),
            credits=cost,
            created_at=now,
            created_until=now + queue / 2,
            ready_at=now + queue,
            base_url=base_url,
        )
        if request.off_peak and request.audio:
            task.skips_processing = True
            task.outcome, task.err_code = State.FAILED, OFF_PEAK_AUDIO
        elif self.roll("fail_task"):
            task.outcome, task.err_code = State.FAILED, self.config.faults.fail_err_code
        self.tasks[task.id] = task
        account.add(task)
        self.stats.creates_accepted += 1
        self.stats.tasks_by_account[account.key] += 1
        if request.callback_url:
            self.watched.add(task)
            self.on_change(task)
        return task

    def cancel(self, account: Account, task_id: str, now: float) -> None:
        task = self.find(account, task_id, now)
        state = task.state(now)
        if state not in WAITING:
            raise ViduError(
                400,
                "TaskNotCancelable",
                f"task {task_id} is {state.value}; only created or queueing tasks can be cancelled",
            )
        account.end_now(task, now, State.FAILED, CANCELED)
        account.advance(now, self.config)
        self.stats.cancels += 1
        self.on_change(None)  # a freed slot moves other tasks' start times too

    def force(self, task_id: str, outcome: State, err_code: str, now: float) -> Task:
        """Admin: end a task now, successfully or not (refunded like any failure)."""
        task = self.tasks.get(task_id)
        if task is None:
            raise ViduError(404, "TaskNotFound", f"task {task_id} not found")
        account = self.accounts[task.key]
        account.advance(now, self.config)
        if task.state(now) in FINAL:
            raise ViduError(409, "TaskFinished", f"task {task_id} is already {task.state(now)}")
        account.end_now(task, now, outcome, err_code)
        account.advance(now, self.config)
        self.on_change(None)
        return task

    def set_credits(self, key: str, credits: float) -> None:
        """Admin: open an account, or set an existing one's balance."""
        if key in self.accounts:
            self.accounts[key].credits = credits
        else:
            self.accounts[key] = Account(key, credits)
