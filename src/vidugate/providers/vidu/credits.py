"""What each Vidu account can still spend: its balance as read from `GET /ent/v2/credits`,
less what this process has sent since, and the prices Vidu refused on it.

Reads are lazy and bounded: a balance is read when it is unknown, older than
REFRESH_SECONDS, or due after a submit or a CreditInsufficient, and never more than once
per MIN_READ_INTERVAL per account (concurrent callers share one read). A failed read keeps
what was known: routing then relies on Vidu's answers alone for that account.

Each process keeps its own book: another process's spending shows at the next read, and a
create it makes stale meanwhile is refused by Vidu and re-read here, never charged twice.
Each read that gives a balance is also written to the store (one write per read, so at
most one per MIN_READ_INTERVAL per account), exactly, for the operator's margin report.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from vidugate.clock import Clock
from vidugate.errors import DatabaseUnavailableError, ProviderError, UpstreamRejectedError
from vidugate.logs import get_logger
from vidugate.providers.base import AccountStates
from vidugate.providers.vidu.client import Account, ViduClient
from vidugate.providers.vidu.mapping import parse_credits

log = get_logger("vidugate.vidu")

REFRESH_SECONDS = 60.0
MIN_READ_INTERVAL = 5.0
AFTER_SUBMIT_SECONDS = 5.0


@dataclass(slots=True)
class Balance:
    remain: float | None = None  # as last read, less what was held since; None: unknown
    last_read: float | None = None  # the raw value of the last read
    read_at: float = float("-inf")  # monotonic time of the last read attempt
    due_at: float = float("-inf")  # monotonic time from which a new read is wanted
    # The smallest price Vidu refused on this account since a read last showed it richer:
    # tasks costing this much or more skip the account, cheaper ones still go.
    short_of: float | None = None


def exact_remaining_credits(doc: Any) -> Decimal | None:
    """The credits left in a `GET /ent/v2/credits` answer, exactly: the sum over its
    package types (`remains`; the field table of Vidu's page calls it
    `remaining_credits`). Entries without a readable `credit_remain` are left out."""
    if not isinstance(doc, dict):
        return None
    remains = doc.get("remains", doc.get("remaining_credits"))
    if not isinstance(remains, list):
        return None
    values = [
        parse_credits(item.get("credit_remain")) for item in remains if isinstance(item, dict)
    ]
    numbers = [value for value in values if value is not None]
    return sum(numbers, Decimal(0)) if numbers else None


def remaining_credits(doc: Any) -> float | None:
    """The same as a float, for routing (prices there are estimates)."""
    exact = exact_remaining_credits(doc)
    return None if exact is None else float(exact)


class CreditBook:
    def __init__(
        self,
        client: ViduClient,
        clock: Clock,
        states: AccountStates | None = None,
        provider: str = "vidu",
    ) -> None:
        self.client = client
        self.clock = clock
        self.states = states
        self.provider = provider
        self._book: dict[str, Balance] = {}
        self._reads: dict[str, asyncio.Task[None]] = {}

    def balance(self, account_id: str) -> Balance:
        return self._book.setdefault(account_id, Balance())

    def affords(self, account_id: str, price: float | None) -> bool:
        """False only when what is known says the account cannot pay `price`."""
        if price is None:
            return True
        balance = self.balance(account_id)
        if balance.short_of is not None and price >= balance.short_of:
            return False
        return balance.remain is None or balance.remain >= price

    async def refresh(self, accounts: Iterable[Account]) -> None:
        """Read every balance that is unknown, stale or due (at the bounded rate)."""
        now = self.clock.monotonic()
        wanted = [account for account in accounts if self._wants_read(account.id, now)]
        if wanted:
            await asyncio.gather(*(self.read(account) for account in wanted))

    def _wants_read(self, account_id: str, now: float) -> bool:
        balance = self.balance(account_id)
        if now - balance.read_at < MIN_READ_INTERVAL:
            return False
        stale = now - balance.read_at >= REFRESH_SECONDS
        return balance.remain is None or stale or now >= balance.due_at

    async def read(self, account: Account) -> None:
        """Read one balance now, unless it was read within MIN_READ_INTERVAL; callers at the
        same time share the one call."""
        running = self._reads.get(account.id)
        if running is None:
            if self.clock.monotonic() - self.balance(account.id).read_at < MIN_READ_INTERVAL:
                return
            running = asyncio.ensure_future(self._read(account))
            self._reads[account.id] = running
            running.add_done_callback(lambda _: self._reads.pop(account.id, None))
        await asyncio.shield(running)

    async def _read(self, account: Account) -> None:
        balance = self.balance(account.id)
        balance.read_at = self.clock.monotonic()
        balance.due_at = float("inf")
        try:
            await self.read_now(account)
        except ProviderError as exc:
            log.warning("upstream.credits_unread", account=account.id, reason=exc.message)

    async def read_now(self, account: Account) -> Decimal:
        """Read one balance now, whatever the interval (an operator asked), and record it;
        a ProviderError when the upstream did not tell it (what was known is kept)."""
        doc = await self.client.credits(account)
        exact = exact_remaining_credits(doc)
        if exact is None:
            raise UpstreamRejectedError(
                "Vidu's credits answer has no readable credit_remain.",
                code="upstream_credits_unreadable",
            )
        balance = self.balance(account.id)
        remain = float(exact)
        if balance.last_read is not None and remain > balance.last_read:
            balance.short_of = None  # topped up or refunded: every price may be tried again
        balance.last_read = remain
        balance.remain = remain
        log.info("upstream.credits", account=account.id, remain=f"{remain:g}")
        if self.states is not None:
            try:
                await self.states.save_credits(account.id, self.provider, exact, self.clock.now())
            except DatabaseUnavailableError:
                # Only a report reads it, and the next read writes it again: routing goes on.
                log.warning(
                    "upstream.credits_unsaved", account=account.id, reason="database_unavailable"
                )
        return exact

    def hold(self, account_id: str, price: float | None) -> None:
        """A create is about to be sent: count its price as spent until Vidu answers."""
        balance = self.balance(account_id)
        if price is not None and balance.remain is not None:
            balance.remain -= price

    def release(self, account_id: str, price: float | None) -> None:
        """The create was provably not made: what `hold` took comes back."""
        balance = self.balance(account_id)
        if price is not None and balance.remain is not None:
            balance.remain += price

    def charged(self, account_id: str, held: float | None, charged: Decimal | None) -> None:
        """Vidu made the task: correct the hold by what its answer says it charged, and read
        the balance again soon (other keys of the same organisation spend from it too)."""
        balance = self.balance(account_id)
        if held is not None and balance.remain is not None and charged is not None:
            balance.remain += held - float(charged)
        balance.due_at = min(balance.due_at, self.clock.monotonic() + AFTER_SUBMIT_SECONDS)

    async def refused(self, account: Account, price: float | None) -> float | None:
        """Vidu answered CreditInsufficient for a task of about `price`: remember that this
        account cannot pay that much, read what it has, and return that (None: unknown)."""
        balance = self.balance(account.id)
        if price is not None:
            balance.short_of = price if balance.short_of is None else min(balance.short_of, price)
        await self.read(account)
        return balance.remain
