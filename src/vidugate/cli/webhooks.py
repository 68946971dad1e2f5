"""`vidugate webhooks`: a tenant's webhook endpoints and their delivery log, on the database
directly (no server needed; a running server's deliverer sends what waits). The same
service as the API's (services/webhooks.py), so the same checks (docs/webhooks.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from vidugate.cli.listen import listen
from vidugate.cli.money import JsonOption, print_json, refused_as_exit, show, when
from vidugate.cli.preflight import settings_or_exit, with_database

if TYPE_CHECKING:
    from vidugate.services.webhooks import WebhookService
    from vidugate.settings import Settings
    from vidugate.store.db import Database
    from vidugate.store.webhook_outbox import WebhookOutbox

app = typer.Typer(
    help="Manage tenants' webhook endpoints and read their delivery log.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.command()(listen)
T = TypeVar("T")
EndpointArg = Annotated[
    str, typer.Argument(help="The endpoint's id (whep_...).", show_default=False)
]


def _with_webhooks(action: Callable[[WebhookService], Awaitable[T]]) -> T:
    from vidugate.clock import SystemClock
    from vidugate.files.private import use_private_umask
    from vidugate.net.webhook_sender import WebhookSender
    from vidugate.services.webhook_signing import WebhookSigner
    from vidugate.services.webhooks import WebhookService
    from vidugate.store.tenants import TenantRepository
    from vidugate.store.webhook_endpoints import EndpointRepository
    from vidugate.store.webhook_log import WebhookLog

    settings = settings_or_exit()
    use_private_umask()

    async def run(database: Database) -> T:
        sender = WebhookSender(
            settings.fetch_policy, timeout=settings.webhook_timeout_seconds, answer_bytes=0
        )
        service = WebhookService(
            EndpointRepository(database),
            webhook_outbox(database, settings),
            WebhookLog(database),
            TenantRepository(database),
            sender,
            WebhookSigner(settings.signing_key()),
            clock=SystemClock(),
        )
        try:
            return await refused_as_exit(action(service))
        finally:
            await sender.close()

    return with_database(settings, run)


def webhook_outbox(database: Database, settings: Settings) -> WebhookOutbox:
    """The outbox the CLI's task changes (a revoke's cancels) write their events to, as a
    server's would; a running server's deliverer sends them."""
    from vidugate.api.webhook_bodies import webhook_bodies
    from vidugate.services.signing import UrlSigner
    from vidugate.store.webhook_outbox import WebhookOutbox

    signer = UrlSigner(settings.signing_key(), settings.signed_url_ttl_seconds)
    return WebhookOutbox(database, webhook_bodies(settings, signer))


def _endpoint_json(endpoint: Any, secret: str | None = None) -> dict[str, Any]:
    from vidugate.api.webhooks.schemas import endpoint_created, endpoint_object

    if secret is not None:
        return endpoint_created(endpoint, secret).model_dump()
    return endpoint_object(endpoint).model_dump()


@app.command()
def add(
    tenant: Annotated[str, typer.Argument(help="The tenant's id.", show_default=False)],
    url: Annotated[str, typer.Argument(help="http(s) URL to POST to.", show_default=False)],
    event: Annotated[
        list[str] | None,
        typer.Option("--event", help="An event it gets (repeat); none: every event."),
    ] = None,
    description: Annotated[str, typer.Option(help="A note for people.")] = "",
    json_out: JsonOption = False,
) -> None:
    """Register an endpoint for a tenant's video events; prints its signing secret."""

    async def action(service: WebhookService) -> dict[str, Any]:
        endpoint, secret = await service.create(tenant, url, event, description)
        return _endpoint_json(endpoint, secret)

    made = _with_webhooks(action)
    if json_out:
        print_json(made)
        return
    print(f"{made['id']}  {made['url']}  events: {', '.join(made['events'])}")
    print(f"secret: {made['secret']}  (verify deliveries with it: docs/webhooks.md)")


@app.command("list")
def list_(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's.")] = None,
    json_out: JsonOption = False,
) -> None:
    """Endpoints, oldest first."""

    async def action(service: WebhookService) -> list[dict[str, Any]]:
        return [_endpoint_json(e) for e in await service.of_tenant(tenant)]

    found = _with_webhooks(action)
    if json_out:
        print_json(found)
        return
    from rich.table import Table

    table = Table("id", "tenant", "url", "events", "state", "created")
    for e in found:
        state = "disabled" if e["disabled"] else "enabled"
        table.add_row(
            e["id"], e["tenant_id"], e["url"], ", ".join(e["events"]), state, when(e["created_at"])
        )
    show(table)


@app.command()
def remove(endpoint: EndpointArg) -> None:
    """Delete an endpoint (what still waits for it is dropped)."""

    async def action(service: WebhookService) -> None:
        await service.delete(endpoint)

    _with_webhooks(action)
    print(f"removed {endpoint}")


@app.command()
def deliveries(
    endpoint: EndpointArg,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many tries.")] = 20,
    json_out: JsonOption = False,
) -> None:
    """An endpoint's newest delivery tries."""

    async def action(service: WebhookService) -> list[dict[str, Any]]:
        from vidugate.api.webhooks.schemas import attempt_list

        page = await service.deliveries(tenant_id=None, endpoint_id=endpoint, limit=limit)
        return [a.model_dump() for a in attempt_list(page, limit).data]

    tries = _with_webhooks(action)
    if json_out:
        print_json(tries)
        return
    from rich.table import Table

    table = Table("at", "message", "event", "task", "try", "status", "ms", "error")
    for t in tries:
        status = "-" if t["status"] is None else str(t["status"])
        table.add_row(
            when(t["at"]), t["message_id"], t["event"], t["task_id"], str(t["attempt"]),
            status, str(t["duration_ms"]), t["error"] or "",
        )  # fmt: skip
    show(table)


@app.command()
def redeliver(
    message: Annotated[str, typer.Argument(help="The message's id (msg_...).", show_default=False)],
) -> None:
    """Send a message again (a running server's deliverer sends it within a poll)."""

    async def action(service: WebhookService) -> str:
        return (await service.redeliver(message)).state.value

    state = _with_webhooks(action)
    print(f"{message}: {state}, to be sent again now")
