"""Upstream account health rows (shared by every gateway process)."""

from __future__ import annotations

from decimal import Decimal
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from vidugate.domain.accounts import AccountHealth, AccountState, StoredAccount
from vidugate.domain.money import from_micros, to_micros
from vidugate.store.db import Database, dialect_insert
from vidugate.store.tables import UpstreamAccountRow

A = cast(Table, UpstreamAccountRow.__table__)


class AccountRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def all(self, provider: str) -> list[AccountState]:
        return [stored.state for stored in await self.stored(provider)]

    async def stored(self, provider: str | None = None) -> list[StoredAccount]:
        """Every account's row (of one provider, or of all), with its credits as read."""
        stmt = select(A).order_by(A.c.id)
        if provider is not None:
            stmt = stmt.where(A.c.provider == provider)
        async with self.db.read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            StoredAccount(
                AccountState(
                    id=r.id,
                    provider=r.provider,
                    health=AccountHealth(r.state),
                    reason=r.reason,
                    until=r.until,
                    updated_at=r.updated_at,
                ),
                credits=None if r.credits_micros is None else from_micros(r.credits_micros),
                credits_read_at=r.credits_read_at,
            )
            for r in rows
        ]

    async def save(self, state: AccountState) -> None:
        values = {
            "provider": state.provider,
            "state": state.health.value,
            "reason": state.reason,
            "until": state.until,
            "updated_at": state.updated_at,
        }

        async def upsert(conn: AsyncConnection) -> None:
            # One statement: two processes saving the same account at once both succeed.
            stmt = dialect_insert(conn, A).values(id=state.id, **values)
            await conn.execute(stmt.on_conflict_do_update(index_elements=[A.c.id], set_=values))

        await self.db.write(upsert)

    async def save_credits(
        self, account_id: str, provider: str, credits: Decimal, now: float
    ) -> None:
        """Record an account's remaining upstream credits as read at `now`. Its health
        columns are left as they are; an account with no row yet gets one, healthy."""
        values = {"credits_micros": to_micros(credits), "credits_read_at": now}

        async def upsert(conn: AsyncConnection) -> None:
            stmt = dialect_insert(conn, A).values(
                id=account_id,
                provider=provider,
                state=AccountHealth.ACTIVE.value,
                reason="",
                until=None,
                updated_at=now,
                **values,
            )
            await conn.execute(stmt.on_conflict_do_update(index_elements=[A.c.id], set_=values))

        await self.db.write(upsert)
