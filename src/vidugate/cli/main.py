"""`vidugate`: serve, migrate, keys, generate."""

from __future__ import annotations

import typer

from vidugate.cli import accounts, emulate, generate, keys, serve

app = typer.Typer(
    name="vidugate",
    help="Video generation gateway: the Vidu video API, OpenAI-compatible.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve.serve)
app.command("migrate")(serve.migrate_command)
app.command("generate")(generate.generate)
app.command("emulate-vidu")(emulate.emulate)
app.add_typer(keys.app, name="keys")
app.command("accounts")(accounts.accounts)


def main() -> None:
    app()
