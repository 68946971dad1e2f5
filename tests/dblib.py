"""Which database the tests run on, and a fresh one per gateway.

VIDUGATE_TEST_BACKEND=postgres runs the suite on the PostgreSQL server of
VIDUGATE_TEST_POSTGRES (default: this machine's, trust auth): each gateway or store test gets
a database of its own, named after this run, dropped when the run ends. Otherwise each gets
a SQLite file in its data directory."""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

BACKEND = os.environ.get("VIDUGATE_TEST_BACKEND", "sqlite")
SERVER = os.environ.get("VIDUGATE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
RUN = f"vgt_{os.getpid()}_{secrets.token_hex(3)}"
_COUNTER = itertools.count(1)
_CREATED: list[str] = []

T = TypeVar("T")


def on_postgres() -> bool:
    return BACKEND == "postgres"


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to the end from sync code, even inside a running event loop."""
    result: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:  # handed to the caller
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


def postgres_url(name: str, driver: str = "postgresql+asyncpg") -> str:
    return f"{driver}://{SERVER.split('://', 1)[1]}/{name}"


def fresh_database_url(data_dir: Path, backend: str | None = None) -> str:
    """A new, empty database for one gateway (or one store test), on the run's backend
    unless one is named."""
    if (backend or BACKEND) != "postgres":
        return f"sqlite+aiosqlite:///{data_dir / 'vidugate.db'}"
    name = f"{RUN}_{next(_COUNTER)}"

    async def create() -> None:
        conn = await asyncpg.connect(f"{SERVER}/postgres")
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    run_sync(create())
    _CREATED.append(name)
    return postgres_url(name)


def drop_created() -> None:
    if not _CREATED:
        return

    async def drop() -> None:
        conn = await asyncpg.connect(f"{SERVER}/postgres")
        try:
            for name in _CREATED:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    run_sync(drop())
    _CREATED.clear()


async def query(url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Rows of one SQL statement ($1-style parameters on both backends), read past the
    gateway: what is really stored."""
    if url.startswith("sqlite"):
        import aiosqlite

        async with aiosqlite.connect(url.split("///", 1)[1]) as db:
            cursor = await db.execute(_qmark(sql), args)
            return [tuple(row) for row in await cursor.fetchall()]
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return [tuple(row) for row in await conn.fetch(sql, *args)]
    finally:
        await conn.close()


def _qmark(sql: str) -> str:
    for index in range(9, 0, -1):
        sql = sql.replace(f"${index}", "?")
    return sql


async def write_row(url: str, table: str, row_id: str, values: dict[str, Any]) -> int:
    """Overwrite columns of one row past the gateway, committed (a test making a row look as
    an older version or an older day left it); the number of rows changed."""
    names = list(values)
    sets = ", ".join(f"{name} = ${index}" for index, name in enumerate(names, 1))
    sql = f"UPDATE {table} SET {sets} WHERE id = ${len(names) + 1}"
    args = [*values.values(), row_id]
    if url.startswith("sqlite"):
        import aiosqlite

        async with aiosqlite.connect(url.split("///", 1)[1]) as db:
            cursor = await db.execute(_qmark(sql), args)
            await db.commit()
            return cursor.rowcount
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        status = await conn.execute(sql, *args)
        return int(status.split()[-1])
    finally:
        await conn.close()
