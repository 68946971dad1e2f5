"""`vidugate keys create|list|cap|revoke`: works on the database directly (no server needed).

A client key belongs to a tenant, whose balance its videos are charged to, and may carry
its own spend cap; an admin key (`--admin`, vga-...) reaches only the admin API."""

from __future__ import annotations

import datetime
import sys
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, TypeVar

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
    EXIT_USAGE,
    JsonOption,
    amount_arg,
    key_json,
    money,
    optional_money,
    print_json,
    show,
    with_billing,
)
from vidugate.cli.preflight import exit_with, settings_or_exit, with_database
from vidugate.domain.keys import StatusDialect
from vidugate.domain.ledger import DEFAULT_TENANT

if TYPE_CHECKING:  # imported when run: `vidugate --help` starts faster without them
    from vidugate.domain.keys import ApiKey
    from vidugate.services.billing import Billing
    from vidugate.services.keys import KeyService
    from vidugate.store.db import Database

app = typer.Typer(
    help="Manage the gateway's API keys.", no_args_is_help=True, rich_markup_mode=None
)
T = TypeVar("T")


def _with_keys(action: Callable[[KeyService], Awaitable[T]]) -> T:
    from vidugate.cli.webhooks import webhook_outbox
    from vidugate.files.private import use_private_umask
    from vidugate.services.keys import KeyService
    from vidugate.services.limits import revoke_canceller
    from vidugate.store.keys import KeyRepository

    settings = settings_or_exit()
    use_private_umask()  # a SQLite database made here is private too

    async def run(database: Database) -> T:
        # A revoke here cancels the key's queued videos as the server's would (docs/limits.md).
        on_revoke = revoke_canceller(database, settings, webhook_outbox(database, settings))
        return await action(KeyService(KeyRepository(database), on_revoke=on_revoke))

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
    tenant: Annotated[
        str,
        typer.Option(help="The tenant whose balance its videos are charged to."),
    ] = DEFAULT_TENANT,
    cap: Annotated[
        str | None,
        typer.Option(help="The most it may spend, net of refunds (default: no cap)."),
    ] = None,
    admin: Annotated[
        bool,
        typer.Option(
            "--admin", help="An admin key (vga-...): for the admin API only, never for videos."
        ),
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """Make a key and print it (only now: the gateway keeps a hash)."""
    from vidugate.domain.keys import KeyRole

    if admin and cap is not None:
        raise exit_with("--cap is for client keys: an admin key makes no videos", EXIT_USAGE)
    spend_cap = None if cap is None else amount_arg(cap, "--cap")
    role = KeyRole.ADMIN if admin else KeyRole.CLIENT
    key, token = with_billing(
        lambda billing: billing.create_key(
            tenant, name, spend_cap=spend_cap, status_dialect=status_dialect, role=role
        )
    )
    capped = f", spend cap {money(key.spend_cap)}" if key.spend_cap is not None else ""
    print(
        f"created {key.role.value} key {key.id} ({name}, tenant {key.tenant_id}{capped}, "
        f"status dialect {key.status_dialect}); it is shown only this once:",
        file=sys.stderr,
    )
    if json_out:
        print_json({**key_json(key, Decimal(0)), "token": token})
    else:
        print(token)


@app.command("list")
def list_keys(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's keys.")] = None,
    json_out: JsonOption = False,
) -> None:
    """List keys (prefixes only; the keys themselves are not stored)."""
    from rich.table import Table

    keys = with_billing(lambda billing: billing.keys_with_spent(tenant))
    if json_out:
        print_json([key_json(key, spent) for key, spent in keys])
        return
    table = Table(
        "id", "name", "prefix", "tenant", "role", "cap", "spent", "status dialect", "created",
        "revoked", "limits",
    )  # fmt: skip
    for key, spent in keys:
        table.add_row(
            key.id,
            key.name,
            key.prefix + "…",
            key.tenant_id,
            key.role.value,
            optional_money(key.spend_cap) or "none",
            money(spent),
            key.status_dialect.value,
            _when(key.created_at),
            _when(key.revoked_at),
            limits_text(key.limits),
        )
    show(table)


@app.command("cap")
def set_cap(
    key_id: Annotated[str, typer.Argument(help="The key's id (key_...).", show_default=False)],
    amount: Annotated[
        str,
        typer.Argument(
            help='The most it may spend, net of refunds; "none": no cap.', show_default=False
        ),
    ],
    json_out: JsonOption = False,
) -> None:
    """Set or remove a key's spend cap (what it spent so far counts against it)."""
    cap = None if amount.strip().lower() == "none" else amount_arg(amount, "AMOUNT")
    key, spent = with_billing(lambda billing: billing.set_key_cap(key_id, cap))
    if json_out:
        print_json(key_json(key, spent))
        return
    shown = "no cap" if key.spend_cap is None else f"a spend cap of {money(key.spend_cap)}"
    print(f"key {key.id} ({key.name}) has {shown}; it has spent {money(spent)}")


@app.command("limits")
def set_limits(
    key_id: Annotated[str, typer.Argument(help="The key's id (key_...).", show_default=False)],
    requests_per_minute: RequestsOption = None,
    creates_per_minute: CreatesOption = None,
    active_videos: ActiveOption = None,
    spend_per_day: SpendOption = None,
    json_out: JsonOption = False,
) -> None:
    """Set or clear a key's own limits (it is held to its tenant's too; docs/limits.md)."""
    from vidugate.services.limits import update_key_limits

    changes = changes_of(requests_per_minute, creates_per_minute, active_videos, spend_per_day)

    async def run(billing: Billing) -> tuple[ApiKey, Decimal]:
        key = await update_key_limits(billing.keys, key_id, changes)
        return key, await billing.keys.keys.spent(key.id)

    key, spent = with_billing(run)
    if json_out:
        print_json(key_json(key, spent))
        return
    print(f"key {key.id} ({key.name}): {limits_text(key.limits)}")


@app.command()
def revoke(key: Annotated[str, typer.Argument(help="The key's id or prefix.")]) -> None:
    """Revoke a key; requests with it are refused from then on (other processes: within
    VIDUGATE_KEY_CACHE_SECONDS), and its queued videos are cancelled and refunded."""
    revoked = _with_keys(lambda keys: keys.revoke(key))
    if not revoked:
        print(f"no active key with id or prefix {key!r}", file=sys.stderr)
        raise typer.Exit(1)
    for item in revoked:
        print(f"revoked {item.id} ({item.name})", file=sys.stderr)
