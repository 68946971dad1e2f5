"""A key's or a tenant's limit columns to and from `Limits` (both tables have the same
ones: store/tables.py)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Row

from vidugate.domain.limits import LimitKind, Limits
from vidugate.domain.money import from_micros, to_micros


def limits_of(row: Row[Any], prefix: str = "") -> Limits:
    """The limits of a row; `prefix` names the columns of a joined table (`tenant_`)."""
    spend = getattr(row, f"{prefix}limit_spend_per_day_micros")
    return Limits(
        requests_per_minute=getattr(row, f"{prefix}limit_requests_per_minute"),
        creates_per_minute=getattr(row, f"{prefix}limit_creates_per_minute"),
        active_videos=getattr(row, f"{prefix}limit_active_videos"),
        spend_per_day=None if spend is None else from_micros(spend),
    )


def limit_values(limits: Limits) -> dict[str, int | None]:
    """Every limit column's value to write."""
    return change_values({kind: getattr(limits, kind.value) for kind in LimitKind})


def change_values(changes: Mapping[LimitKind, int | Decimal | None]) -> dict[str, int | None]:
    """The values of the changed limits' columns alone (an UPDATE of only these leaves a
    change made meanwhile to another limit as it is)."""
    values: dict[str, int | None] = {}
    for kind, value in changes.items():
        if kind is LimitKind.SPEND_PER_DAY:
            values["limit_spend_per_day_micros"] = (
                None if value is None else to_micros(Decimal(value))
            )
        else:
            values[f"limit_{kind.value}"] = None if value is None else int(value)
    return values
