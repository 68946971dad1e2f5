"""`vidugate keys create|list|revoke`: works on the database directly (no server needed)."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from vidugate.services.keys import KeyService
from vidugate.settings import Settings
from vidugate.store.db import open_database
from vidugate.store.keys import KeyRepository

app = typer.Typer(help="Manage the gateway's API keys.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)
T = TypeVar("T")


def _with_keys(action: Callable[[KeyService], Awaitable[T]]) -> T:
    async def run() -> T:
        async with open_database(Settings().resolved_database_url) as database:
            return await action(KeyService(KeyRepository(database)))

    return asyncio.run(run())


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


@app.command()
def create(name: Annotated[str, typer.Option(help="A label for the key.")] = "default") -> None:
    """Make a key and print it (only now: the gateway keeps a hash)."""
    key, token = _with_keys(lambda keys: keys.create(name))
    err.print(f"created key {key.id} ({name}); it is shown only this once:")
    print(token)


@app.command("list")
def list_keys() -> None:
    """List keys (prefixes only; the keys themselves are not stored)."""
    keys = _with_keys(lambda keys: keys.all())
    table = Table("id", "name", "prefix", "created", "revoked")
    for key in keys:
        table.add_row(
            key.id, key.name, key.prefix + "…", _when(key.created_at), _when(key.revoked_at)
        )
    out.print(table)


@app.command()
def revoke(key: Annotated[str, typer.Argument(help="The key's id or prefix.")]) -> None:
    """Revoke a key; requests with it are refused from then on."""
    revoked = _with_keys(lambda keys: keys.revoke(key))
    if not revoked:
        err.print(f"no active key with id or prefix {key!r}")
        raise typer.Exit(1)
    for item in revoked:
        err.print(f"revoked {item.id} ({item.name})")
