"""Tenants (customer accounts) in and out. Their balances move only through the ledger
(store/ledger.py); here they are made, read and given an overdraft."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Row, Table, insert, select, update

from vidugate.domain.ledger import Tenant
from vidugate.domain.limits import Limits
from vidugate.domain.money import from_micros, to_micros
from vidugate.store.db import Database
from vidugate.store.limit_columns import limit_values, limits_of
from vidugate.store.tables import TenantRow

TN = cast(Table, TenantRow.__table__)


def tenant_of(row: Row[Any]) -> Tenant:
    return Tenant(
        id=row.id,
        name=row.name,
        balance=from_micros(row.balance_micros),
        overdraft=from_micros(row.overdraft_micros),
        created_at=row.created_at,
        weight=row.weight,
        limits=limits_of(row),
        active_videos=row.active_videos,
    )


class TenantRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(self, tenant: Tenant) -> None:
        """A new tenant with a balance of 0 (money comes in by a ledger row, a top-up)."""
        if tenant.balance != 0:
            raise ValueError("a tenant starts at 0; its money comes in through the ledger")
        await self.db.run(
            insert(TN).values(
                id=tenant.id,
                name=tenant.name,
                balance_micros=0,
                overdraft_micros=to_micros(tenant.overdraft),
                created_at=tenant.created_at,
            )
        )

    async def get(self, tenant_id: str) -> Tenant | None:
        async with self.db.read() as conn:
            row = (await conn.execute(select(TN).where(TN.c.id == tenant_id))).first()
        return None if row is None else tenant_of(row)

    async def all(self) -> list[Tenant]:
        async with self.db.read() as conn:
            rows = (await conn.execute(select(TN).order_by(TN.c.created_at, TN.c.id))).all()
        return [tenant_of(row) for row in rows]

    async def set_overdraft(self, tenant_id: str, overdraft: Decimal) -> Tenant | None:
        rows = await self.db.returning(
            update(TN)
            .where(TN.c.id == tenant_id)
            .values(overdraft_micros=to_micros(overdraft))
            .returning(*TN.c)
        )
        return tenant_of(rows[0]) if rows else None

    async def set_limits(self, tenant_id: str, limits: Limits) -> Tenant | None:
        return await self.change_limits(tenant_id, limit_values(limits))

    async def change_limits(self, tenant_id: str, values: dict[str, int | None]) -> Tenant | None:
        """Write these limit columns (store/limit_columns.py) alone; the tenant as it now is."""
        if not values:
            return await self.get(tenant_id)
        rows = await self.db.returning(
            update(TN).where(TN.c.id == tenant_id).values(**values).returning(*TN.c)
        )
        return tenant_of(rows[0]) if rows else None

    async def set_weight(self, tenant_id: str, weight: int) -> Tenant | None:
        """Its share of the slots (domain/scheduling.py); read at the next admission."""
        rows = await self.db.returning(
            update(TN).where(TN.c.id == tenant_id).values(weight=weight).returning(*TN.c)
        )
        return tenant_of(rows[0]) if rows else None
