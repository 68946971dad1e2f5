"""`vidugate`: serve, migrate, keys, tenants, prices, ledger, webhooks, generate.

Every command module imports only Typer and the standard library at the top; what a command
needs (the web stack, SQLAlchemy, PyAV, httpx, Rich) it imports when it runs. So `--help`
and `generate` start without the server's imports (tests/cli/test_startup.py guards it).
Help is plain text (no Rich markup mode): Rich's help formatter alone imports Markdown and
syntax highlighting, more than the rest of `--help` together."""

from __future__ import annotations

import typer

from vidugate.cli import (
    accounts,
    console,
    emulate,
    generate,
    keys,
    ledger,
    prices,
    reports,
    serve,
    tenants,
    webhooks,
)

app = typer.Typer(
    name="vidugate",
    help="Video generation gateway: the Vidu video API, OpenAI-compatible.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command("serve")(serve.serve)
app.command("migrate")(serve.migrate_command)
app.command("generate")(generate.generate)
app.command("emulate-vidu")(emulate.emulate)
app.add_typer(keys.app, name="keys")
app.add_typer(tenants.app, name="tenants")
app.add_typer(prices.app, name="prices")
app.add_typer(ledger.app, name="ledger")
app.add_typer(webhooks.app, name="webhooks")
app.command("usage")(reports.usage)
app.command("margin")(reports.margin)
app.command("accounts")(accounts.accounts)
app.add_typer(console.upstream_app, name="upstream")
app.add_typer(console.videos_app, name="videos")


def main() -> None:
    app()
