"""An account's webhook endpoints in and out (domain/webhooks.py)."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select, update

from vidugate.domain.webhooks import Endpoint, EventType
from vidugate.store.db import Database
from vidugate.store.tables import WebhookEndpointRow

E = cast(Table, WebhookEndpointRow.__table__)
# The columns the outbox reads for each transition (the secret stays out of it).
ENDPOINT_COLUMNS = (
    E.c.id,
    E.c.tenant_id,
    E.c.url,
    E.c.events,
    E.c.description,
    E.c.disabled,
    E.c.created_at,
    E.c.updated_at,
)


def endpoint_of(row: Any) -> Endpoint:
    return Endpoint(
        id=row.id,
        tenant_id=row.tenant_id,
        url=row.url,
        events=frozenset(EventType(e) for e in row.events),
        description=row.description,
        disabled=bool(row.disabled),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class EndpointRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(self, endpoint: Endpoint, secret: str) -> None:
        await self.db.run(
            insert(E).values(
                id=endpoint.id,
                tenant_id=endpoint.tenant_id,
                url=endpoint.url,
                events=sorted(e.value for e in endpoint.events),
                secret=secret,
                description=endpoint.description,
                disabled=endpoint.disabled,
                created_at=endpoint.created_at,
                updated_at=endpoint.updated_at,
            )
        )

    async def count(self, tenant_id: str) -> int:
        async with self.db.read() as conn:
            stmt = select(func.count()).select_from(E).where(E.c.tenant_id == tenant_id)
            return int((await conn.execute(stmt)).scalar_one())

    async def get(self, endpoint_id: str, tenant_id: str | None = None) -> Endpoint | None:
        """The endpoint; with tenant_id, only if that account owns it."""
        stmt = select(*ENDPOINT_COLUMNS).where(E.c.id == endpoint_id)
        if tenant_id is not None:
            stmt = stmt.where(E.c.tenant_id == tenant_id)
        async with self.db.read() as conn:
            row = (await conn.execute(stmt)).first()
        return None if row is None else endpoint_of(row)

    async def secret(self, endpoint_id: str) -> str | None:
        async with self.db.read() as conn:
            stmt = select(E.c.secret).where(E.c.id == endpoint_id)
            return (await conn.execute(stmt)).scalar_one_or_none()

    async def of_tenant(self, tenant_id: str | None) -> list[Endpoint]:
        """An account's endpoints (every account's with None), oldest first."""
        stmt = select(*ENDPOINT_COLUMNS).order_by(E.c.created_at, E.c.id)
        if tenant_id is not None:
            stmt = stmt.where(E.c.tenant_id == tenant_id)
        async with self.db.read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [endpoint_of(row) for row in rows]

    async def update(self, endpoint_id: str, values: dict[str, Any]) -> Endpoint | None:
        if "events" in values:
            values = {**values, "events": sorted(e.value for e in values["events"])}
        rows = await self.db.returning(
            update(E).where(E.c.id == endpoint_id).values(**values).returning(*ENDPOINT_COLUMNS)
        )
        return endpoint_of(rows[0]) if rows else None

    async def delete(self, endpoint_id: str) -> bool:
        return await self.db.run(delete(E).where(E.c.id == endpoint_id)) > 0
