"""A key's or a tenant's limit columns to and from `Limits` (both tables have the same
ones: store/tables.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from vidugate.domain.limits import Limits
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
    """The columns' values to write."""
    spend = limits.spend_per_day
    return {
        "limit_requests_per_minute": limits.requests_per_minute,
        "limit_creates_per_minute": limits.creates_per_minute,
        "limit_active_videos": limits.active_videos,
        "limit_spend_per_day_micros": None if spend is None else to_micros(spend),
    }
