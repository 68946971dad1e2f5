"""`vidugate prices show|set|check`: the price table clients pay by (prices.example.toml).

`set` stores a table in the database, where every process of the gateway reads it (within
a few seconds); `check` only reads the file, and quotes every model at its defaults so the
operator sees what clients will pay before setting it. A table that cannot be used is one
line naming the file and the entry at fault, and exit status 1."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vidugate.cli.money import (
    EXIT_REFUSED,
    JsonOption,
    iso,
    print_json,
    show,
    when,
    with_billing,
)
from vidugate.cli.preflight import exit_with

if TYPE_CHECKING:  # imported when run: `vidugate --help` starts faster without them
    from vidugate.domain.prices import PriceTable, Quote
    from vidugate.domain.request import VideoRequest
    from vidugate.services.billing import Billing
    from vidugate.store.prices import StoredPrices

app = typer.Typer(
    help="View, check and set the price table clients pay by.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
FileArg = Annotated[
    Path,
    typer.Argument(help="A price table: a .toml or .json file.", show_default=False),
]
# The prompt of the sample requests `check` prices (the price does not depend on it).
SAMPLE_PROMPT = "a price check"


def _load(path: Path) -> PriceTable:
    """The table in the file, or one line (the file, the entry, what is wrong) and exit 1."""
    from vidugate.domain.price_documents import load_prices
    from vidugate.domain.prices import PriceTableError

    try:
        return load_prices(path)
    except PriceTableError as exc:
        raise exit_with(exc.message, EXIT_REFUSED) from None


def _in_force(stored: StoredPrices) -> PriceTable:
    from vidugate.domain.price_documents import parse_prices
    from vidugate.domain.prices import PriceTableError

    try:
        return parse_prices(stored.document)
    except PriceTableError as exc:
        raise exit_with(
            f"the price table in force (set {when(stored.created_at)} from {stored.source}) "
            f"cannot be read: {exc.message}; set prices again",
            EXIT_REFUSED,
        ) from None


def _stored_json(stored: StoredPrices) -> dict[str, Any]:
    return {
        "id": stored.id,
        "source": stored.source,
        "created_at": iso(stored.created_at),
        "document": stored.document,
    }


def _print_table(table: PriceTable) -> None:
    """Per-second prices per model and resolution, and the adjustments."""
    from rich.table import Table

    from vidugate.domain.models import RESOLUTIONS

    used = [r for r in RESOLUTIONS if any(r in p.per_second for p in table.models.values())]
    grid = Table("model", "base", *(f"{r} /s" for r in used), "its own adjustments")
    for model, price in table.models.items():
        grid.add_row(
            model,
            table.format(price.base) if price.base else "-",
            *(table.format(price.per_second[r]) if r in price.per_second else "-" for r in used),
            "; ".join(a.describe() for a in price.adjustments) or "-",
        )
    grid.title = f"prices in {table.currency} (a video: base + per second x duration)"
    show(grid)
    if table.adjustments:
        print("for every model: " + "; ".join(a.describe() for a in table.adjustments))
    else:
        print("no adjustments for every model")


@app.command("show")
def show_prices(json_out: JsonOption = False) -> None:
    """The table in force: where it came from, when, and its prices."""

    async def run(billing: Billing) -> StoredPrices | None:
        return await billing.prices.repo.latest()

    stored = with_billing(run)
    if stored is None:
        if json_out:
            print_json(None)
        else:
            print("no price table is set: videos are not charged (vidugate prices set FILE)")
        return
    table = _in_force(stored)
    if json_out:
        print_json(_stored_json(stored))
        return
    print(
        f"in force since {when(stored.created_at)}, from {stored.source}; "
        f"prices rounded to {table.decimals} places"
    )
    _print_table(table)


@app.command("set")
def set_prices(path: FileArg, json_out: JsonOption = False) -> None:
    """Put the file's table in force (checked first; the one before is kept)."""
    table = _load(path)
    source = f"cli {path.absolute()}"

    stored, changed = with_billing(lambda billing: billing.put_prices(table, source))
    if json_out:
        print_json({"changed": changed, **_stored_json(stored)})
        return
    if changed:
        print(f"prices set from {path}: {len(table.models)} models priced in {table.currency}")
    else:
        print(f"unchanged: the table in force (from {stored.source}) is the same as {path}")


def _samples() -> list[VideoRequest]:
    """For each model, a request with every default: its first mode (text, image,
    start-end, reference), the fewest images that takes, its default duration and
    resolution, audio as the model has it by default."""
    from vidugate.domain.models import MODELS, Mode
    from vidugate.domain.request import VideoFields, build_request

    samples = []
    for spec in MODELS.values():
        mode = next(mode for mode in Mode if mode in spec.rules)
        fewest, _ = spec.image_range(mode)
        fields = VideoFields(model=spec.id, prompt=SAMPLE_PROMPT)
        samples.append(build_request(fields, mode=mode, image_count=fewest))
    return samples


def _quote(table: PriceTable, request: VideoRequest) -> Quote | None:
    """What the request costs (None: the table does not price its model, so it is refused)."""
    from vidugate.errors import InvalidRequestError

    try:
        return table.quote(request)
    except InvalidRequestError:
        return None


@app.command()
def check(path: FileArg, json_out: JsonOption = False) -> None:
    """Check a price file without setting it, and quote each model at its defaults."""
    from rich.table import Table

    table = _load(path)
    quotes = [(request, _quote(table, request)) for request in _samples()]
    if json_out:
        print_json(
            {
                "valid": True,
                "currency": table.currency,
                "decimals": table.decimals,
                "quotes": [
                    {
                        "model": request.model,
                        "mode": request.mode.value,
                        "duration": request.duration,
                        "resolution": request.resolution,
                        "audio": request.audio,
                        "price": None if quote is None else quote.as_json(),
                    }
                    for request, quote in quotes
                ],
            }
        )
        return
    print(f"{path}: a valid price table in {table.currency}, rounded to {table.decimals} places")
    grid = Table("model", "request", "price", "how")
    for request, quote in quotes:
        asked = f"{request.mode.value}, {request.duration} s, {request.resolution}"
        asked += ", audio" if request.audio else ""
        if quote is None:
            grid.add_row(request.model, asked, "-", "not priced: refused")
            continue
        how = "; ".join(f"{line.label}: {table.format(line.amount)}" for line in quote.lines)
        grid.add_row(request.model, asked, f"{table.format(quote.amount)} {quote.currency}", how)
    grid.title = "what a request with every default costs"
    show(grid)
