"""`vidugate tenants`: the customer accounts (tenants) that own keys and hold a balance.
Works on the database directly (no server needed). Not `vidugate accounts`: those are the
gateway's own upstream (Vidu) accounts.

Every change of a balance is a ledger row with its reason, written in one transaction with
the balance (a top-up adds, an adjustment moves either way); `vidugate ledger` lists them."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer

from vidugate.cli.limits import (
    ActiveOption,
    CreatesOption,
    RequestsOption,
    SpendOption,
    changes_of,
    limits_text,
)
from vidugate.cli.money import (
    JsonOption,
    amount_arg,
    currency_of,
    entries_table,
    entry_json,
    key_json,
    money,
    newest_entries,
    optional_money,
    plural,
    print_json,
    show,
    tenant_json,
    when,
    with_billing,
)

if TYPE_CHECKING:  # imported when run: `vidugate --help` starts faster without them
    from vidugate.domain.keys import ApiKey
    from vidugate.domain.ledger import LedgerEntry, Tenant
    from vidugate.services.billing import Billing

    # A tenant, the currency, its keys with what each spent, its newest ledger rows.
    _Shown = tuple[Tenant, str | None, list[tuple[ApiKey, Decimal]], list[LedgerEntry]]

app = typer.Typer(
    help="Manage tenants: the customer accounts that own keys and hold a balance.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
SHOWN_ENTRIES = 10
TenantArg = Annotated[str, typer.Argument(help="The tenant's id (tenant_...).", show_default=False)]
ReasonOption = Annotated[
    str, typer.Option("--reason", help="Why: kept in the ledger row.", show_default=False)
]
# A signed amount is a positional argument: "-5" must not be read as an unknown option.
SIGNED = {"ignore_unknown_options": True}


def _in(currency: str | None) -> str:
    return f" {currency}" if currency else ""


@app.command()
def create(
    name: Annotated[str, typer.Argument(help="The tenant's name.", show_default=False)],
    balance: Annotated[
        str | None,
        typer.Option(help='A balance to start with: a top-up with the reason "initial balance".'),
    ] = None,
    overdraft: Annotated[
        str | None, typer.Option(help="How far below 0 a video may take the balance.")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Make a tenant (its keys: `vidugate keys create --tenant ID`)."""
    start = Decimal(0) if balance is None else amount_arg(balance, "--balance")
    limit = Decimal(0) if overdraft is None else amount_arg(overdraft, "--overdraft")

    async def run(billing: Billing) -> tuple[Tenant, str | None]:
        tenant = await billing.open_tenant(name, overdraft=limit, balance=start)
        return tenant, await currency_of(billing)

    tenant, currency = with_billing(run)
    if json_out:
        print_json(tenant_json(tenant))
        return
    print(
        f"created tenant {tenant.id} ({tenant.name}): balance {money(tenant.balance)}"
        f"{_in(currency)}, overdraft {money(tenant.overdraft)}"
    )


@app.command("list")
def list_tenants(json_out: JsonOption = False) -> None:
    """List the tenants with their balances."""
    from rich.table import Table

    async def run(billing: Billing) -> tuple[list[Tenant], str | None]:
        return await billing.tenants.all(), await currency_of(billing)

    tenants, currency = with_billing(run)
    if json_out:
        print_json([tenant_json(tenant) for tenant in tenants])
        return
    table = Table("id", "name", f"balance{_in(currency)}", "overdraft", "created")
    for tenant in tenants:
        table.add_row(
            tenant.id, tenant.name, money(tenant.balance), money(tenant.overdraft),
            when(tenant.created_at),
        )  # fmt: skip
    show(table)


