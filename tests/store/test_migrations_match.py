"""The migrations build the schema the code declares (store/tables.py): alembic compares a
migrated database with the tables' metadata, and finds nothing to add, drop or change.
A migration written by hand that forgot an index or typed a column otherwise fails here.
On both backends (VIDUGATE_TEST_BACKEND)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from dblib import fresh_database_url
from vidugate.store.db import open_database
from vidugate.store.tables import Base

pytestmark = pytest.mark.asyncio


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": False}
    )
    return [
        diff
        for diff in compare_metadata(context, Base.metadata)
        # alembic's own version table is no table of ours.
        if not (diff[0] == "remove_table" and diff[1].name == "alembic_version")
    ]


async def test_the_migrated_schema_is_the_declared_one(tmp_path: Path) -> None:
    async with (
        open_database(fresh_database_url(tmp_path)) as database,
        database.engine.connect() as conn,
    ):
        differences = await conn.run_sync(_differences)
    assert differences == []
