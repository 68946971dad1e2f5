"""Upstream accounts: which keys the gateway may send work to, and how each is doing."""

from __future__ import annotations

from dataclasses import dataclass
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
