"""Table definitions. Column types behave the same on SQLite and PostgreSQL: times are
float unix seconds, structured values are JSON, money is integer micro-units (1e-6 of the
operator's currency; domain/money.py converts to and from exact decimals)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from vidugate.domain.ledger import DEFAULT_TENANT


class Base(DeclarativeBase):
    pass


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    # sha256 of the whole key: keys are 256-bit random, so a fast hash is enough (see README).
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[float] = mapped_column(Float)
    revoked_at: Mapped[float | None] = mapped_column(Float, default=None)
    # auto, seed or openai (domain.keys.StatusDialect): the status words its clients get.
    status_dialect: Mapped[str] = mapped_column(String(16), default="auto", server_default="auto")
    tenant_id: Mapped[str] = mapped_column(
        String(40), default=DEFAULT_TENANT, server_default=DEFAULT_TENANT
    )
    # client (makes videos) or admin (the admin API only): domain.keys.KeyRole.
    role: Mapped[str] = mapped_column(String(8), default="client", server_default="client")
    # What this key may spend, net of refunds (None: up to its tenant's balance), and what
    # it has: both moved in the transaction that moves the tenant's balance.
    spend_cap_micros: Mapped[int | None] = mapped_column(BigInteger, default=None)
    spent_micros: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Limits of its own (None: the settings' default; domain/limits.py), and its unfinished
    # videos, counted by a task effect (store/limits.py) in the task's own transaction.
    limit_requests_per_minute: Mapped[int | None] = mapped_column(Integer, default=None)
    limit_creates_per_minute: Mapped[int | None] = mapped_column(Integer, default=None)
    limit_active_videos: Mapped[int | None] = mapped_column(Integer, default=None)
    limit_spend_per_day_micros: Mapped[int | None] = mapped_column(BigInteger, default=None)
    active_videos: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class TenantRow(Base):
    """A customer account: owns keys, holds the balance their videos are charged to. The
    balance always equals the sum of the tenant's ledger rows."""

    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    balance_micros: Mapped[int] = mapped_column(BigInteger, default=0)
    # How far below zero a reserve may take the balance (0: prepaid only).
    overdraft_micros: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[float] = mapped_column(Float)
    # Its share of the slots when tenants wait for them (domain/scheduling.py): weight 2
    # gets twice the slots of weight 1.
    weight: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Limits of its own (None: the settings' default; domain/limits.py), and its unfinished
    # videos, counted by a task effect (store/limits.py) in the task's own transaction.
    limit_requests_per_minute: Mapped[int | None] = mapped_column(Integer, default=None)
    limit_creates_per_minute: Mapped[int | None] = mapped_column(Integer, default=None)
    limit_active_videos: Mapped[int | None] = mapped_column(Integer, default=None)
    limit_spend_per_day_micros: Mapped[int | None] = mapped_column(BigInteger, default=None)
    active_videos: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class LedgerRow(Base):
    """Append-only: every movement of a tenant's balance, written in the transaction of the
    change that causes it. A task has at most one row of each kind (the unique index), so
    it is reserved, settled and refunded at most once whatever retries or crashes happen."""

    __tablename__ = "ledger"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    tenant_id: Mapped[str] = mapped_column(String(40))
    key_id: Mapped[str | None] = mapped_column(String(40), default=None)
    task_id: Mapped[str | None] = mapped_column(String(40), default=None)
    # topup, adjust, reserve, settle, refund (domain.ledger.LedgerKind).
    kind: Mapped[str] = mapped_column(String(10))
    amount_micros: Mapped[int] = mapped_column(BigInteger)
    balance_after_micros: Mapped[int] = mapped_column(BigInteger)
    model: Mapped[str | None] = mapped_column(String(64), default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        UniqueConstraint("task_id", "kind", name="uq_ledger_task_kind"),
        Index("ix_ledger_tenant_id", "tenant_id", "id"),
        Index("ix_ledger_key_id", "key_id", "id"),  # a key's usage report
        Index("ix_ledger_created_at", "created_at"),
    )


class SpendDayRow(Base):
    """What a key or a tenant (scope `key:<id>` / `tenant:<id>`) spent on videos created on
    one UTC day, net of what their ends gave back: raised in a create's transaction by a
    conditional upsert against the day's limit, so concurrent creates cannot pass it."""

    __tablename__ = "spend_days"

    scope: Mapped[str] = mapped_column(String(48), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD, UTC
    micros: Mapped[int] = mapped_column(BigInteger, default=0)


class PriceTableRow(Base):
    """Every price table the operator has set; the newest is in force. A task keeps the
    price it was created with."""

    __tablename__ = "price_tables"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    document: Mapped[str] = mapped_column(Text)  # JSON, amounts as strings
    source: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[float] = mapped_column(Float)


class TaskRow(Base):
    __tablename__ = "tasks"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(40))
    surface: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    progress: Mapped[int] = mapped_column(Integer, default=0)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    images: Mapped[list[str]] = mapped_column(JSON, default=list)
    watermark_key: Mapped[str | None] = mapped_column(String(255), default=None)
    seed: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    deadline_at: Mapped[float] = mapped_column(Float)
    started_at: Mapped[float | None] = mapped_column(Float, default=None)
    completed_at: Mapped[float | None] = mapped_column(Float, default=None)
    expires_at: Mapped[float | None] = mapped_column(Float, default=None)
    upstream_id: Mapped[str | None] = mapped_column(String(128), default=None)
    # Set before a create is sent (the intent); with no upstream_id yet, the create's
    # outcome is unknown and must be looked up on this account before sending again.
    upstream_account: Mapped[str | None] = mapped_column(String(64), default=None)
    submitted_at: Mapped[float | None] = mapped_column(Float, default=None)
    error_code: Mapped[str | None] = mapped_column(String(64), default=None)
    error_message: Mapped[str | None] = mapped_column(Text, default=None)
    video_key: Mapped[str | None] = mapped_column(String(255), default=None)
    thumbnail_key: Mapped[str | None] = mapped_column(String(255), default=None)
    watermarked_key: Mapped[str | None] = mapped_column(String(255), default=None)
    spritesheet_key: Mapped[str | None] = mapped_column(String(255), default=None)
    has_audio: Mapped[bool] = mapped_column(default=False)
    # The stored video's frame as probed from the file (it may differ from the request's).
    result_width: Mapped[int | None] = mapped_column(Integer, default=None)
    result_height: Mapped[int | None] = mapped_column(Integer, default=None)
    # Work scheduling: when a worker should look next, and who holds it until when.
    next_poll_at: Mapped[float | None] = mapped_column(Float, default=None)
    lease_owner: Mapped[str | None] = mapped_column(String(128), default=None)
    lease_until: Mapped[float | None] = mapped_column(Float, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), default=None)
    request_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    deleted_at: Mapped[float | None] = mapped_column(Float, default=None)
    # Accounting (None: created with no price table in force, so nothing was charged).
    tenant_id: Mapped[str | None] = mapped_column(String(40), default=None)
    price_micros: Mapped[int | None] = mapped_column(BigInteger, default=None)
    currency: Mapped[str | None] = mapped_column(String(8), default=None)
    # reserved, then settled or refunded (domain.ledger.ChargeState), with the net charge.
    charge_state: Mapped[str | None] = mapped_column(String(10), default=None)
    charged_micros: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # What the upstream said the task cost it, in its own units (Vidu's credits).
    upstream_credits_micros: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # Fair scheduling (store/admission.py): the slot pool the task was admitted to (None:
    # waiting for one, or made under fifo), and its tier (0 normal, 1 off_peak: last).
    slot: Mapped[str | None] = mapped_column(String(160), default=None)
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (
        UniqueConstraint("key_id", "idempotency_key", name="uq_tasks_key_idempotency"),
        Index("ix_tasks_key_id_id", "key_id", "id"),
        Index("ix_tasks_due", "next_poll_at"),
        Index("ix_tasks_expires_at", "expires_at"),
        Index("ix_tasks_completed_at", "completed_at"),  # the purge of old finished rows
        Index("ix_tasks_upstream", "upstream_id"),
        Index("ix_tasks_tenant_id", "tenant_id", "id"),
        # The admission's reads: slots held per pool, and each tenant's oldest waiting task.
        Index("ix_tasks_admission", "status", "slot", "tenant_id", "priority", "created_at"),
    )


