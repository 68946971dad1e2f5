"""Which Vidu account gets a new task, and how each account is doing.

Create picks a healthy account that can afford the task (see `credits`) by weight,
preferring those under their concurrency cap. Throttling (429) stops every call to an
account until a time; a refused key (401) disables it until a person acts. Credits do not
park an account: one that cannot pay for a task is skipped for that task only. Health is
written through to the store so every process and the admin output see it; a task stays
pinned to the account that accepted it."""

from __future__ import annotations

import random
from collections.abc import Callable

from vidugate.clock import Clock
from vidugate.domain.accounts import AccountHealth, AccountState
from vidugate.logs import get_logger
from vidugate.providers.base import AccountStates
from vidugate.providers.vidu.client import Account

log = get_logger("vidugate.vidu")

PROVIDER = "vidu"
STATE_REFRESH_SECONDS = 5.0


class AccountPool:
    def __init__(self, accounts: list[Account], states: AccountStates | None, clock: Clock) -> None:
        self.clock = clock
        self.accounts = {account.id: account for account in accounts}
        self.states = states
        self._health: dict[str, AccountState] = {}
        self._in_flight: dict[str, set[str]] = {account.id: set() for account in accounts}
        self._refreshed = 0.0
        self._rng = random.Random()

    def get(self, account_id: str) -> Account | None:
        return self.accounts.get(account_id)

    async def refresh(self) -> None:
        """Pick up health changes made by other processes (rate-limited)."""
        now = self.clock.monotonic()
        if self.states is None or now - self._refreshed < STATE_REFRESH_SECONDS:
            return
        self._refreshed = now
        for state in await self.states.all(PROVIDER):
            if state.id in self.accounts:
                self._health[state.id] = state

    def takes_new_tasks(self, account_id: str, now: float | None = None) -> bool:
        state = self._health.get(account_id)
        return state is None or state.takes_new_tasks(now or self.clock.now())

    def throttled_for(self, account_id: str) -> float:
        """Seconds until a throttled account may be called again (0 when it may now)."""
        state = self._health.get(account_id)
        if state is None or state.health is not AccountHealth.THROTTLED or state.until is None:
            return 0.0
        return max(0.0, state.until - self.clock.now())

    def soonest_free_in(self) -> float | None:
        """Seconds until the first resting (throttled or exhausted) account takes new tasks
        again; None when no account is resting (all disabled: only a person helps)."""
        now = self.clock.now()
        waits = [
            state.until - now
            for state in self._health.values()
            if state.id in self.accounts
            and state.health in (AccountHealth.THROTTLED, AccountHealth.EXHAUSTED)
            and state.until is not None
        ]
        return max(0.0, min(waits)) if waits else None

    def open_accounts(self, exclude: set[str]) -> list[Account]:
        """The accounts that take new tasks now, but those in `exclude`."""
        now = self.clock.now()
        return [
            a
            for a in self.accounts.values()
            if a.id not in exclude and self.takes_new_tasks(a.id, now)
        ]

    def resting(self) -> list[Account]:
        """The accounts kept from new tasks until a time (throttled), not for good."""
        now = self.clock.now()
        return [
            a
            for a in self.accounts.values()
            if not self.takes_new_tasks(a.id, now)
            and self._health[a.id].health is not AccountHealth.DISABLED
        ]

    def pick(
        self,
        exclude: set[str],
        affords: Callable[[Account], bool] = lambda _: True,
        prefer: str | None = None,
    ) -> Account | None:
        candidates = [a for a in self.open_accounts(exclude) if affords(a)]
        if not candidates:
            return None
        # The account whose slot the task was admitted to (fair scheduling), while it can
        # take it; otherwise the task goes where the others would.
        preferred = [a for a in candidates if a.id == prefer]
        if preferred:
            return preferred[0]
        # Under the cap first: Vidu queues the rest, which only adds latency.
        room = [a for a in candidates if len(self._in_flight[a.id]) < a.concurrency]
        pool = room or candidates
        return self._rng.choices(pool, weights=[a.weight for a in pool])[0]

    def track(self, account_id: str, upstream_id: str, *, active: bool) -> None:
        flights = self._in_flight.setdefault(account_id, set())
        if active:
            flights.add(upstream_id)
        else:
            flights.discard(upstream_id)

    async def rest(
        self, account_id: str, health: AccountHealth, seconds: float, reason: str
    ) -> None:
        await self._set(account_id, health, reason, self.clock.now() + seconds)
        log.warning(
            f"upstream.account_{health.value}",
            account=account_id,
            seconds=round(seconds),
            reason=reason,
        )

    async def disable(self, account_id: str, reason: str) -> None:
        await self._set(account_id, AccountHealth.DISABLED, reason, None)
        log.error("upstream.account_disabled", account=account_id, reason=reason)

    async def _set(
        self, account_id: str, health: AccountHealth, reason: str, until: float | None
    ) -> None:
        state = AccountState(
            id=account_id,
            provider=PROVIDER,
            health=health,
            reason=reason,
            until=until,
            updated_at=self.clock.now(),
        )
        self._health[account_id] = state
        if self.states is not None:
            await self.states.save(state)
