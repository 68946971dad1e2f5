"""The settings of prices, limits and the Redis that shares rate windows."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

RedisDown = Literal["open", "closed"]


class MoneyFields(BaseModel):
    prices_file: Path | None = Field(
        default=None,
        description="A price table (TOML or JSON, see prices.example.toml) stored in the "
        "database at start, replacing the one in force if it differs. With no price table "
        "(none here, none set through the admin API) nothing is charged.",
    )
    cancel_charge_percent: Decimal = Field(
        default=Decimal(100),
        ge=0,
        le=100,
        description="What a cancel costs, in percent of the price, once the upstream has begun "
        "making the video (before that it is refunded in full). Vidu cannot stop a task it "
        "is processing and charges for it.",
    )
    limit_requests_per_minute: int | None = Field(
        default=None,
        ge=1,
        description="Default limit of a key's (and a tenant's) authenticated calls per minute; "
        "unset: none. Each key and tenant may set its own (`vidugate keys limits`).",
    )
    limit_creates_per_minute: int | None = Field(
        default=None, ge=1, description="Default limit of creates per minute (every surface)."
    )
    limit_active_videos: int | None = Field(
        default=None,
        ge=0,
        description="Default limit of unfinished (queued + processing) videos at once.",
    )
    limit_spend_per_day: Decimal | None = Field(
        default=None,
        ge=0,
        description="Default limit of spend per UTC day, in the price table's currency "
        "(only with prices).",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for rate windows shared by every process (redis://host:6379/0); "
        "unset: each process counts its own.",
    )
    limits_redis_down: RedisDown = Field(
        default="open",
        description="When Redis cannot be reached: open (requests pass; logged "
        "limits.redis_down once a minute) or closed (503 with Retry-After).",
    )
    limits_redis_timeout_seconds: float = Field(
        default=0.25, gt=0, description="Time limit of one rate check against Redis."
    )
    limits_redis_batch_seconds: float = Field(
        default=0.1,
        ge=0,
        description="How often a process sends Redis the calls its requests windows let "
        "through (0: every call checked in Redis; creates always are). Across P processes a "
        "window may pass (P - 1) x one interval's calls beyond its limit.",
    )
    limits_redis_prefix: str = Field(
        default="vidugate:rl:", description="Prefix of the Redis keys of the rate windows."
    )
    upstream_credit_value: Decimal | None = Field(
        default=None,
        ge=0,
        description="What one upstream credit (Vidu's) costs you, in the price table's "
        "currency: the margin report's cost side. Unset: the report shows credits only.",
    )
