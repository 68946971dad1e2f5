"""Wire schemas of the admin API (and of the client's usage report, which has the same
lines). Amounts are exact decimal strings both ways: a request's amounts are read by
domain.money.parse_amount in the routes, so a JSON number with a fraction (a binary float)
or a 7th decimal place is a 400 naming the field, never a rounded amount."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from vidugate.api.openai.schemas import Price, PriceAdjustment
from vidugate.domain.keys import StatusDialect

_AMOUNT_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "pattern": r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"},
        {"type": "integer"},
    ],
    "examples": ["10.50"],
}


def _plain_text(value: str) -> str:
    # The databases cannot hold a NUL or a lone surrogate (PostgreSQL's text refuses the one,
    # UTF-8 the other), and a name with control characters would garble every listing.
    if any(ord(c) < 32 and c not in "\t\n" for c in value) or "\x7f" in value:
        raise ValueError("must not contain control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


# Ids as the gateway makes them (tenant_..., key_..., video_...): anything else is refused
# before it reaches the database (which may not even hold it, e.g. a NUL).
ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
# Any JSON value, checked by parse_amount in the route (which names the field).
AmountIn = Annotated[Any, WithJsonSchema(_AMOUNT_SCHEMA)]
NullableAmountIn = Annotated[
    Any, WithJsonSchema({"anyOf": [*_AMOUNT_SCHEMA["anyOf"], {"type": "null"}]})
]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_plain_text)]
Reason = Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(_plain_text)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TenantCreate(_Body):
    name: Name = Field(description="The account's name, 1 to 200 characters.")
    overdraft: AmountIn = Field(
        default=None, description="How far below 0 a reserve may take the balance (default 0)."
    )
    balance: AmountIn = Field(
        default=None,
        description='A first top-up, in the ledger with the reason "initial balance".',
    )


class TenantUpdate(_Body):
    overdraft: AmountIn | None = Field(
        default=None, description="How far below 0 a reserve may take the balance."
    )
    weight: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="Its share of render and upstream slots when tenants wait for them "
        "(fair scheduling): weight 2 gets twice the slots of weight 1.",
    )


class Topup(_Body):
    amount: AmountIn = Field(description="Money in: above 0, at most 6 decimal places.")
    reason: Reason = Field(description="Kept in the ledger row (1 to 1000 characters).")


class Adjustment(_Body):
    amount: AmountIn = Field(
        description="A correction either way: signed, not 0, at most 6 decimal places."
    )
    reason: Reason = Field(description="Kept in the ledger row (1 to 1000 characters).")


class KeyCreate(_Body):
    tenant_id: str = Field(pattern=ID_PATTERN, description="The tenant the key spends for.")
    name: Name = Field(description="What the key is for, 1 to 200 characters.")
    spend_cap: AmountIn = Field(
        default=None,
        description="What the key may spend, net of refunds; absent or null: up to the "
        "tenant's balance.",
    )
    status_dialect: StatusDialect = Field(
        default=StatusDialect.AUTO,
        description="The status words of its OpenAI-surface answers: auto, seed or openai.",
    )


class KeyUpdate(_Body):
    spend_cap: NullableAmountIn = Field(description="The new cap; null removes it.")


class LimitsObject(BaseModel):
    """Its own limits (null: the settings' default applies; docs/limits.md)."""

    requests_per_minute: int | None = None
    creates_per_minute: int | None = None
    active_videos: int | None = Field(default=None, description="Unfinished videos at once.")
    spend_per_day: str | None = Field(default=None, description="Per UTC day, exact decimal.")


class TenantObject(BaseModel):
    object: Literal["tenant"] = "tenant"
    id: str
    name: str
    balance: str = Field(description="The balance: always the sum of its ledger rows.")
    overdraft: str
    created_at: int
    weight: int = Field(default=1, description="Its share of the slots under fair scheduling.")
    limits: LimitsObject = Field(default_factory=LimitsObject)
    active_videos: int = Field(default=0, description="Its keys' unfinished videos now.")


class TenantList(BaseModel):
    object: Literal["list"] = "list"
    data: list[TenantObject]


class LedgerEntryObject(BaseModel):
    object: Literal["ledger_entry"] = "ledger_entry"
    id: int = Field(description="Row ids grow in the order rows are written (the cursor).")
    tenant_id: str
    key_id: str | None
    task_id: str | None
    kind: Literal["topup", "adjust", "reserve", "settle", "refund"]
    amount: str = Field(description="Signed: what the row added to the balance.")
    balance_after: str
    model: str | None
    reason: str
    created_at: int


class LedgerList(BaseModel):
    object: Literal["list"] = "list"
    data: list[LedgerEntryObject]
    has_more: bool
    last_id: int | None = Field(description="Give it as `after` for the next page.")


class KeyObject(BaseModel):
    object: Literal["api_key"] = "api_key"
    id: str
    name: str
    prefix: str = Field(description="The token's first characters, to recognise it by.")
    tenant_id: str
    role: Literal["client", "admin"]
    status_dialect: Literal["auto", "seed", "openai"]
    created_at: int
    revoked_at: int | None
    spend_cap: str | None = Field(description="null: no cap of its own.")
    spent: str = Field(description="What it has spent, net of refunds.")
    limits: LimitsObject = Field(default_factory=LimitsObject)
    active_videos: int = Field(default=0, description="Its unfinished videos now.")


class KeyCreated(KeyObject):
    token: str = Field(description="The key itself: shown this once, only its hash is kept.")


class KeyList(BaseModel):
    object: Literal["list"] = "list"
    data: list[KeyObject]


class ModelPriceDocument(BaseModel):
    base: str = Field(description="A flat amount per video.")
    per_second: dict[str, str] = Field(description="The price per second, by resolution.")
    adjustments: list[PriceAdjustment]


class PriceDocument(BaseModel):
    """The price table in force, as stored (amounts as strings)."""

    currency: str
    decimals: int = Field(description="The places prices are rounded to.")
    adjustments: list[PriceAdjustment] = Field(description="For every model.")
    models: dict[str, ModelPriceDocument] = Field(description="Per model id.")


# The document PUT takes (prices.example.toml as JSON): amounts as strings or JSON numbers,
# which are read as exact decimals. It documents the body; domain.prices.parse_prices
# checks it (and names the path of anything wrong).
AmountDoc = Annotated[Any, WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}]})]


