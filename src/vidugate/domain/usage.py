"""Usage and margin reports, and the operator's view of tasks across tenants, as the code
passes them around (store/usage.py computes them in SQL; the API renders them).

Usage is read from the ledger, which is kept when old task rows are purged: per group, the
videos reserved, how many were settled or refunded, and the money those rows moved. The
margin sets what clients were charged (the ledger) against what the upstream charged for
the same videos (each task's upstream credits, known while its row is kept)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from vidugate.domain.ledger import Charge
from vidugate.domain.tasks import TaskStatus

DAY_SECONDS = 86_400
# The most groups a report answers; past it the report says it was cut.
MAX_GROUPS = 10_000


class UsageGroup(StrEnum):
    TENANT = "tenant"
    KEY = "key"
    MODEL = "model"
    DAY = "day"  # the UTC date of each ledger row (of each task, for upstream credits)


def day_name(day_number: int) -> str:
    """The ISO date of a UTC day counted from 1970-01-01 (day 0)."""
    return (dt.date(1970, 1, 1) + dt.timedelta(days=day_number)).isoformat()


@dataclass(frozen=True, slots=True)
class Period:
    """[since, until) in unix seconds; None: unbounded on that side."""

    since: float | None = None
    until: float | None = None


@dataclass(frozen=True, slots=True)
class UsageLine:
    group: str | None  # tenant id, key id, model or ISO date; None in the totals line
    name: str | None  # the tenant's or the key's name
    tenant_id: str | None  # the group's tenant (tenant and key groups)
    videos: int  # reserve rows: videos created and charged
    settled: int
    refunded: int
    reserved: Decimal  # what the reserves held
    charged: Decimal  # net: what the group's rows took from balances
    refunded_amount: Decimal  # what the refund rows gave back


@dataclass(frozen=True, slots=True)
class UsageReport:
    group_by: UsageGroup
    lines: tuple[UsageLine, ...]
    totals: UsageLine  # over the whole period and filter, whether or not lines were cut
    truncated: bool  # more than MAX_GROUPS groups: the first ones only


@dataclass(frozen=True, slots=True)
class MarginLine:
    group: str | None
    name: str | None
    videos: int
    charged: Decimal
    upstream_credits: Decimal  # summed over the tasks whose cost the upstream reported
    videos_with_credits: int
    upstream_cost: Decimal | None  # credits x the operator's credit value (None: not set)
    margin: Decimal | None  # charged - upstream_cost


@dataclass(frozen=True, slots=True)
class MarginReport:
    group_by: UsageGroup
    credit_value: Decimal | None
    lines: tuple[MarginLine, ...]
    totals: MarginLine
    truncated: bool


def margin_line(
    group: str | None,
    name: str | None,
    videos: int,
    charged: Decimal,
    credits: Decimal,
    with_credits: int,
    credit_value: Decimal | None,
) -> MarginLine:
    cost = None if credit_value is None else credits * credit_value
    return MarginLine(
        group,
        name,
        videos,
        charged,
        credits,
        with_credits,
        cost,
        None if cost is None else charged - cost,
    )


@dataclass(frozen=True, slots=True)
class TaskQuery:
    """The operator's filters on every tenant's tasks, newest first; None: any."""

    tenant_id: str | None = None
    key_id: str | None = None
    model: str | None = None
    status: TaskStatus | None = None
    period: Period = Period()
    before_id: str | None = None  # the cursor: tasks older than this id
    limit: int = 100


@dataclass(frozen=True, slots=True)
class TaskSummary:
    id: str
    tenant_id: str | None
    key_id: str
    model: str
    status: TaskStatus
    surface: str
    created_at: float
    completed_at: float | None
    deleted_at: float | None
    error_code: str | None
    charge: Charge | None
    upstream_credits: Decimal | None
