"""Limits on what a key, and a tenant (all its keys together), may do: requests and creates
per minute (rate windows), unfinished videos at once and spend per UTC day (counted by the
database, exactly). A value of None sets no limit of that kind.

Each key and each tenant has its own values (None: the settings' default applies); a key
is held to both its own and its tenant's."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

_V = TypeVar("_V")


class LimitKind(StrEnum):
    REQUESTS_PER_MINUTE = "requests_per_minute"
    CREATES_PER_MINUTE = "creates_per_minute"
    ACTIVE_VIDEOS = "active_videos"
    SPEND_PER_DAY = "spend_per_day"

    @property
    def words(self) -> str:
        """How a 429 names the limit."""
        return _WORDS[self]


_WORDS = {
    LimitKind.REQUESTS_PER_MINUTE: "requests per minute",
    LimitKind.CREATES_PER_MINUTE: "creates per minute",
    LimitKind.ACTIVE_VIDEOS: "unfinished videos at once",
    LimitKind.SPEND_PER_DAY: "spend per day",
}


@dataclass(frozen=True, slots=True)
class Limits:
    requests_per_minute: int | None = None
    creates_per_minute: int | None = None
    active_videos: int | None = None
    spend_per_day: Decimal | None = None  # in the price table's currency

    def over(self, defaults: Limits) -> Limits:
        """These values where set, the defaults' elsewhere."""
        return Limits(
            _or(self.requests_per_minute, defaults.requests_per_minute),
            _or(self.creates_per_minute, defaults.creates_per_minute),
            _or(self.active_videos, defaults.active_videos),
            _or(self.spend_per_day, defaults.spend_per_day),
        )

    def as_dict(self) -> dict[str, int | Decimal | None]:
        return {kind.value: getattr(self, kind.value) for kind in LimitKind}


NO_LIMITS = Limits()


def _or(mine: _V | None, default: _V | None) -> _V | None:
    return mine if mine is not None else default


def utc_day(now: float) -> str:
    """The UTC day a spend counts in (YYYY-MM-DD)."""
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")


def seconds_to_next_day(now: float) -> float:
    """Until the next UTC midnight, when a day's spend starts again from 0."""
    return math.floor(now / 86400 + 1) * 86400 - now