class TaskEventRow(Base):
    """A task's history: one row per transition (domain/task_events.py), written by a task
    effect in the transition's own transaction; deleted with the task's row (the purge)."""

    __tablename__ = "task_events"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    task_id: Mapped[str] = mapped_column(String(40))
    at: Mapped[float] = mapped_column(Float)
    event: Mapped[str] = mapped_column(String(40))
    status_before: Mapped[str | None] = mapped_column(String(16), default=None)
    status_after: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (Index("ix_task_events_task", "task_id", "id"),)


class UpstreamAccountRow(Base):
    """The health of an upstream account, shared by every process: disabled after a 401,
    throttled or out of credits until a time."""

    __tablename__ = "upstream_accounts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    until: Mapped[float | None] = mapped_column(Float, default=None)
    updated_at: Mapped[float] = mapped_column(Float)
    # The account's remaining upstream credits as last read (micro-credits), and when.
    credits_micros: Mapped[int | None] = mapped_column(BigInteger, default=None)
    credits_read_at: Mapped[float | None] = mapped_column(Float, default=None)


class CallbackNonceRow(Base):
    """Nonces of accepted upstream callbacks, until their Date can no longer pass the skew
    check: a replay is refused whichever process it reaches."""

    __tablename__ = "callback_nonces"

    nonce: Mapped[str] = mapped_column(String(200), primary_key=True)
    keep_until: Mapped[float] = mapped_column(Float, index=True)