@app.command("show")
def show_tenant(tenant_id: TenantArg, json_out: JsonOption = False) -> None:
    """A tenant's balance, overdraft, keys and its last ledger rows (newest first)."""
    from rich.table import Table

    async def run(billing: Billing) -> _Shown:
        tenant = await billing.tenant(tenant_id)
        return (
            tenant,
            await currency_of(billing),
            await billing.keys_with_spent(tenant.id),
            await newest_entries(billing, tenant_id=tenant.id, limit=SHOWN_ENTRIES),
        )

    tenant, currency, keys, entries = with_billing(run)
    if json_out:
        print_json(
            {
                **tenant_json(tenant),
                "currency": currency,
                "keys": [key_json(key, spent) for key, spent in keys],
                "ledger": [entry_json(entry) for entry in entries],
            }
        )
        return
    print(f"tenant {tenant.id} ({tenant.name}), created {when(tenant.created_at)}")
    print(f"balance {money(tenant.balance)}{_in(currency)}, overdraft {money(tenant.overdraft)}")
    print(f"limits: {limits_text(tenant.limits)}; unfinished videos now {tenant.active_videos}")
    if keys:
        table = Table("key", "name", "role", "cap", "spent", "revoked", title="keys")
        for key, spent in keys:
            cap = optional_money(key.spend_cap) or "none"
            table.add_row(key.id, key.name, key.role.value, cap, money(spent), when(key.revoked_at))
        show(table)
    else:
        print(f"no keys yet (vidugate keys create --tenant {tenant.id})")
    if not entries:
        print("no ledger rows yet")
        return
    rows = entries_table(entries, tenant_column=False)
    rows.title = f"last {plural(len(entries), 'ledger row')}, newest first"
    show(rows)


def _moved(entry: LedgerEntry, json_out: bool) -> None:
    if json_out:
        print_json(entry_json(entry))
        return
    print(
        f"{entry.kind.value} {money(entry.amount)} on {entry.tenant_id} (ledger row {entry.id}): "
        f"balance now {money(entry.balance_after)}"
    )


@app.command()
def topup(
    tenant_id: TenantArg,
    amount: Annotated[str, typer.Argument(help="What comes in (above 0).", show_default=False)],
    reason: ReasonOption,
    json_out: JsonOption = False,
) -> None:
    """Add money to a tenant's balance (a payment), with its reason."""
    from vidugate.domain.ledger import LedgerKind

    value = amount_arg(amount, "AMOUNT")
    entry = with_billing(lambda billing: billing.move(tenant_id, LedgerKind.TOPUP, value, reason))
    _moved(entry, json_out)


@app.command(context_settings=SIGNED)
def adjust(
    tenant_id: TenantArg,
    amount: Annotated[
        str,
        typer.Argument(help='Signed: "-2.50" takes money off, "2.50" adds.', show_default=False),
    ],
    reason: ReasonOption,
    json_out: JsonOption = False,
) -> None:
    """Correct a tenant's balance either way, with its reason."""
    from vidugate.domain.ledger import LedgerKind

    value = amount_arg(amount, "AMOUNT", allow_negative=True)
    entry = with_billing(lambda billing: billing.move(tenant_id, LedgerKind.ADJUST, value, reason))
    _moved(entry, json_out)


@app.command()
def overdraft(
    tenant_id: TenantArg,
    amount: Annotated[
        str,
        typer.Argument(help="How far below 0 a video may take the balance.", show_default=False),
    ],
    json_out: JsonOption = False,
) -> None:
    """Set how far below 0 a tenant's balance may go (0: not at all)."""
    value = amount_arg(amount, "AMOUNT")
    tenant = with_billing(lambda billing: billing.set_overdraft(tenant_id, value))
    if json_out:
        print_json(tenant_json(tenant))
        return
    print(f"tenant {tenant.id}: overdraft {money(tenant.overdraft)}")


@app.command()
def weight(
    tenant_id: TenantArg,
    value: Annotated[
        int,
        typer.Argument(
            help="Its share of the slots: 2 gets twice the slots of 1 (the default).",
            min=1,
            max=1000,
            show_default=False,
        ),
    ],
    json_out: JsonOption = False,
) -> None:
    """Set a tenant's weight under fair scheduling (docs/scheduling.md)."""
    tenant = with_billing(lambda billing: billing.set_weight(tenant_id, value))
    if json_out:
        print_json(tenant_json(tenant))
        return
    print(f"tenant {tenant.id}: weight {tenant.weight}")


@app.command("limits")
def set_limits(
    tenant_id: TenantArg,
    requests_per_minute: RequestsOption = None,
    creates_per_minute: CreatesOption = None,
    active_videos: ActiveOption = None,
    spend_per_day: SpendOption = None,
    json_out: JsonOption = False,
) -> None:
    """Set or clear a tenant's own limits: they count all its keys (docs/limits.md)."""
    from vidugate.services.limits import update_tenant_limits

    changes = changes_of(requests_per_minute, creates_per_minute, active_videos, spend_per_day)
    tenant = with_billing(lambda billing: update_tenant_limits(billing.tenants, tenant_id, changes))
    if json_out:
        print_json(tenant_json(tenant))
        return
    print(f"tenant {tenant.id}: {limits_text(tenant.limits)}")
