"""Used callback nonces, shared by every gateway process."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, delete
from sqlalchemy.ext.asyncio import AsyncConnection

from vidugate.store.db import Database, dialect_insert
from vidugate.store.tables import CallbackNonceRow

N = cast(Table, CallbackNonceRow.__table__)


class NonceRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def use(self, nonce: str, keep_until: float) -> bool:
        """Record a nonce; False when it was already recorded (a replay)."""

        async def insert_new(conn: AsyncConnection) -> bool:
            stmt = dialect_insert(conn, N).values(nonce=nonce, keep_until=keep_until)
            result = await conn.execute(stmt.on_conflict_do_nothing(index_elements=[N.c.nonce]))
            return bool(result.rowcount)

        return await self.db.write(insert_new)

    async def purge(self, now: float) -> int:
        return await self.db.run(delete(N).where(N.c.keep_until < now))
