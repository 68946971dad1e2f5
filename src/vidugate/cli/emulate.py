"""`vidugate emulate-vidu`: run the Vidu platform emulator (vidugate.emulator) on a port.

The emulator's control API (/_emulator/...: faults, credits, finishing and failing tasks)
has no authentication and shares the port with the Vidu API, so it binds where --host
says (loopback by default) and warns when that is not loopback."""

from __future__ import annotations

import ipaddress
import sys
from dataclasses import fields
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:  # imported when run: the other commands start faster without the emulator
    from vidugate.emulator import Faults

DEFAULT_KEY = "vidu-emulator-key"
DEFAULT_CREDITS = 1_000_000.0


class ResultMode(StrEnum):
    RENDER = "render"
    FIXED = "fixed"


def _accounts(keys: list[str]) -> dict[str, float]:
    accounts: dict[str, float] = {}
    for item in keys or [DEFAULT_KEY]:
        key, sep, credits = item.partition(":")
        try:
            accounts[key] = float(credits) if sep else DEFAULT_CREDITS
        except ValueError:
            raise typer.BadParameter(f"{item!r}: expected KEY or KEY:CREDITS") from None
    return accounts


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: where it resolves is not known here


def _faults(items: list[str]) -> Faults:
    from vidugate.emulator import Faults
    from vidugate.emulator.config import apply_changes

    faults = Faults()
    kinds = {f.name: type(getattr(faults, f.name)) for f in fields(Faults)}
    changes: dict[str, object] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or name not in kinds:
            raise typer.BadParameter(f"{item!r}: expected NAME=VALUE, NAME one of {sorted(kinds)}")
        try:
            changes[name] = kinds[name](text)
        except ValueError:
            raise typer.BadParameter(f"{item!r}: not a valid {kinds[name].__name__}") from None
    try:
        apply_changes(faults, changes)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return faults


def emulate(
    port: Annotated[int, typer.Option(help="Port to listen on.")],
    host: Annotated[
        str,
        typer.Option(
            help="Bind address. The /_emulator control API on the same port has no "
            "authentication: keep it on loopback unless the network is yours."
        ),
    ] = "127.0.0.1",
    key: Annotated[
        list[str] | None,
        typer.Option(help="An API key, KEY or KEY:CREDITS; repeatable.", show_default=False),
    ] = None,
    process_seconds: Annotated[
        float | None, typer.Option(help="Seconds each task spends processing [2].")
    ] = None,
    queue_seconds: Annotated[
        float | None, typer.Option(help="Minimum seconds in created/queueing [0.5].")
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(help="Tasks processing at once per account [5].")
    ] = None,
    result_ttl: Annotated[
        float | None, typer.Option(help="Seconds result URLs stay valid [86400].")
    ] = None,
    result_mode: Annotated[
        ResultMode, typer.Option(help="render: real MP4 per task; fixed: one tiny MP4.")
    ] = ResultMode.RENDER,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            help="A fault, NAME=VALUE (e.g. error_5xx=0.1); repeatable.", show_default=False
        ),
    ] = None,
    public_base_url: Annotated[
        str | None, typer.Option(help="Base of result URLs (default: from each request).")
    ] = None,
) -> None:
    """Emulate the Vidu platform API (/ent/v2/...) for tests and offline development."""
    from vidugate.emulator import EmulatorConfig, create_emulator
    from vidugate.emulator.config import apply_changes

    timings = {
        "process_seconds": process_seconds,
        "queue_seconds": queue_seconds,
        "concurrency": concurrency,
        "result_ttl": result_ttl,
    }
    config = EmulatorConfig(
        accounts=_accounts(key or []),
        result_mode=result_mode.value,
        public_base_url=public_base_url.rstrip("/") if public_base_url else None,
        faults=_faults(fault or []),
    )
    try:
        apply_changes(config, {name: value for name, value in timings.items() if value is not None})
        app = create_emulator(config)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if not _loopback(host):
        print(
            f"warning: the /_emulator control API (faults, credits, task control) has no "
            f"authentication and is served on {host}:{port} with the Vidu API",
            file=sys.stderr,
        )
    # Machine-readable lines on stdout, for scripts that start the emulator.
    print(f"VIDU_BASE_URL=http://{host}:{port}", flush=True)
    for api_key, credits in config.accounts.items():
        print(f"VIDU_API_KEY={api_key}", flush=True)
        print(f"key {api_key}: {credits:g} credits", file=sys.stderr)
    import uvicorn  # here: the other commands start faster without it

    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
    )
