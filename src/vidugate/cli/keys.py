"""`vidugate keys create|list|revoke`: works on the database directly (no server needed)."""

from __future__ import annotations

import datetime
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from vidugate.cli.preflight import settings_or_exit, with_database
from vidugate.domain.keys import StatusDialect

if TYPE_CHECKING:  # imported when run: `vidugate --help` starts faster without them
    from vidugate.services.keys import KeyService
    from vidugate.store.db import Database

app = typer.Typer(
    help="Manage the gateway's API keys.", no_args_is_help=True, rich_markup_mode=None
)
T = TypeVar("T")


def _with_keys(action: Callable[[KeyService], Awaitable[T]]) -> T:
    from vidugate.files.private import use_private_umask
    from vidugate.services.keys import KeyService
    from vidugate.store.keys import KeyRepository

    settings = settings_or_exit()
    use_private_umask()  # a SQLite database made here is private too

    async def run(database: Database) -> T:
        return await action(KeyService(KeyRepository(database)))

    return with_database(settings, run)


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


@app.command()
def create(
    name: Annotated[str, typer.Option(help="A label for the key.")] = "default",
    status_dialect: Annotated[
        StatusDialect,
        typer.Option(
            case_sensitive=False,
            help="Status words its clients get on /v1/videos: openai (in_progress; for "
            "OpenAI-style clients the gateway cannot recognise), seed (processing), or auto "
            "(by the client's headers, or VIDUGATE_STATUS_DIALECT when that is set).",
        ),
    ] = StatusDialect.AUTO,
) -> None:
    """Make a key and print it (only now: the gateway keeps a hash)."""
    key, token = _with_keys(lambda keys: keys.create(name, status_dialect))
    print(
        f"created key {key.id} ({name}, status dialect {key.status_dialect}); "
        "it is shown only this once:",
        file=sys.stderr,
    )
    print(token)


@app.command("list")
def list_keys() -> None:
    """List keys (prefixes only; the keys themselves are not stored)."""
    from rich.console import Console
    from rich.table import Table

    keys = _with_keys(lambda keys: keys.all())
    table = Table("id", "name", "prefix", "status dialect", "created", "revoked")
    for key in keys:
        table.add_row(
            key.id,
            key.name,
            key.prefix + "…",
            key.status_dialect.value,
            _when(key.created_at),
            _when(key.revoked_at),
        )
    Console().print(table)


@app.command()
def revoke(key: Annotated[str, typer.Argument(help="The key's id or prefix.")]) -> None:
    """Revoke a key; requests with it are refused from then on."""
    revoked = _with_keys(lambda keys: keys.revoke(key))
    if not revoked:
        print(f"no active key with id or prefix {key!r}", file=sys.stderr)
        raise typer.Exit(1)
    for item in revoked:
        print(f"revoked {item.id} ({item.name})", file=sys.stderr)
