"""What the money commands (`tenants`, `keys`, `prices`, `ledger`) share: the gateway's
billing opened on the configured database (no server needed), amounts read from the command
line, and amounts, times and rows printed alike.

Amounts on the command line are read as `domain.money.parse_amount` reads an API's: exact
decimals of at most 6 places ("0.1" works, "1e-9" does not); one that is not is bad usage
(one line, exit status 2). A refusal from the gateway (no such tenant, an empty reason, a
price table that cannot be used) is one line and exit status 1. With `--json` a command
prints one JSON document on stdout, amounts as decimal strings."""

from __future__ import annotations

import datetime
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from vidugate.cli.preflight import exit_with, settings_or_exit, with_database

if TYPE_CHECKING:  # imported when run: `vidugate --help` starts faster without them
    from vidugate.domain.keys import ApiKey
    from vidugate.domain.ledger import LedgerEntry, Tenant
    from vidugate.services.billing import Billing
    from vidugate.settings import Settings
    from vidugate.store.db import Database

T = TypeVar("T")
EXIT_REFUSED = 1
EXIT_USAGE = 2
# Columns of a table printed into a pipe or a file (Rich would take 80).
PIPED_WIDTH = 200

JsonOption = Annotated[
    bool,
    typer.Option("--json", help="Print JSON on stdout instead (amounts as decimal strings)."),
]


def with_billing(action: Callable[[Billing], Awaitable[T]], settings: Settings | None = None) -> T:
    """action on the gateway's billing, over the configured (migrated) database (settings:
    read from the environment unless given)."""
    from vidugate.clock import SystemClock
    from vidugate.domain.ledger import CancelPolicy
    from vidugate.files.private import use_private_umask
    from vidugate.services.billing import Billing, PriceBook
    from vidugate.services.keys import KeyService
    from vidugate.store.keys import KeyRepository
    from vidugate.store.ledger import Ledger
    from vidugate.store.prices import PriceRepository
    from vidugate.store.tenants import TenantRepository

    settings = settings or settings_or_exit()
    use_private_umask()  # a SQLite database made here is private too

    async def run(database: Database) -> T:
        clock = SystemClock()
        billing = Billing(
            TenantRepository(database),
            Ledger(database, CancelPolicy(percent_after_start=settings.cancel_charge_percent)),
            KeyService(KeyRepository(database), clock=clock),
            PriceBook(PriceRepository(database), clock=clock),
            clock=clock,
        )
        return await refused_as_exit(action(billing))

    return with_database(settings, run)


async def refused_as_exit(call: Awaitable[T]) -> T:
    """The call's result; a refusal by the gateway's rules is one line and exit status 1."""
    from vidugate.errors import DatabaseUnavailableError, VidugateError

    try:
        return await call
    except DatabaseUnavailableError:
        raise  # with_database says which database, in its own line
    except VidugateError as exc:
        raise exit_with(exc.message, EXIT_REFUSED) from None


async def currency_of(billing: Billing) -> str | None:
    """The price table's currency, which balances are in (None: no prices set)."""
    from vidugate.errors import ServiceUnavailableError

    try:
        table = await billing.prices.current()
    except ServiceUnavailableError:  # a table this version cannot read: still show the rest
        return None
    return None if table is None else table.currency


def amount_arg(value: str, name: str, *, allow_negative: bool = False) -> Decimal:
    """An amount given on the command line as `name`, or one line and exit status 2."""
    from vidugate.domain.money import parse_amount
    from vidugate.errors import InvalidRequestError

    try:
        return parse_amount(value, param=name, allow_negative=allow_negative)
    except InvalidRequestError as exc:
        # parse_amount speaks to API clients ("written as a string"): on a command line
        # every value is a string, so only the rule and what was given are kept.
        raise exit_with(_for_command_line(exc.message), EXIT_USAGE) from None


def _for_command_line(message: str) -> str:
    return message.replace(' written as a string (e.g. "0.05") or an integer', ' (e.g. "0.05")')


def money(value: Decimal) -> str:
    """An amount as every surface shows it: "10.00", "0.1234", "-0.50"."""
    from vidugate.domain.money import amount_text

    return amount_text(value)


def optional_money(value: Decimal | None) -> str | None:
    return None if value is None else money(value)


def when(ts: float | None) -> str:
    """A time for people: "2026-01-01 00:00 UTC" ("-": never)."""
    if ts is None:
        return "-"
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def iso(ts: float | None) -> str | None:
    """A time for programs: ISO 8601 in UTC, to the second."""
    if ts is None:
        return None
    moment = datetime.datetime.fromtimestamp(ts, datetime.UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def print_json(document: object) -> None:
    print(json.dumps(document, indent=2, ensure_ascii=False))


# --json prints what the admin API answers (api/admin/render.py): one shape for programs.


def tenant_json(tenant: Tenant) -> dict[str, Any]:
    from vidugate.api.admin.render import tenant_object

    return tenant_object(tenant).model_dump()


def entry_json(entry: LedgerEntry) -> dict[str, Any]:
    from vidugate.api.admin.render import entry_object

    return entry_object(entry).model_dump()


def key_json(key: ApiKey, spent: Decimal) -> dict[str, Any]:
    from vidugate.api.admin.render import key_object

    return key_object(key, spent).model_dump()


async def newest_entries(
    billing: Billing,
    *,
    tenant_id: str | None = None,
    task_id: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[LedgerEntry]:
    """Ledger rows newest first, before the row id `before`: what an operator looks at
    first (Ledger.entries reads forward from a cursor, for programs catching up)."""
    from sqlalchemy import select

    from vidugate.store.ledger import L, entry_of

    stmt = select(L).order_by(L.c.id.desc()).limit(limit)
    if before is not None:
        stmt = stmt.where(L.c.id < before)
    if tenant_id is not None:
        stmt = stmt.where(L.c.tenant_id == tenant_id)
    if task_id is not None:
        stmt = stmt.where(L.c.task_id == task_id)
    async with billing.ledger.db.read() as conn:
        return [entry_of(row) for row in (await conn.execute(stmt)).all()]


def entries_table(entries: list[LedgerEntry], *, tenant_column: bool = True) -> Any:
    """Ledger rows as a Rich table."""
    from rich.table import Table

    table = Table("id", "when")
    if tenant_column:
        table.add_column("tenant")
    for name in ("kind", "amount", "balance after", "task", "reason"):
        table.add_column(name, justify="right" if name in ("amount", "balance after") else "left")
    for entry in entries:
        cells = [str(entry.id), when(entry.created_at)]
        if tenant_column:
            cells.append(entry.tenant_id)
        cells += [
            entry.kind.value,
            money(entry.amount),
            money(entry.balance_after),
            entry.task_id or "-",
            entry.reason,
        ]
        table.add_row(*cells)
    return table


def show(renderable: Any) -> None:
    """Print a Rich renderable on stdout: as wide as the terminal, and when stdout is not
    one (a pipe, a file) wide enough that no id is cut short."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console = Console(width=PIPED_WIDTH)
    console.print(renderable)
