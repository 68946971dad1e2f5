"""The configuration, checked before a command creates anything.

`vidugate serve` reads every setting, then checks the whole configuration: the provider is
one the gateway has and is configured, the Vidu accounts (and the accounts file) can be read
and are valid, the database URL is one of the two supported drivers, the data dir can be
written, the port can be bound. Only then does it migrate the database, write the signing
secret or make a first key. A problem is one line on stderr and exit status 2, never a
traceback (a database that cannot be reached: one line and status 1); the commands that
only open the database (`migrate`, `keys`, `accounts`) check the settings and the database
URL the same way."""

from __future__ import annotations

import os
import re
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

if TYPE_CHECKING:  # imported when a command runs: `vidugate --help` starts faster without
    from pydantic import ValidationError

    from vidugate.settings import Settings, ViduAccountSettings
    from vidugate.store.db import Database

EXIT_CONFIG = 2
EXIT_DATABASE = 1
T = TypeVar("T")
DATABASE_URLS = "sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST:PORT/DB"
SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
# Values of these are never echoed in a message: they are, or may hold, credentials.
_SECRET_PARTS = ("key", "secret", "password", "database_url")


class ConfigurationError(Exception):
    """A setting that cannot work; its message is the one line the user sees."""


def exit_with(message: str, code: int = EXIT_CONFIG) -> typer.Exit:
    """Print message as one line on stderr; the Exit to raise."""
    print(f"vidugate: {' '.join(message.split())}", file=sys.stderr, flush=True)
    return typer.Exit(code)


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment (and the command line's overrides, validated alike)."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from vidugate.settings import Settings

    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigurationError(describe(exc, "VIDUGATE_")) from None
    except SettingsError as exc:
        raise ConfigurationError(_unparsable(exc)) from None


def settings_or_exit(*, database: bool = True, **overrides: Any) -> Settings:
    """The settings, or one line and exit status 2; with database, the database URL
    checked too (what the commands that only open the database need)."""
    try:
        settings = load_settings(**overrides)
    except ConfigurationError as exc:
        raise exit_with(str(exc)) from None
    if database and (problem := database_problem(settings)):
        raise exit_with(problem)
    return settings


def describe(exc: ValidationError, prefix: str, *, env: bool = True) -> str:
    """A pydantic ValidationError as one line that names the settings at fault (env: as
    VIDUGATE_* variables; otherwise as the fields of what was validated)."""
    parts = []
    for error in exc.errors():
        loc = [str(item) for item in error.get("loc", ())]
        msg = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        if not loc:  # a check across fields: its message names them
            parts.append(msg)
            continue
        name = (
            prefix
            + (loc[0].upper() if env else loc[0])
            + "".join(f"[{item}]" if item.isdigit() else f".{item}" for item in loc[1:])
        )
        value = error.get("input")
        secret = any(part in item.lower() for item in loc for part in _SECRET_PARTS)
        if isinstance(value, str | int | float) and not secret and error.get("type") != "missing":
            shown = repr(value) if len(str(value)) <= 60 else repr(str(value)[:57] + "...")
            msg = f"{msg} (got {shown})"
        parts.append(f"{name}: {msg}")
    return "; ".join(parts)


def _unparsable(exc: Exception) -> str:
    # pydantic-settings says 'error parsing value for field "x" from source "..."'.
    found = re.search(r'field "([a-z0-9_]+)"', str(exc))
    name = f"VIDUGATE_{found.group(1).upper()}" if found else "a VIDUGATE_* setting"
    cause = f" ({exc.__cause__})" if exc.__cause__ else ""
    return f"{name}: not valid JSON{cause}"


def check_serve(settings: Settings) -> str | None:
    """The first problem that would stop `vidugate serve`, or None."""
    return (
        _provider_problem(settings)
        or _prices_problem(settings)
        or _url_problem("VIDUGATE_PUBLIC_BASE_URL", settings.public_base_url)
        or _writable_problem("VIDUGATE_DATA_DIR", settings.data_dir)
        or database_problem(settings)
        or _port_problem(settings.host, settings.port)
    )


def _prices_problem(settings: Settings) -> str | None:
    from vidugate.domain.price_documents import load_prices
    from vidugate.domain.prices import PriceTableError

    if settings.prices_file is None:
        return None
    try:
        load_prices(settings.prices_file)
    except PriceTableError as exc:
        return f"VIDUGATE_PRICES_FILE: {exc.message}"  # the message names the entry
    return None


def _provider_problem(settings: Settings) -> str | None:
    from vidugate.providers import PROVIDER_IDS

    if settings.provider not in PROVIDER_IDS:
        return (
            f"VIDUGATE_PROVIDER={settings.provider!r} is not a provider; "
            f"use one of: {', '.join(PROVIDER_IDS)}"
        )
    # Read whatever the provider: the gateway builds every configured account at start.
    try:
        accounts = vidu_accounts(settings)
    except ConfigurationError as exc:
        return str(exc)
    if settings.provider == "vidu" and not accounts:
        return (
            "VIDUGATE_PROVIDER=vidu needs a Vidu account: set VIDUGATE_VIDU_API_KEY, "
            "VIDUGATE_VIDU_ACCOUNTS or VIDUGATE_VIDU_ACCOUNTS_FILE"
        )
    return None


def vidu_accounts(settings: Settings) -> list[ViduAccountSettings]:
    """Every configured Vidu account, checked: the accounts file read and parsed, each id
    once, each base URL an http(s) URL."""
    from pydantic import ValidationError

    path = settings.vidu_accounts_file
    try:
        accounts = settings.all_vidu_accounts()
    except OSError as exc:
        raise ConfigurationError(
            f"VIDUGATE_VIDU_ACCOUNTS_FILE: cannot read {path}: {exc.strerror or exc}"
        ) from None
    except ValidationError as exc:
        raise ConfigurationError(
            f"VIDUGATE_VIDU_ACCOUNTS_FILE: {path}: {describe(exc, 'account ', env=False)}"
        ) from None
    except (ValueError, TypeError, AttributeError) as exc:
        kind = "TOML" if path is not None and path.suffix == ".toml" else "JSON"
        raise ConfigurationError(
            f"VIDUGATE_VIDU_ACCOUNTS_FILE: {path} is not a {kind} list of accounts ({exc})"
        ) from None
    seen: set[str] = set()
    for account in accounts:
        if account.id in seen:
            raise ConfigurationError(
                f"Vidu account id {account.id!r} is given twice; each account needs its own"
            )
        seen.add(account.id)
        if problem := _url_problem(f"Vidu account {account.id!r} base_url", account.base_url):
            raise ConfigurationError(problem)
    return accounts


def _url_problem(name: str, url: str | None) -> str | None:
    from urllib.parse import urlsplit

    if url is None:
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (a port that is not a number raises here)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{name}: {url!r} is not an http(s) URL"
    return None


def database_problem(settings: Settings) -> str | None:
    """Why the configured database cannot be the gateway's, or None."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if settings.database_url is None:  # SQLite in the data dir
        return _writable_problem("VIDUGATE_DATA_DIR", settings.data_dir)
    url = settings.database_url
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return f"VIDUGATE_DATABASE_URL is not a database URL; expected {DATABASE_URLS}"
    shown = parsed.render_as_string(hide_password=True)
    if parsed.drivername not in SUPPORTED_DRIVERS:
        return (
            f"VIDUGATE_DATABASE_URL: driver {parsed.drivername!r} ({shown}) is not supported; "
            f"use {DATABASE_URLS}"
        )
    if parsed.drivername.startswith("sqlite"):
        if not parsed.database or parsed.database == ":memory:":
            return f"VIDUGATE_DATABASE_URL: {shown} names no database file; use {DATABASE_URLS}"
        return _writable_problem("VIDUGATE_DATABASE_URL", Path(parsed.database).parent)
    if not parsed.database:
        return f"VIDUGATE_DATABASE_URL: {shown} names no database; use {DATABASE_URLS}"
    return None


def _writable_problem(name: str, path: Path) -> str | None:
    """Whether path is (or can be made) a directory this process can write in."""
    probe = path.absolute()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        return f"{name}: {probe} is not a directory, so {path} cannot be one"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"{name}: {probe} is not writable by this user"
    return None


def _port_problem(host: str, port: int) -> str | None:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        return f"VIDUGATE_HOST: cannot resolve {host!r} ({exc.strerror or exc})"
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        # As uvicorn binds: a port left in TIME_WAIT by a previous run is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            return f"VIDUGATE_PORT: cannot listen on {host}:{port} ({exc.strerror or exc})"
    return None


def with_database(settings: Settings, action: Callable[[Database], Awaitable[T]]) -> T:
    """action on the (migrated) database; one that cannot be reached, or refuses the
    gateway, is one line and exit status 1."""
    import asyncio

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    from vidugate.errors import DatabaseUnavailableError
    from vidugate.store.db import open_database

    url = settings.resolved_database_url

    async def run() -> T:
        async with open_database(url, settings.database_pool_size) as database:
            return await action(database)

    try:
        return asyncio.run(run())
    except (DBAPIError, DatabaseUnavailableError, OSError, TimeoutError) as exc:
        cause = getattr(exc, "orig", None) or exc.__cause__ or exc
        reason = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        shown = make_url(url).render_as_string(hide_password=True)
        raise exit_with(f"cannot open the database {shown}: {reason}", EXIT_DATABASE) from None
