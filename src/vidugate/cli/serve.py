"""`vidugate serve` and `vidugate migrate`."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.panel import Panel

from vidugate.services.keys import KeyService
from vidugate.settings import Role, Settings
from vidugate.store.db import is_sqlite, open_database
from vidugate.store.keys import KeyRepository

err = Console(stderr=True)


async def _prepare(settings: Settings) -> str | None:
    """Migrate; on a gateway with no keys yet, make the first one (returned, shown once)."""
    async with open_database(settings.resolved_database_url) as database:
        keys = KeyService(KeyRepository(database))
        if await keys.count_active() > 0:
            return None
        _key, token = await keys.create("default")
        return token


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address [VIDUGATE_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [VIDUGATE_PORT].")] = None,
    role: Annotated[Role | None, typer.Option(help="all, api or worker [VIDUGATE_ROLE].")] = None,
    processes: Annotated[
        int | None, typer.Option(min=1, help="Processes on this port [VIDUGATE_PROCESSES].")
    ] = None,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = False,
) -> None:
    """Start the gateway (API and workers) on the embedded defaults or VIDUGATE_* settings."""
    overrides = {
        name: value
        for name, value in {
            "host": host,
            "port": port,
            "role": role,
            "processes": processes,
        }.items()
        if value is not None
    }
    settings = Settings().model_copy(update=overrides)
    # Before any process starts: they then share one signing secret and a migrated schema.
    settings.signing_key()
    token = asyncio.run(_prepare(settings))
    base = settings.public_base_url or f"http://{settings.host}:{settings.port}"
    if token is not None:
        err.print(
            Panel.fit(
                f"[bold]{token}[/bold]\n\n"
                "Shown once; it is stored only as a hash. Try it:\n"
                f"curl {base}/v1/videos -H 'Authorization: Bearer {token}' \\\n"
                "  -F model=viduq3-pro -F 'prompt=A cat chasing butterflies' -F duration=5",
                title="Your first API key",
                border_style="green",
            )
        )
        # Also on stdout, alone, for scripts that start the gateway and read the key.
        print(f"VIDUGATE_API_KEY={token}", flush=True)
    err.print(
        f"vidugate on {base}  provider={settings.provider}  role={settings.role.value}  "
        f"processes={settings.processes}  database={_database_kind(settings)}  "
        f"data={settings.data_dir.resolve()}"
    )
    # Imported here: the other commands start faster without the web stack.
    import uvicorn

    from vidugate.app import create_app

    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "access_log": access_log,
        "loop": "uvloop",
        "http": "httptools",
        # Requests in flight get this long; then the workers' own grace runs (lifespan).
        "timeout_graceful_shutdown": 10,
    }
    if settings.processes == 1:
        uvicorn.run(create_app(settings), **options)
        return
    # Each process builds its app from the environment (uvicorn imports the factory there),
    # so the command line's choices travel as VIDUGATE_* variables. uvicorn supervises them:
    # a process that dies is replaced, and its leases are taken over meanwhile.
    os.environ.update(
        {
            "VIDUGATE_HOST": settings.host,
            "VIDUGATE_PORT": str(settings.port),
            "VIDUGATE_ROLE": settings.role.value,
            "VIDUGATE_DATABASE_URL": settings.resolved_database_url,
            "VIDUGATE_DATA_DIR": str(settings.data_dir.resolve()),
        }
    )
    uvicorn.run(
        "vidugate.app:app_from_env",
        factory=True,
        workers=settings.processes,
        # Each process is a fresh interpreter that imports the media stack and preloads the
        # renderer before it answers uvicorn's health check: on a busy machine that takes
        # longer than uvicorn's default 5 s, and it would be killed and started again.
        timeout_worker_healthcheck=60,
        **options,
    )


def _database_kind(settings: Settings) -> str:
    url = settings.resolved_database_url
    return "sqlite" if is_sqlite(url) else url.split("://", 1)[0].split("+", 1)[0]


def migrate_command() -> None:
    """Bring the database schema up to date (serve does this at start, too)."""

    async def run() -> None:
        async with open_database(Settings().resolved_database_url):
            pass

    asyncio.run(run())
    err.print("database is up to date")
