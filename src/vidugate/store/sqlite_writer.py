"""SQLite's side of the group-commit writer (store/db.py): its connection, which runs
each call on the event loop's thread, and what the writer sends that connection directly
(savepoints, prepared INSERTs) rather than through SQLAlchemy, whose way costs several
times the statement (bench/README.md, api_bench)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy import Table, UpdateBase, event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

T = TypeVar("T")


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers go on while a worker writes; NORMAL sync is safe with WAL.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class InlineSqlite(aiosqlite.Connection):
    """An aiosqlite connection that runs each call at once, on the event loop's thread,
    instead of handing it to its own thread and waiting to be woken: the group-commit
    writer's. A statement through SQLAlchemy's aiosqlite adapter takes three or four such
    hand-offs (cursor, execute, fetch, close), and they cost several times the statement
    (bench/README.md, api_bench). Only the single writer uses it, so the loop is held for
    no longer than a write batch takes; SQLite's writes end in the page cache (WAL,
    synchronous=NORMAL: no fsync at commit), except a checkpoint's now and then. It never
    waits for the lock on the loop (`begin_immediate`)."""

    async def _execute(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    @property
    def sqlite(self) -> sqlite3.Connection:
        return self._conn


def inline_writer(url: str, path: Path) -> AsyncEngine:
    def connector() -> sqlite3.Connection:
        # Made on aiosqlite's thread, used on the loop's.
        return sqlite3.connect(path, timeout=30, check_same_thread=False)

    async def connect() -> InlineSqlite:
        connection = InlineSqlite(connector, 64)
        await connection  # opens it
        return connection

    engine = create_async_engine(url, async_creator=connect, pool_size=1, max_overflow=0)
    event.listen(engine.sync_engine, "connect", sqlite_pragmas)
    # On the loop, never wait for SQLite's lock: `begin_immediate` waits in a thread.
    event.listen(engine.sync_engine, "connect", _no_busy_wait)
    return engine


def _no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.close()


async def begin_immediate(inline: sqlite3.Connection) -> None:
    """Take the write lock for a batch. Another process (the CLI, a second server on the
    same file) may hold it: then the wait, up to SQLite's usual 30 s, is spent on a thread,
    not on the event loop every other request needs."""
    try:
        inline.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY:
            raise
        await asyncio.to_thread(_begin_waiting, inline)


def _begin_waiting(inline: sqlite3.Connection) -> None:
    inline.execute("PRAGMA busy_timeout=30000")
    try:
        inline.execute("BEGIN IMMEDIATE")
    finally:
        inline.execute("PRAGMA busy_timeout=0")


@dataclass(frozen=True, slots=True)
class PreparedInsert:
    """An INSERT of some columns of a table, as the SQLite driver takes it: its SQL and, per
    column, the conversion SQLAlchemy's column type would make (JSON to text, ...)."""

    sql: str
    names: tuple[str, ...]
    converts: tuple[Callable[[Any], Any] | None, ...]

    @classmethod
    def of(cls, table: Table, names: tuple[str, ...], conn: AsyncConnection) -> PreparedInsert:
        columns = [table.c[name] for name in names]
        sql = (
            f"INSERT INTO {table.name} ({', '.join(c.name for c in columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})"
        )
        converts = tuple(c.type.bind_processor(conn.dialect) for c in columns)
        return cls(sql, names, converts)

    def row(self, values: dict[str, Any]) -> tuple[Any, ...]:
        pairs = zip(self.names, self.converts, strict=True)
        return tuple(values[n] if convert is None else convert(values[n]) for n, convert in pairs)


@dataclass(frozen=True, slots=True)
class PreparedStatement:
    """A statement built once with named bind parameters (ints, strings, floats: no type
    conversions), as the SQLite driver takes it: its SQL and the parameter names in the
    order of its `?` marks."""

    sql: str
    names: tuple[str, ...]
    fixed: dict[str, Any]  # the values the statement itself binds (its literals)

    @classmethod
    def of(cls, stmt: UpdateBase, conn: AsyncConnection) -> PreparedStatement:
        compiled = stmt.compile(dialect=conn.dialect)
        return cls(compiled.string, tuple(compiled.positiontup or ()), dict(compiled.params))

    def row(self, params: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(params[n] if n in params else self.fixed[n] for n in self.names)


async def under_savepoint(
    inline: sqlite3.Connection, fn: Callable[[AsyncConnection], Awaitable[T]], conn: AsyncConnection
) -> T:
    """fn(conn) under a savepoint set on the SQLite connection itself: the same statements
    SQLAlchemy's begin_nested() would send, without its cost per statement."""
    inline.execute("SAVEPOINT vidugate_write")
    try:
        result = await fn(conn)
    except BaseException:
        inline.execute("ROLLBACK TO vidugate_write")
        inline.execute("RELEASE vidugate_write")
        raise
    inline.execute("RELEASE vidugate_write")
    return result
