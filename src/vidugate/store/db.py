"""Engine creation and migrations."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Executable, Row, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MAX_BATCH = 500

T = TypeVar("T")
WriteFn = Callable[[AsyncConnection], Awaitable[T]]


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(url: str) -> AsyncEngine:
    if is_sqlite(url):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, pool_size=8)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers go on while a worker writes; NORMAL sync is safe with WAL.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision (what `vidugate migrate` and start-up run)."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, str(engine.url.render_as_string(hide_password=False)))


def _upgrade(connection: Connection, url: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


class Database:
    """The engine, plus group commit on SQLite.

    SQLite takes one writer at a time, and a transaction per small write costs several
    thread hops and a commit. So on SQLite every write is a function queued here; one writer
    runs whatever has queued up in a single transaction and answers each caller. If one of
    them fails, the transaction is rolled back and each is run again on its own, so only the
    failing write fails. PostgreSQL takes concurrent writers: there each write is its own
    transaction, at once."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.group_commit = is_sqlite(url)
        self._queue: list[tuple[WriteFn[Any], asyncio.Future[Any]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(self, fn: WriteFn[T]) -> T:
        """Run fn(conn) in a write transaction (shared with other writes on SQLite)."""
        if not self.group_commit:
            async with self.engine.begin() as conn:
                return await fn(conn)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((fn, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="vidugate db writer")
        return await future

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                results = []
                async with self.engine.begin() as conn:
                    for fn, _future in batch:
                        results.append(await fn(conn))
            except Exception:
                await self._one_by_one(batch)
                continue
            for (_fn, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def _one_by_one(self, batch: list[tuple[WriteFn[Any], asyncio.Future[Any]]]) -> None:
        for fn, future in batch:
            try:
                async with self.engine.begin() as conn:
                    result = await fn(conn)
            except Exception as exc:
                if not future.done():
                    future.set_exception(exc)
            else:
                if not future.done():
                    future.set_result(result)

    async def run(self, stmt: Executable, params: Sequence[dict[str, Any]] | None = None) -> int:
        """One write statement (or one executemany); its row count."""

        async def execute(conn: AsyncConnection) -> int:
            result = await (conn.execute(stmt, list(params)) if params else conn.execute(stmt))
            return int(result.rowcount or 0)

        return await self.write(execute)

    async def returning(self, stmt: Executable) -> list[Row[Any]]:
        """One write statement with RETURNING; the rows it returned."""

        async def execute(conn: AsyncConnection) -> list[Row[Any]]:
            return list((await conn.execute(stmt)).all())

        return await self.write(execute)

    def read(self) -> AsyncConnection:
        return self.engine.connect()

    async def ping(self) -> None:
        async with self.read() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await self._writer
        await self.engine.dispose()


@contextlib.asynccontextmanager
async def open_database(url: str) -> AsyncIterator[Database]:
    """A migrated database, disposed of on exit."""
    database = Database(url)
    try:
        await migrate(database.engine)
        yield database
    finally:
        await database.dispose()
