"""Engine creation, migrations, and the one place database failures are translated: a
database that cannot be reached is DatabaseUnavailableError (503, Retry-After) to callers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Executable, Row, Table, UpdateBase, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from vidugate.errors import DatabaseUnavailableError
from vidugate.store.sqlite_writer import (
    InlineSqlite,
    PreparedInsert,
    PreparedStatement,
    begin_immediate,
    inline_writer,
    sqlite_pragmas,
    under_savepoint,
)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MAX_BATCH = 500
# Any fixed number: every process migrating at start takes this lock, so one migrates and
# the others find the schema current.
MIGRATION_LOCK = 0x76696475

T = TypeVar("T")
WriteFn = Callable[[AsyncConnection], Awaitable[T]]


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (None for another database or an in-memory one)."""
    if not is_sqlite(url):
        return None
    path = url.split("///", 1)[-1] if "///" in url else ""
    return Path(path) if path and path != ":memory:" else None


def dialect_insert(conn: AsyncConnection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """INSERT of the connection's dialect, for ON CONFLICT clauses (SQLite and PostgreSQL
    spell them the same)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def is_unavailable(exc: BaseException) -> bool:
    """A failure to reach the database (down, restarting, pool exhausted, SQLite busy past
    its timeout), as opposed to a statement the database refused."""
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        # PostgreSQL's classes: 08 connection exception, 53 insufficient resources (too many
        # connections), 57P0x shutting down / starting up.
        state = _sqlstate(exc) or ""
        if state.startswith(("08", "53", "57P0")):
            return True
    return isinstance(
        exc,
        sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError | OSError,
    )


def create_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    if is_sqlite(url):
        path = sqlite_file(url)
        if path is not None:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Made here, private: SQLite gives its -wal and -shm files the database's mode.
            os.close(os.open(path, os.O_RDONLY | os.O_CREAT, 0o600))
        engine = create_async_engine(url, connect_args={"timeout": 30}, pool_size=8)
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
        return engine
    # No pre-ping: it would cost a round trip on every status read. A connection found dead
    # invalidates the pool instead, so one request answers 503 and the next reconnects.
    return create_async_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_timeout=10, pool_recycle=1800
    )


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def ensure_database(url: str) -> None:
    """Create a PostgreSQL database that does not exist yet (SQLite makes its file itself),
    so pointing the gateway at a server is all the set-up there is."""
    if is_sqlite(url):
        return
    probe = create_async_engine(url, poolclass=NullPool)
    try:
        async with probe.connect():
            return
    except sa_exc.DBAPIError as exc:
        if _sqlstate(exc) != "3D000":  # anything but "no such database" is the caller's
            raise
    finally:
        await probe.dispose()
    target = make_url(url)
    server = create_async_engine(
        target.set(database="postgres"), poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    try:
        async with server.connect() as conn:
            name = target.database or ""
            await conn.execute(text(f'CREATE DATABASE "{name.replace(chr(34), chr(34) * 2)}"'))
    except sa_exc.DBAPIError as exc:
        if _sqlstate(exc) != "42P04":  # another process created it first
            raise
    finally:
        await server.dispose()


def _sqlstate(exc: sa_exc.DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision (what `vidugate migrate` and start-up run)."""
    async with engine.begin() as conn:
        if not is_sqlite(str(engine.url)):
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        await conn.run_sync(_upgrade, str(engine.url.render_as_string(hide_password=False)))


def _upgrade(connection: Connection, url: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


@dataclass(frozen=True, slots=True)
class _Failed:
    exc: Exception


class Database:
    """The engine, plus group commit on SQLite.

    SQLite takes one writer at a time, and a transaction per small write costs several
    thread hops and a commit. So on SQLite every write is a function queued here; one writer
    runs whatever has queued up in a single transaction, each write under a SAVEPOINT of
    its own, and answers every caller once the transaction has committed. A write that
    raises is rolled back to its savepoint and gets its exception; the others commit. Only
    a failure of the transaction itself (the database unreachable, busy, full; the commit)
    fails them all. PostgreSQL takes concurrent writers and has its own group commit:
    there each write is its own transaction, at once (group_commit=True forces the queue,
    for tests of it on PostgreSQL)."""

    def __init__(self, url: str, pool_size: int = 10, *, group_commit: bool | None = None) -> None:
        self.url = url
        self.engine = create_engine(url, pool_size)
        self.group_commit = is_sqlite(url) if group_commit is None else group_commit
        path = sqlite_file(url)
        # The engine the queued writes run on (the reads' engine unless SQLite's own).
        self.writer_engine = (
            inline_writer(url, path) if self.group_commit and path is not None else self.engine
        )
        self._queue: list[tuple[WriteFn[Any], asyncio.Future[Any]]] = []
        self._inserts: dict[tuple[str, tuple[str, ...]], PreparedInsert] = {}
        self._statements: dict[int, tuple[UpdateBase, PreparedStatement]] = {}
        # The writer's transaction while a batch runs, with its SQLite connection if inline.
        self._batch: tuple[AsyncConnection, sqlite3.Connection | None] | None = None
        self._writer: asyncio.Task[None] | None = None

    async def write(self, fn: WriteFn[T]) -> T:
        """Run fn(conn) in a write transaction (shared with other writes on SQLite)."""
        try:
            if not self.group_commit:
                async with self.engine.begin() as conn:
                    return await fn(conn)
            future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
            self._queue.append((fn, future))
            if self._writer is None or self._writer.done():
                self._writer = asyncio.create_task(self._drain(), name="vidugate db writer")
            return await future
        except Exception as exc:
            if is_unavailable(exc):
                raise DatabaseUnavailableError() from exc
            raise

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                outcomes = await self._commit([fn for fn, _future in batch])
            except BaseException as exc:
                for _fn, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            for (_fn, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():  # its caller stopped waiting; the write stands
                    continue
                if isinstance(outcome, _Failed):
                    future.set_exception(outcome.exc)
                else:
                    future.set_result(outcome)

    async def _commit(self, fns: list[WriteFn[Any]]) -> list[Any]:
        """Run the writes in one transaction; each one's result, or _Failed(its exception)."""
        async with self.writer_engine.begin() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            inline = raw.sqlite if isinstance(raw, InlineSqlite) else None
            # Explicit on SQLite, so the savepoints nest in it (the driver would begin only
            # at the first INSERT, and releasing a first savepoint would then commit), and
            # IMMEDIATE: the write lock is taken now, never upgraded mid-way.
            if inline is not None:
                await begin_immediate(inline)
            elif is_sqlite(self.url):
                await conn.exec_driver_sql("BEGIN IMMEDIATE")
            self._batch = (conn, inline)
            try:
                if len(fns) == 1:  # the transaction is the savepoint
                    return [await fns[0](conn)]
                return [await self._one_of(fn, conn, inline) for fn in fns]
            finally:
                self._batch = None

    async def _one_of(
        self, fn: WriteFn[Any], conn: AsyncConnection, inline: sqlite3.Connection | None
    ) -> Any:
        """One write of a batch under its savepoint: its result, or _Failed(its exception)."""
        try:
            if inline is not None:
                return await under_savepoint(inline, fn, conn)
            async with conn.begin_nested():
                return await fn(conn)
        except Exception as exc:
            if is_unavailable(exc) or (inline is not None and not inline.in_transaction):
                raise  # the transaction itself is gone
            return _Failed(exc)

    async def insert(self, conn: AsyncConnection, table: Table, values: dict[str, Any]) -> None:
        """One row into table, within a write (conn is the write's). Columns not given
        are NULL, or their server default (no Python-side defaults are applied).

        On SQLite's writer the row goes to the connection directly: SQLAlchemy's way costs
        several times the INSERT (for a create, the largest part of its write). Any other
        connection (PostgreSQL, or a write not queued here) takes SQLAlchemy's."""
        inline = self._batch[1] if self._batch is not None and self._batch[0] is conn else None
        if inline is None:
            await conn.execute(table.insert(), values)
            return
        names = tuple(values)
        prepared = self._inserts.get((table.name, names))
        if prepared is None:
            prepared = self._inserts[(table.name, names)] = PreparedInsert.of(table, names, conn)
        row = prepared.row(values)
        try:
            inline.execute(prepared.sql, row)
        except sqlite3.Error as exc:
            # As SQLAlchemy would raise it (IntegrityError for a taken unique key, ...).
            raise sa_exc.DBAPIError.instance(
                prepared.sql, row, exc, sqlite3.Error, dialect=conn.dialect
            ) from exc

    async def execute(
        self, conn: AsyncConnection, stmt: UpdateBase, params: dict[str, Any]
    ) -> tuple[int, list[tuple[Any, ...]]]:
        """A statement built once (module level, with bindparam()s) run within a write
        (conn is the write's): its row count and the rows it returned. On SQLite's writer
        it goes to the connection directly, as `insert` does: the money statements of a
        create (store/ledger.py) cost several times more through SQLAlchemy."""
        inline = self._batch[1] if self._batch is not None and self._batch[0] is conn else None
        if inline is None:
            result = await conn.execute(stmt, params)
            rows = [tuple(row) for row in result.all()] if result.returns_rows else []
            return int(result.rowcount or 0) if not rows else len(rows), rows
        known = self._statements.get(id(stmt))
        if known is None or known[0] is not stmt:
            known = self._statements[id(stmt)] = (stmt, PreparedStatement.of(stmt, conn))
        prepared = known[1]
        try:
            cursor = inline.execute(prepared.sql, prepared.row(params))
            rows = cursor.fetchall()
        except sqlite3.Error as exc:
            raise sa_exc.DBAPIError.instance(
                prepared.sql, params, exc, sqlite3.Error, dialect=conn.dialect
            ) from exc
        return (len(rows) if rows else max(cursor.rowcount, 0)), rows

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

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with self.engine.connect() as conn:
                yield conn
        except Exception as exc:
            if is_unavailable(exc):
                raise DatabaseUnavailableError() from exc
            raise

    async def ping(self) -> None:
        async with self.read() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await self._writer
        if self.writer_engine is not self.engine:
            await self.writer_engine.dispose()
        await self.engine.dispose()


@contextlib.asynccontextmanager
async def open_database(
    url: str, pool_size: int = 10, *, group_commit: bool | None = None
) -> AsyncIterator[Database]:
    """A migrated database, disposed of on exit."""
    await ensure_database(url)
    database = Database(url, pool_size, group_commit=group_commit)
    try:
        await migrate(database.engine)
        yield database
    finally:
        await database.dispose()
