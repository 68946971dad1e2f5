"""Alembic environment: runs on the connection handed over by vidugate.store.db.migrate,
or on its own engine when called from the alembic command line."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from vidugate.store.db import create_engine
from vidugate.store.tables import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_standalone() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    async with engine.begin() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_standalone())
