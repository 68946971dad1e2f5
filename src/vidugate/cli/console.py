"""`vidugate upstream accounts` and `vidugate videos timeline ID`: the console API's two
reads (GET /admin/v1/upstream/accounts and /admin/v1/videos/{id}/timeline,
docs/console-api.md), from the database directly, as a table or the API's JSON body."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from vidugate.cli.money import JsonOption, print_json, refused_as_exit
from vidugate.cli.preflight import settings_or_exit, with_database

if TYPE_CHECKING:  # imported when run: `vidugate --help` starts faster without them
    from vidugate.domain.accounts import AccountLine
    from vidugate.domain.timeline import Timeline
    from vidugate.store.db import Database

upstream_app = typer.Typer(
    help="The upstream accounts: health, credits, slots.", no_args_is_help=True
)
videos_app = typer.Typer(help="One video's history, for an operator.", no_args_is_help=True)


def _at(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


@upstream_app.command("accounts")
def accounts(as_json: JsonOption = False) -> None:
    """Every upstream account (the Vidu accounts, then the sandbox) with its health,
    credits, slots, tasks running on it and its provider's queue. Never a key."""
    import functools

    from rich.console import Console
    from rich.table import Table

    from vidugate.api.admin.console import AccountList, account_object
    from vidugate.clock import SystemClock
    from vidugate.services.upstream import UpstreamAccounts, configured_accounts
    from vidugate.store.accounts import AccountRepository
    from vidugate.store.slot_use import slot_use

    settings = settings_or_exit()

    async def load(database: Database) -> list[AccountLine]:
        service = UpstreamAccounts(
            configured_accounts(settings),
            AccountRepository(database),
            functools.partial(slot_use, database),
            {},  # reading credits needs the providers: the API's credits/refresh does it
            clock=SystemClock(),
        )
        return await service.lines()

    lines = [account_object(line) for line in with_database(settings, load)]
    if as_json:
        print_json(AccountList(data=lines).model_dump(mode="json"))
        return
    table = Table("id", "provider", "health", "until", "reason", "credits", "running", "waiting")
    for line in lines:
        table.add_row(
            line.id,
            line.provider,
            line.health,
            _at(line.until),
            line.reason,
            line.credits or "-",
            f"{line.running}/{line.concurrency}",
            str(line.waiting),
        )
    Console().print(table)


@videos_app.command("timeline")
def timeline(
    video_id: Annotated[str, typer.Argument(help="The video's id (video_...).")],
    as_json: JsonOption = False,
) -> None:
    """A video's changes, ledger rows and webhook deliveries, in time order."""
    from rich.console import Console
    from rich.table import Table

    from vidugate.api.admin.console import timeline_object
    from vidugate.services.timeline import TimelineService
    from vidugate.store.ledger import Ledger
    from vidugate.store.task_events import TaskEvents
    from vidugate.store.usage import UsageQueries
    from vidugate.store.webhook_log import WebhookLog

    settings = settings_or_exit()

    async def load(database: Database) -> Timeline:
        service = TimelineService(
            UsageQueries(database), TaskEvents(database), Ledger(database), WebhookLog(database)
        )
        return await refused_as_exit(service.of(video_id))

    body = timeline_object(with_database(settings, load))
    if as_json:
        print_json(body.model_dump(mode="json"))
        return
    table = Table("at (UTC)", "source", "type", "status", "summary")
    for event in body.events:
        table.add_row(_at(event.at), event.source, event.type, event.status or "", event.summary)
    Console().print(table)
    if body.truncated:
        Console(stderr=True).print("(the oldest were left out: see docs/console-api.md)")
