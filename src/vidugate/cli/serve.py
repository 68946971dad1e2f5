"""`vidugate serve` and `vidugate migrate`."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vidugate.cli.preflight import check_serve, exit_with, settings_or_exit, with_database
from vidugate.roles import Role

if TYPE_CHECKING:  # imported when run: `vidugate --help` starts faster without them
    from pathlib import Path

    from vidugate.settings import Settings
    from vidugate.store.db import Database

# With keys already made, a start prints none (only their hashes are stored): this says how
# to make another. `uv run`, as in the README: in a clone, vidugate is not on the PATH.
KEYS_HINT = "uv run vidugate keys create --name NAME"
# Kept above the connection cap: the process also holds files, database connections and
# render pipes.
SPARE_FILES = 256
# Requests in flight get this long at a stop; then the workers' own grace runs (lifespan).
GRACEFUL_SHUTDOWN_SECONDS = 10


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
                "  -F model=viduq3-pro -F 'prompt=A cat chasing butterflies' -F duration=5\n\n"
                "or paste the key into the playground, in a browser:\n"
                f"{base}/",
                title="Your first API key",
                border_style="green",
            )
        )
    else:
        err.print(f"Keys are shown only when made, so none is printed now; another: {KEYS_HINT}")
    if settings.role is not Role.WORKER:
        err.print(
            f"playground: {base}/   console: {base}/console (an admin key: "
            f"vidugate keys create --admin)   API docs: {base}/docs"
        )
    err.print(
        f"vidugate on {base}  provider={settings.provider}  role={settings.role.value}  "
        f"processes={settings.processes}  database={_database_kind(settings)}  "
        f"data={settings.data_dir.resolve()}"
    )


def uvicorn_options(settings: Settings, *, access_log: bool) -> dict[str, Any]:
    """What `serve` gives uvicorn beyond the app (the in-process test tier uses the same)."""
    from vidugate.api.connections import ConnectionLimits, guarded_protocol

    limits = ConnectionLimits(settings.head_timeout_seconds, settings.max_connections)
    return {
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
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS,
        # uvicorn's loggers write through the gateway's handler (logs.py), set up by the
        # app: one format on stderr, JSON lines included.
        "log_config": None,
    }


def _run(settings: Settings, *, access_log: bool) -> None:
    import uvicorn

    from vidugate.app import create_app
    from vidugate.logs import configure

    _raise_open_files_limit(settings.max_connections + SPARE_FILES)
    options = uvicorn_options(settings, access_log=access_log)
    if settings.processes == 1:
        uvicorn.run(create_app(settings), **options)
        return
    configure(settings.log_level, settings.log_format)  # the supervisor's own lines
    if settings.metrics:
        from vidugate.metrics import use_multiprocess_dir

        # Before the processes start: each writes its counters there from its first one.
        use_multiprocess_dir(settings.metrics_dir)

    # Each process is a fresh interpreter (uvicorn spawns them, and supervises them: one
    # that dies is replaced, its leases taken over meanwhile). The settings object itself
    # goes to each, pickled with uvicorn's config as the app factory's argument: the
    # environment is read once, here, and every process runs what was checked above.
    config = uvicorn.Config(
        functools.partial(create_app, settings),
        factory=True,
        workers=settings.processes,
        # Each process imports the media stack and preloads the renderer before it answers
        # uvicorn's health check: on a busy machine that takes longer than uvicorn's default
        # 5 s, and it would be killed and started again.
        timeout_worker_healthcheck=60,
        **options,
    )
    # What uvicorn.run does for several processes, which it allows only for an app given
    # as an import string (a fresh import in each process, configured from the environment).
    supervisor = _supervisor(settings.metrics_dir if settings.metrics else None)
    supervisor(config, sockets=[config.bind_socket()]).run()


def _supervisor(metrics_dir: Path | None) -> type[Any]:
    from uvicorn.supervisors import Multiprocess

    from vidugate.metrics import process_gone

    class Supervisor(Multiprocess):
        """uvicorn's supervisor, which keeps its copy of each child's end of the health-check
        pipe open: a child killed while a ping to it is in flight then leaves the supervisor
        waiting out the whole health-check time (60 s) before it starts a replacement. With
        the copy closed once the child has its own, the child's death ends the wait at once.
        A child replaced is reported to the metrics' bookkeeping (metrics/exposition.py)."""

        def init_processes(self) -> None:
            super().init_processes()
            self._close_child_ends()

        def keep_subprocess_alive(self) -> None:
            before = {process.pid for process in self.processes}
            super().keep_subprocess_alive()
            self._close_child_ends()
            if metrics_dir is not None:
                for pid in before - {process.pid for process in self.processes}:
                    if pid is not None:
                        process_gone(pid, metrics_dir)

        def _close_child_ends(self) -> None:
            for process in self.processes:
                if not process.child_conn.closed:
                    process.child_conn.close()

    return Supervisor


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
