"""`vidugate accounts`: the upstream accounts and how each is doing (never their keys)."""

from __future__ import annotations

import asyncio
import datetime

from rich.console import Console
from rich.table import Table

from vidugate.domain.accounts import AccountState
from vidugate.settings import Settings
from vidugate.store.accounts import AccountRepository
from vidugate.store.db import open_database

out = Console()


def accounts() -> None:
    """List the configured Vidu accounts with their health (disabled, throttled, ...)."""
    settings = Settings()

    async def load() -> list[AccountState]:
        async with open_database(settings.resolved_database_url) as database:
            return await AccountRepository(database).all("vidu")

    health = {state.id: state for state in asyncio.run(load())}
    table = Table("id", "base url", "weight", "concurrency", "health", "until", "reason")
    for account in settings.all_vidu_accounts():
        state = health.get(account.id)
        until = (
            datetime.datetime.fromtimestamp(state.until, datetime.UTC).strftime("%H:%M:%S UTC")
            if state and state.until
            else "-"
        )
        table.add_row(
            account.id,
            account.base_url,
            f"{account.weight:g}",
            str(account.concurrency),
            state.health.value if state else "active",
            until,
            state.reason if state else "",
        )
    out.print(table)
