"""The limit options shared by `vidugate keys limits` and `vidugate tenants limits`: a
value sets a limit, `none` clears it (the settings' default applies again), an option not
given leaves it as it is (docs/limits.md)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer

from vidugate.cli.money import EXIT_USAGE, amount_arg, money
from vidugate.cli.preflight import exit_with
from vidugate.domain.limits import LimitKind

if TYPE_CHECKING:
    from vidugate.domain.limits import Limits

_HELP = 'A number; "none" clears it (the VIDUGATE_LIMIT_* default applies again).'
RequestsOption = Annotated[
    str | None, typer.Option("--requests-per-minute", help=f"Calls per minute. {_HELP}")
]
CreatesOption = Annotated[
    str | None, typer.Option("--creates-per-minute", help=f"Creates per minute. {_HELP}")
]
ActiveOption = Annotated[
    str | None,
    typer.Option("--active-videos", help=f"Unfinished videos at once. {_HELP}"),
]
SpendOption = Annotated[
    str | None,
    typer.Option("--spend-per-day", help=f"Spend per UTC day (an exact amount). {_HELP}"),
]


def changes_of(
    requests: str | None, creates: str | None, active: str | None, spend: str | None
) -> dict[LimitKind, int | Decimal | None]:
    """The changes the options ask for; none at all is a usage error."""
    out: dict[LimitKind, int | Decimal | None] = {}
    for kind, given in (
        (LimitKind.REQUESTS_PER_MINUTE, requests),
        (LimitKind.CREATES_PER_MINUTE, creates),
        (LimitKind.ACTIVE_VIDEOS, active),
        (LimitKind.SPEND_PER_DAY, spend),
    ):
        if given is None:
            continue
        option = "--" + kind.value.replace("_", "-")
        if given.strip().lower() == "none":
            out[kind] = None
        elif kind is LimitKind.SPEND_PER_DAY:
            out[kind] = amount_arg(given, option)
        else:
            try:
                out[kind] = int(given)
            except ValueError:
                raise exit_with(
                    f"{option} takes a whole number or none; got {given!r}.", EXIT_USAGE
                ) from None
    if not out:
        raise exit_with(
            "Give at least one of --requests-per-minute, --creates-per-minute, "
            "--active-videos, --spend-per-day.",
            EXIT_USAGE,
        )
    return out


def limits_text(limits: Limits) -> str:
    """One line: each limit of its own, or "default"."""
    parts = []
    for kind in LimitKind:
        value = getattr(limits, kind.value)
        shown = "default" if value is None else (
            money(value) if kind is LimitKind.SPEND_PER_DAY else str(value)
        )  # fmt: skip
        parts.append(f"{kind.words}: {shown}")
    return "; ".join(parts)
