"""The money migration on a database made by the version before it: keys and tasks are
kept, every key belongs to the default tenant (balance 0), and the old tasks carry no price
(nothing was charged for them). On both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from dblib import fresh_database_url, query
from vidugate.domain.ledger import DEFAULT_TENANT
from vidugate.store.db import alembic_config, ensure_database, migrate

pytestmark = pytest.mark.asyncio

BEFORE = "ff304044c983"  # the revision before tenants


async def test_keys_and_tasks_move_to_the_default_tenant(tmp_path: Path) -> None:
    url = fresh_database_url(tmp_path)
    await ensure_database(url)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:

            def to_before(sync_conn: object) -> None:
                config = alembic_config(url)
                config.attributes["connection"] = sync_conn
                command.upgrade(config, BEFORE)

            await conn.run_sync(to_before)
            await conn.execute(
                text(
                    "INSERT INTO api_keys (id, name, prefix, key_hash, created_at) "
                    "VALUES ('key_old', 'old', 'vg-abcdefg', 'h', 1.0)"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO tasks (id, key_id, surface, provider, model, status, progress, "
                    "params, images, seed, created_at, updated_at, deadline_at, attempts, "
                    "has_audio) VALUES ('video_old', 'key_old', 'openai', 'sandbox', "
                    "'viduq2-turbo', 'completed', 100, '{}', '[]', 1, 1.0, 1.0, 2.0, 0, false)"
                )
            )
        await migrate(engine)
    finally:
        await engine.dispose()
    assert await query(
        url, "SELECT tenant_id, role, spend_cap_micros, spent_micros FROM api_keys"
    ) == [(DEFAULT_TENANT, "client", None, 0)]
    assert await query(url, "SELECT id, balance_micros, overdraft_micros FROM tenants") == [
        (DEFAULT_TENANT, 0, 0)
    ]
    assert await query(
        url, "SELECT tenant_id, price_micros, charge_state FROM tasks WHERE id = 'video_old'"
    ) == [(None, None, None)]
    assert await query(url, "SELECT count(*) FROM ledger") == [(0,)]
