"""Gateway API keys, stored as hashes only."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Row, Table, insert, or_, select, update

from vidugate.domain.keys import ApiKey, KeyRole, StatusDialect
from vidugate.domain.limits import NO_LIMITS, Limits
from vidugate.domain.money import from_micros, to_micros
from vidugate.store.db import Database
from vidugate.store.limit_columns import limit_values, limits_of
from vidugate.store.tables import ApiKeyRow, TenantRow

K = cast(Table, ApiKeyRow.__table__)
TN = cast(Table, TenantRow.__table__)
# A request's key comes with its tenant's limits: one query for both, kept in the key cache.
_TENANT_LIMITS = [
    TN.c[name].label(f"tenant_{name}")
    for name in (
        "limit_requests_per_minute",
        "limit_creates_per_minute",
        "limit_active_videos",
        "limit_spend_per_day_micros",
    )
]


class KeyRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(self, key: ApiKey, key_hash: str) -> None:
        await self.db.run(
            insert(K).values(
                id=key.id,
                name=key.name,
                prefix=key.prefix,
                key_hash=key_hash,
                created_at=key.created_at,
                revoked_at=None,
                status_dialect=key.status_dialect.value,
                tenant_id=key.tenant_id,
                role=key.role.value,
                spend_cap_micros=None if key.spend_cap is None else to_micros(key.spend_cap),
                spent_micros=0,
            )
        )

    async def by_hash(self, key_hash: str) -> ApiKey | None:
        stmt = (
            select(K, *_TENANT_LIMITS)
            .outerjoin(TN, TN.c.id == K.c.tenant_id)
            .where(K.c.key_hash == key_hash, K.c.revoked_at.is_(None))
        )
        async with self.db.read() as conn:
            row = (await conn.execute(stmt)).first()
        return None if row is None else _key(row, limits_of(row, "tenant_"))

    async def all(self, tenant_id: str | None = None) -> list[ApiKey]:
        stmt = select(K).order_by(K.c.created_at)
        if tenant_id is not None:
            stmt = stmt.where(K.c.tenant_id == tenant_id)
        async with self.db.read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_key(r) for r in rows]

    async def get(self, key_id: str) -> ApiKey | None:
        async with self.db.read() as conn:
            row = (await conn.execute(select(K).where(K.c.id == key_id))).first()
        return None if row is None else _key(row)

    async def spent(self, key_id: str) -> Decimal:
        """What the key has spent, net of refunds."""
        async with self.db.read() as conn:
            row = (await conn.execute(select(K.c.spent_micros).where(K.c.id == key_id))).first()
        return from_micros(row[0] if row else 0)

    async def set_cap(self, key_id: str, cap: Decimal | None) -> ApiKey | None:
        stmt = (
            update(K)
            .where(K.c.id == key_id)
            .values(spend_cap_micros=None if cap is None else to_micros(cap))
            .returning(*K.c)
        )
        rows = await self.db.returning(stmt)
        return _key(rows[0]) if rows else None

    async def set_limits(self, key_id: str, limits: Limits) -> ApiKey | None:
        return await self.change_limits(key_id, limit_values(limits))

    async def change_limits(self, key_id: str, values: dict[str, int | None]) -> ApiKey | None:
        """Write these limit columns (store/limit_columns.py) alone; the key as it now is."""
        if not values:
            return await self.get(key_id)
        stmt = update(K).where(K.c.id == key_id).values(**values).returning(*K.c)
        rows = await self.db.returning(stmt)
        return _key(rows[0]) if rows else None

    async def revoke(self, id_or_prefix: str, now: float) -> list[ApiKey]:
        stmt = (
            update(K)
            .where(
                or_(K.c.id == id_or_prefix, K.c.prefix == id_or_prefix),
                K.c.revoked_at.is_(None),
            )
            .values(revoked_at=now)
            .returning(*K.c)
        )
        rows = await self.db.returning(stmt)
        return [_key(r) for r in rows]

    async def count_active(self) -> int:
        async with self.db.read() as conn:
            rows = (await conn.execute(select(K.c.id).where(K.c.revoked_at.is_(None)))).all()
        return len(rows)


def _key(row: Row[Any], tenant_limits: Limits = NO_LIMITS) -> ApiKey:
    return ApiKey(
        row.id,
        row.name,
        row.prefix,
        row.created_at,
        row.revoked_at,
        StatusDialect(row.status_dialect),
        row.tenant_id,
        KeyRole(row.role),
        None if row.spend_cap_micros is None else from_micros(row.spend_cap_micros),
        limits_of(row),
        tenant_limits,
        row.active_videos,
    )
