"""`vidugate ledger` and `vidugate ledger check`: every movement of the tenants' balances.

The listing is newest first (what an operator looks at first), a page at a time: `--before`
the smallest id shown gives the page before it. `check` proves the books: each tenant's
balance must equal the sum of its ledger rows; one that does not is listed and the status
is 1."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer

from vidugate.cli.money import (
    EXIT_REFUSED,
    JsonOption,
    entries_table,
    entry_json,
    money,
    newest_entries,
    plural,
    print_json,
    show,
    with_billing,
)
from vidugate.cli.preflight import exit_with

if TYPE_CHECKING:  # imported when run: `vidugate --help` starts faster without them
    from vidugate.services.billing import Billing

app = typer.Typer(invoke_without_command=True, rich_markup_mode=None)
MAX_LIMIT = 1000


@app.callback()
def entries(
    ctx: typer.Context,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's rows.")] = None,
    task: Annotated[str | None, typer.Option(help="Only this task's rows.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT, help="At most this many rows.")] = 50,
    before: Annotated[
        int | None, typer.Option(min=1, help="Only rows older than this row id (the next page).")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """List ledger rows, newest first (`vidugate ledger check`: are the books balanced?)."""
    if ctx.invoked_subcommand is not None:
        return
    rows = with_billing(
        lambda billing: newest_entries(
            billing, tenant_id=tenant, task_id=task, before=before, limit=limit
        )
    )
    if json_out:
        print_json([entry_json(entry) for entry in rows])
        return
    if not rows:
        print("no ledger rows" + (" before that row" if before else ""))
        return
    table = entries_table(rows)
    table.title = f"{plural(len(rows), 'ledger row')}, newest first"
    show(table)
    if len(rows) == limit:
        print(f"older rows: --before {rows[-1].id}")


@app.command()
def check(json_out: JsonOption = False) -> None:
    """Check that every tenant's balance is the sum of its ledger rows (exit 1 if not)."""

    async def run(billing: Billing) -> list[tuple[str, Decimal, Decimal]]:
        return await billing.ledger.unbalanced()

    unbalanced = with_billing(run)
    if json_out:
        print_json(
            {
                "balanced": not unbalanced,
                "unbalanced": [
                    {"tenant_id": tenant, "balance": money(balance), "ledger_sum": money(total)}
                    for tenant, balance, total in unbalanced
                ],
            }
        )
    elif not unbalanced:
        print("balanced: every tenant's balance is the sum of its ledger rows")
    else:
        for tenant, balance, total in unbalanced:
            print(
                f"{tenant}: balance {money(balance)} but its ledger rows sum to {money(total)} "
                f"(off by {money(balance - total)})"
            )
    if unbalanced:
        raise exit_with(
            f"{len(unbalanced)} tenant(s) whose balance is not the sum of their ledger rows",
            EXIT_REFUSED,
        )
