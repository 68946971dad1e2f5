"""Tenants, their balances and the ledger, as the code passes them around. Amounts are
exact decimals of the operator's currency (the store keeps integer micro-units).

A tenant's balance moves only by ledger rows, each written in the transaction of what
causes it: a top-up or adjustment by the operator, and for a task a reserve when it is
created, then either a settle (completed, or cancelled after the upstream began: the
cancel policy) or a refund (failed, or cancelled before the upstream began)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from vidugate.domain.limits import NO_LIMITS, Limits

# The tenant that keys made before tenants existed belong to (and keys made without one).
DEFAULT_TENANT = "tenant_default"


class LedgerKind(StrEnum):
    TOPUP = "topup"  # money in (a payment)
    ADJUST = "adjust"  # a correction either way, with its reason
    RESERVE = "reserve"  # a task's price, held when it is created
    SETTLE = "settle"  # a task's end: what was held back beyond its final charge comes back
    REFUND = "refund"  # a task's end with nothing charged: the whole reserve comes back


class ChargeState(StrEnum):
    RESERVED = "reserved"
    SETTLED = "settled"
    REFUNDED = "refunded"


@dataclass(frozen=True, slots=True)
class Tenant:
    id: str
    name: str
    balance: Decimal
    overdraft: Decimal  # how far below zero a reserve may take the balance
    created_at: float
    weight: int = 1  # its share of the slots when tenants wait for them (fair scheduling)
    limits: Limits = NO_LIMITS  # its own (None in a field: the settings' default)
    active_videos: int = 0  # unfinished videos of all its keys, as last read


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    id: int
    tenant_id: str
    key_id: str | None
    task_id: str | None
    kind: LedgerKind
    amount: Decimal  # signed: what the row added to the balance
    balance_after: Decimal
    model: str | None
    reason: str
    created_at: float


@dataclass(frozen=True, slots=True)
class Charge:
    """A task's money: what it was priced at when created and where that stands."""

    price: Decimal
    currency: str
    state: ChargeState
    charged: Decimal | None = None  # the net charge once settled or refunded


@dataclass(frozen=True, slots=True)
class CancelPolicy:
    """What a cancel costs once the upstream has begun making the video (before that it
    is refunded in full): a percentage of the price. Vidu cannot stop a task it is
    processing and charges for it, hence 100 by default."""

    percent_after_start: Decimal = Decimal(100)
