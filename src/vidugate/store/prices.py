"""Price tables: every one the operator set, kept; the newest is in force."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert, select

from vidugate.store.db import Database
from vidugate.store.tables import PriceTableRow

P = cast(Table, PriceTableRow.__table__)


@dataclass(frozen=True, slots=True)
class StoredPrices:
    id: int
    document: dict[str, Any]  # as domain.prices.PriceTable.to_document() made it
    source: str
    created_at: float


class PriceRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def latest_id(self) -> int | None:
        """The id of the table in force: one indexed read, for processes checking whether
        another one set new prices."""
        async with self.db.read() as conn:
            row = (await conn.execute(select(P.c.id).order_by(P.c.id.desc()).limit(1))).first()
        return None if row is None else int(row[0])

    async def latest(self) -> StoredPrices | None:
        async with self.db.read() as conn:
            row = (await conn.execute(select(P).order_by(P.c.id.desc()).limit(1))).first()
        if row is None:
            return None
        return StoredPrices(row.id, json.loads(row.document), row.source, row.created_at)

    async def save(self, document: dict[str, Any], source: str, now: float) -> None:
        text = json.dumps(document, sort_keys=True, separators=(",", ":"))
        await self.db.run(insert(P).values(document=text, source=source[:200], created_at=now))
