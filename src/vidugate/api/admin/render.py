"""The admin API's objects, built from the domain's values (amounts as exact strings,
times as unix seconds)."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from vidugate.api.admin.schemas import (
    KeyCreated,
    KeyObject,
    LedgerEntryObject,
    LimitsObject,
    PriceDocument,
    PriceTableObject,
    PriceTableSet,
    TaskSummaryObject,
    TenantObject,
)
from vidugate.api.money import price_json
from vidugate.api.openai.schemas import Price
from vidugate.domain.keys import ApiKey
from vidugate.domain.ledger import LedgerEntry, Tenant
from vidugate.domain.limits import Limits
from vidugate.domain.money import amount_text
from vidugate.domain.usage import TaskSummary


def _seconds(instant: float | None) -> int | None:
    return None if instant is None else math.floor(instant)


def tenant_object(tenant: Tenant) -> TenantObject:
    return TenantObject(
        id=tenant.id,
        name=tenant.name,
        balance=amount_text(tenant.balance),
        overdraft=amount_text(tenant.overdraft),
        created_at=math.floor(tenant.created_at),
        weight=tenant.weight,
        limits=limits_object(tenant.limits),
        active_videos=tenant.active_videos,
    )


def limits_object(limits: Limits) -> LimitsObject:
    spend = limits.spend_per_day
    return LimitsObject(
        requests_per_minute=limits.requests_per_minute,
        creates_per_minute=limits.creates_per_minute,
        active_videos=limits.active_videos,
        spend_per_day=None if spend is None else amount_text(spend),
    )


def entry_object(entry: LedgerEntry) -> LedgerEntryObject:
    return LedgerEntryObject(
        id=entry.id,
        tenant_id=entry.tenant_id,
        key_id=entry.key_id,
        task_id=entry.task_id,
        kind=entry.kind.value,
        amount=amount_text(entry.amount),
        balance_after=amount_text(entry.balance_after),
        model=entry.model,
        reason=entry.reason,
        created_at=math.floor(entry.created_at),
    )


def key_object(key: ApiKey, spent: Decimal) -> KeyObject:
    return KeyObject(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        tenant_id=key.tenant_id,
        role=key.role.value,
        status_dialect=key.status_dialect.value,
        created_at=math.floor(key.created_at),
        revoked_at=_seconds(key.revoked_at),
        spend_cap=None if key.spend_cap is None else amount_text(key.spend_cap),
        spent=amount_text(spent),
        limits=limits_object(key.limits),
        active_videos=key.active_videos,
    )


def created_key(key: ApiKey, token: str) -> KeyCreated:
    return KeyCreated(**key_object(key, Decimal(0)).model_dump(), token=token)


def price_table(
    table_id: int, source: str, created_at: float, document: dict[str, Any]
) -> PriceTableObject:
    return PriceTableObject(
        id=table_id,
        source=source,
        created_at=math.floor(created_at),
        document=PriceDocument.model_validate(document),
    )


def price_table_set(table: PriceTableObject, changed: bool) -> PriceTableSet:
    return PriceTableSet(**table.model_dump(), changed=changed)


def task_object(task: TaskSummary) -> TaskSummaryObject:
    price = price_json(task.charge)
    return TaskSummaryObject(
        id=task.id,
        tenant_id=task.tenant_id,
        key_id=task.key_id,
        model=task.model,
        status=task.status.value,
        surface=task.surface,
        created_at=math.floor(task.created_at),
        completed_at=_seconds(task.completed_at),
        deleted=task.deleted_at is not None,
        error_code=task.error_code,
        price=None if price is None else Price.model_validate(price),
        upstream_credits=None
        if task.upstream_credits is None
        else amount_text(task.upstream_credits),
    )
