"""`vidugate serve` and `vidugate migrate`."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vidugate.cli.preflight import check_serve, exit_with, settings_or_exit, with_database
from vidugate.roles import Role

if TYPE_CHECKING:  # imported when run: `vidugate --help` starts faster without them
    from vidugate.settings import Settings
    from vidugate.store.db import Database

# With keys already made, a start prints none (only their hashes are stored): this says how
# to make another. `uv run`, as in the README: in a clone, vidugate is not on the PATH.
KEYS_HINT = "uv run vidugate keys create --name NAME"
# Kept above the connection cap: the process also holds files, database connections and
# render pipes.
SPARE_FILES = 256


async def _first_key(database: Database) -> str | None:
    """On a gateway with no keys yet, make the first one (returned, to be shown once)."""
    from vidugate.services.keys import KeyService
    from vidugate.store.keys import KeyRepository

    keys = KeyService(KeyRepository(database))
    if await keys.count_active() > 0:
        return None
    _key, token = await keys.create("default")
    return token


def open_data(settings: Settings) -> None:
    """Make the data dir private (files/private.py) before anything is created in it."""
    from vidugate.files.private import make_private, use_private_umask
    from vidugate.store.db import sqlite_file

    use_private_umask()
    make_private(settings.data_dir, sqlite_file(settings.resolved_database_url))


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
    overrides = {"host": host, "port": port, "role": role, "processes": processes}
    settings = settings_or_exit(
        database=False, **{k: v for k, v in overrides.items() if v is not None}
    )
    # The whole configuration first: nothing is created (database, secret, key) for a
    # gateway that cannot start.
    if problem := check_serve(settings):
        raise exit_with(problem)
    open_data(settings)
    # Before any process starts: they then share a migrated schema and one signing secret.
    token = with_database(settings, _first_key)
    settings.signing_key()
    _announce(settings, token)
    _run(settings, access_log=access_log)


def _announce(settings: Settings, token: str | None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.panel import Panel

    # soft_wrap: lines a person copies are not broken at the terminal's width.
    err = Console(stderr=True, soft_wrap=True)
    base = settings.public_base_url or f"http://{settings.host}:{settings.port}"
    if token is not None:
        # On stdout, alone and first, for scripts that start the gateway and read the key;
        # as a shell line, so that pasting it is all a person has to do.
        print(f"export VIDUGATE_API_KEY={token}", flush=True)
        err.print(
            Panel.fit(
                "Shown once (only its hash is stored). Paste this line into your shell:\n\n"
                f"[bold]export VIDUGATE_API_KEY={escape(token)}[/bold]\n\n"
                "then try:\n"
                f"curl {base}/v1/videos \\\n"
                '  -H "Authorization: Bearer $VIDUGATE_API_KEY" \\\n'
                "  -F model=viduq3-pro -F 'prompt=A cat chasing butterflies' -F duration=5",
                title="Your first API key",
                border_style="green",
            )
        )
    else:
        err.print(f"Keys are shown only when made, so none is printed now; another: {KEYS_HINT}")
    err.print(
        f"vidugate on {base}  provider={settings.provider}  role={settings.role.value}  "
        f"processes={settings.processes}  database={_database_kind(settings)}  "
        f"data={settings.data_dir.resolve()}"
    )


def _run(settings: Settings, *, access_log: bool) -> None:
    import uvicorn

    from vidugate.api.connections import ConnectionLimits, guarded_protocol

    _raise_open_files_limit(settings.max_connections + SPARE_FILES)
    limits = ConnectionLimits(settings.head_timeout_seconds, settings.max_connections)
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "access_log": access_log,
        "loop": "uvloop",
        # uvicorn's httptools protocol with a time limit on request heads and a connection
        # cap (api/connections.py); idle keep-alive connections close after their own limit.
        "http": guarded_protocol(limits),
        "ws": "none",
        "timeout_keep_alive": settings.keep_alive_seconds,
        # Requests in flight get this long; then the workers' own grace runs (lifespan).
        "timeout_graceful_shutdown": 10,
    }
    if settings.processes == 1:
        from vidugate.app import create_app

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


def _raise_open_files_limit(wanted: int) -> None:
    """Each connection is a file descriptor: lift the soft limit (often 1024) toward the
    hard one, so the connection cap, not the descriptor limit, is what clients meet."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        if target > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _database_kind(settings: Settings) -> str:
    url = settings.resolved_database_url
    return "sqlite" if url.startswith("sqlite") else url.split("://", 1)[0].split("+", 1)[0]


def migrate_command() -> None:
    """Bring the database schema up to date (serve does this at start, too)."""
    from rich.console import Console

    from vidugate.files.private import use_private_umask

    settings = settings_or_exit()
    use_private_umask()  # a SQLite database made here is private too

    async def nothing(_database: Database) -> None:
        return None

    with_database(settings, nothing)
    Console(stderr=True).print("database is up to date")