class WebhookEndpointRow(Base):
    """A URL an account has registered for its videos' events (domain/webhooks.py)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(40))
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSON)
    # Its `whsec_` signing secret: kept as is (the HMAC needs it), never logged.
    secret: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_webhook_endpoints_tenant_id", "tenant_id", "id"),)


class WebhookMessageRow(Base):
    """The outbox: one event for one destination, written in the transaction of the task's
    change that causes it, so no change is announced that did not happen and none that
    happened goes unannounced. The deliverer sends it until a 2xx or the window's end."""

    __tablename__ = "webhook_messages"

    n: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[str] = mapped_column(String(40), unique=True)
    tenant_id: Mapped[str | None] = mapped_column(String(40), default=None)
    task_id: Mapped[str] = mapped_column(String(40))
    event: Mapped[str] = mapped_column(String(24))
    endpoint_id: Mapped[str | None] = mapped_column(String(40), default=None)
    # The endpoint's id, or `url:` + a hash of the request's URL: a task's messages to one
    # destination are sent one at a time, in order of n.
    destination: Mapped[str] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(Text, default=None)  # a request's own URL
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[float] = mapped_column(Float)
    next_attempt_at: Mapped[float | None] = mapped_column(Float, default=None)  # None: settled
    last_status: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    delivered_at: Mapped[float | None] = mapped_column(Float, default=None)
    lease_owner: Mapped[str | None] = mapped_column(String(64), default=None)
    lease_until: Mapped[float | None] = mapped_column(Float, default=None)

    __table_args__ = (
        Index("ix_webhook_messages_due", "next_attempt_at"),
        Index("ix_webhook_messages_order", "task_id", "destination", "n"),
        Index("ix_webhook_messages_endpoint", "endpoint_id", "n"),
        Index("ix_webhook_messages_created_at", "created_at"),
    )


class WebhookAttemptRow(Base):
    """The delivery log: one row per try, with the receiver's status or what went wrong."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    message_id: Mapped[str] = mapped_column(String(40))
    endpoint_id: Mapped[str | None] = mapped_column(String(40), default=None)
    tenant_id: Mapped[str | None] = mapped_column(String(40), default=None)
    task_id: Mapped[str] = mapped_column(String(40))
    event: Mapped[str] = mapped_column(String(24))
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[float] = mapped_column(Float)
    # The receiver's HTTP status (None: no answer; error says why).
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    duration_ms: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_webhook_attempts_endpoint", "endpoint_id", "id"),
        Index("ix_webhook_attempts_message", "message_id", "id"),
        Index("ix_webhook_attempts_at", "at"),
    )