class AdjustmentIn(_Body):
    when: str = Field(
        description="audio, is_rec, off_peak, bgm, text2video, img2video, start-end2video "
        "or reference2video."
    )
    add: AmountDoc = Field(default=None, description="A flat amount per video.")
    per_second: AmountDoc = Field(default=None, description="An amount per second.")
    percent: AmountDoc = Field(default=None, description="A percent of the subtotal, >= -100.")


class ModelPriceIn(_Body):
    base: AmountDoc = Field(default=None, description="A flat amount per video (default 0).")
    per_second: dict[str, AmountDoc] = Field(
        description="A price per second for every resolution the model offers, no others."
    )
    adjustments: list[AdjustmentIn] = Field(default_factory=list)


class PriceDocumentIn(_Body):
    currency: str = Field(description='3 to 8 uppercase letters or digits, e.g. "EUR".')
    decimals: int = Field(default=2, description="The places prices are rounded to, 0-6.")
    adjustments: list[AdjustmentIn] = Field(
        default_factory=list, description="For every model (a model's own apply as well)."
    )
    models: dict[str, ModelPriceIn] = Field(description="Per model id (GET /v1/models).")


class PriceTableObject(BaseModel):
    object: Literal["price_table"] = "price_table"
    id: int
    source: str = Field(description='Where it came from: "admin api", "cli FILE", "file PATH".')
    created_at: int
    document: PriceDocument


class PriceTableSet(PriceTableObject):
    changed: bool = Field(description="false: this table was already in force; nothing stored.")


class TaskSummaryObject(BaseModel):
    object: Literal["task"] = "task"
    id: str
    tenant_id: str | None
    key_id: str
    model: str
    status: Literal["queued", "processing", "completed", "failed", "cancelled"]
    surface: str = Field(description="The API it was created through: openai, vidu, unified.")
    created_at: int
    completed_at: int | None
    deleted: bool = Field(description="Deleted by its client (its money rows stay).")
    error_code: str | None
    price: Price | None
    upstream_credits: str | None = Field(
        description="What the upstream said it cost, in its own units (Vidu's credits)."
    )


class TaskList(BaseModel):
    object: Literal["list"] = "list"
    data: list[TaskSummaryObject]
    has_more: bool
    last_id: str | None = Field(description="Give it as `after` for the next (older) page.")


class UsageLineObject(BaseModel):
    group: str | None = Field(
        description="The tenant id, key id, model or UTC date (YYYY-MM-DD); null in totals."
    )
    name: str | None = Field(description="The tenant's or the key's name.")
    tenant_id: str | None
    videos: int = Field(description="Videos charged: their reserve rows.")
    settled_count: int
    refunded_count: int
    reserved_amount: str = Field(description="What their reserves held.")
    charged_amount: str = Field(
        description="Net: what the group's rows took from balances (held ones included)."
    )
    refunded_amount: str = Field(description="What refunds gave back.")


class UsageReportObject(BaseModel):
    object: Literal["usage"] = "usage"
    group_by: Literal["tenant", "key", "model", "day"]
    since: str | None = Field(description="The period's start (UTC), inclusive.")
    until: str | None = Field(description="The period's end (UTC), exclusive.")
    currency: str | None = Field(description="The price table's in force (null: none).")
    data: list[UsageLineObject]
    totals: UsageLineObject = Field(description="Over the whole period, cut or not.")
    truncated: bool = Field(description="true: more groups than the report answers.")


class MarginLineObject(BaseModel):
    group: str | None
    name: str | None
    videos: int
    charged_amount: str = Field(description="What clients were charged, net (the ledger).")
    upstream_credits: str = Field(
        description="What the upstream charged for the tasks created in the period, in "
        "its credits (known while task rows are kept)."
    )
    videos_with_credits: int = Field(description="Tasks whose upstream cost is known.")
    upstream_cost: str | None = Field(
        description="upstream_credits x VIDUGATE_UPSTREAM_CREDIT_VALUE; null when unset."
    )
    margin: str | None = Field(description="charged_amount - upstream_cost.")


class MarginReportObject(BaseModel):
    object: Literal["margin"] = "margin"
    group_by: Literal["model", "day", "tenant"]
    since: str | None
    until: str | None
    currency: str | None
    credit_value: str | None = Field(description="What one upstream credit costs you.")
    data: list[MarginLineObject]
    totals: MarginLineObject
    truncated: bool
