"""`vidugate accounts`: the upstream accounts and how each is doing (never their keys)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from vidugate.cli.preflight import exit_with, settings_or_exit, with_database

if TYPE_CHECKING:  # imported when run: `vidugate --help` starts faster without them
    from vidugate.domain.accounts import AccountState
    from vidugate.store.db import Database


def accounts() -> None:
    """List the configured Vidu accounts with their health (disabled, throttled, ...)."""
    from rich.console import Console
    from rich.table import Table

    from vidugate.cli.preflight import ConfigurationError, vidu_accounts
    from vidugate.store.accounts import AccountRepository

    settings = settings_or_exit()
    try:
        configured = vidu_accounts(settings)
    except ConfigurationError as exc:
        raise exit_with(str(exc)) from None

    async def load(database: Database) -> list[AccountState]:
        return await AccountRepository(database).all("vidu")

    health = {state.id: state for state in with_database(settings, load)}
    table = Table("id", "base url", "weight", "concurrency", "health", "until", "reason")
    for account in configured:
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
    Console().print(table)
