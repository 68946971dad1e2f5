"""Upstream accounts: which keys the gateway may send work to, and how each is doing."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class AccountHealth(StrEnum):
    ACTIVE = "active"
    THROTTLED = "throttled"  # no calls at all until `until` (the upstream said 429)
    EXHAUSTED = "exhausted"  # out of credits: no new tasks until `until`; its tasks go on
    DISABLED = "disabled"  # the upstream refused its key: needs a person


@dataclass(frozen=True, slots=True)
class AccountState:
    id: str
    provider: str
    health: AccountHealth
    reason: str = ""
    until: float | None = None
    updated_at: float = 0.0

    def takes_new_tasks(self, now: float) -> bool:
        if self.health is AccountHealth.ACTIVE:
            return True
        return self.health is not AccountHealth.DISABLED and (self.until or 0) <= now


@dataclass(frozen=True, slots=True)
class StoredAccount:
    """An account's row in the store: its health, and its credits as last read."""

    state: AccountState
    credits: Decimal | None = None
    credits_read_at: float | None = None


@dataclass(frozen=True, slots=True)
class ConfiguredAccount:
    """An account the settings give the gateway (never its key)."""

    id: str
    provider: str
    concurrency: int  # its slots: tasks at once (the sandbox's: per worker process)
    base_url: str | None = None  # None: not reached over the network (the sandbox)


@dataclass(frozen=True, slots=True)
class AccountLine:
    """One line of the operator's accounts page (GET /admin/v1/upstream/accounts)."""

    account: ConfiguredAccount
    stored: StoredAccount | None  # None: no row yet (never throttled, credits never read)
    running: int  # tasks holding one of its slots, or sent to it and not finished
    waiting: int  # its provider's tasks waiting for a slot (the queue is per provider)
