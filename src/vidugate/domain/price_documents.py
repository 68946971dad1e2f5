"""A price table's document in (prices.example.toml): TOML, JSON or a decoded document
(admin API, database) checked entry by entry and made a PriceTable (domain/prices.py).
PriceTableError names the path of what is wrong; unknown keys anywhere are errors; numbers
are read as exact decimals; every list and the document itself have a size bound."""

from __future__ import annotations

import json
import re
import tomllib
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from vidugate.domain.models import MODELS, RESOLUTIONS, Mode
from vidugate.domain.money import MAX_PLACES, parse_amount
from vidugate.domain.prices import (
    DEFAULT_DECIMALS,
    FLAGS,
    WHEN,
    Adjustment,
    ModelPrice,
    PriceTable,
    PriceTableError,
)
from vidugate.errors import InvalidRequestError

MAX_DOCUMENT_BYTES = 256 * 1024
MAX_ADJUSTMENTS = 64  # in one list (the table's, or one model's)
MAX_MODELS = 100
_CURRENCY = re.compile(r"[A-Z0-9]{3,8}")
_TABLE_KEYS = ("currency", "decimals", "adjustments", "models")
_MODEL_KEYS = ("base", "per_second", "adjustments")
_ADJUSTMENT_KEYS = ("when", "add", "per_second", "percent")
_SHOWN_CHARS = 64


def parse_prices(doc: object) -> PriceTable:
    """A decoded document (TOML, JSON, or built in code) checked and made a PriceTable.
    PriceTableError names the path of what is wrong; unknown keys anywhere are errors."""
    table = _table(doc, "", _TABLE_KEYS)
    currency = _required(table, "", "currency")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise _error(
            "currency",
            'must be 3 to 8 uppercase letters or digits (e.g. "USD", "CREDITS"); '
            f"got {_shown(currency)}.",
        )
    decimals = table.get("decimals", DEFAULT_DECIMALS)
    if (
        not isinstance(decimals, int)
        or isinstance(decimals, bool)
        or not 0 <= decimals <= MAX_PLACES
    ):
        raise _error(
            "decimals",
            f"must be an integer from 0 to {MAX_PLACES} (the places a price is rounded to); "
            f"got {_shown(decimals)}.",
        )
    adjustments = _adjustments(table.get("adjustments", []), "adjustments", None)
    models = _table(_required(table, "", "models"), "models", None)
    if len(models) > MAX_MODELS:
        raise _error("models", f"names {len(models)} models; at most {MAX_MODELS} are taken.")
    for name in models:
        if name not in MODELS:
            raise _error(
                f"models.{_key(name)}",
                f"is not a model of this gateway; its models are {', '.join(MODELS)}.",
            )
    priced = {name: _model(name, models[name]) for name in MODELS if name in models}
    return PriceTable(currency, decimals, MappingProxyType(priced), adjustments)


def loads_prices(text: str, *, format: Literal["toml", "json"]) -> PriceTable:
    """A price table from its TOML or JSON text; numbers are read as exact decimals."""
    size = (
        len(text) if len(text) > MAX_DOCUMENT_BYTES else len(text.encode("utf-8", "surrogatepass"))
    )
    if size > MAX_DOCUMENT_BYTES:
        raise _error(None, f"is over {MAX_DOCUMENT_BYTES // 1024} KiB; at most that is taken.")
    doc: object
    try:
        if format == "toml":
            doc = tomllib.loads(text, parse_float=Decimal)
        elif format == "json":
            doc = json.loads(
                text, parse_float=Decimal, parse_constant=Decimal, object_pairs_hook=_no_repeats
            )
        else:
            raise _error(None, f"format must be toml or json, not {_shown(format)}.")
    except (ValueError, RecursionError) as exc:  # TOMLDecodeError, JSONDecodeError are ValueErrors
        what = "TOML" if format == "toml" else "JSON"
        detail = "it nests too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise _error(None, f"is not valid {what}: {detail}.") from None
    return parse_prices(doc)


def load_prices(path: Path) -> PriceTable:
    """A price table from a .toml or .json file (by its suffix)."""
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise PriceTableError(
            f"Price file {path}: the name must end in .toml or .json (that is its format)."
        )
    try:
        with path.open("rb") as file:
            data = file.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        raise PriceTableError(f"Price file {path} cannot be read: {exc.strerror or exc}.") from None
    if len(data) > MAX_DOCUMENT_BYTES:
        raise PriceTableError(
            f"Price file {path} is over {MAX_DOCUMENT_BYTES // 1024} KiB; at most that is taken."
        )
    try:
        text = data.decode("utf-8-sig")
        return loads_prices(text, format="toml" if suffix == ".toml" else "json")
    except UnicodeDecodeError:
        raise PriceTableError(f"Price file {path} is not UTF-8 text.") from None
    except PriceTableError as exc:
        raise PriceTableError(f"Price file {path}: {exc.message}", param=exc.param) from None


def _model(name: str, value: object) -> ModelPrice:
    path = f"models.{name}"
    spec = MODELS[name]
    entry = _table(value, path, _MODEL_KEYS)
    base = _amount(entry.get("base", 0), f"{path}.base")
    rates = _table(_required(entry, path, "per_second"), f"{path}.per_second", None)
    offered = spec.resolutions
    for resolution in rates:
        if resolution not in offered:
            raise _error(
                f"{path}.per_second.{_key(resolution)}",
                f"is not a resolution {name} offers; it offers {', '.join(offered)}.",
            )
    for resolution in offered:
        if resolution not in rates:
            raise _error(
                f"{path}.per_second.{resolution}",
                f"is missing: {name} offers {', '.join(offered)}, and each needs a price "
                "per second.",
            )
    per_second = {
        resolution: _amount(rates[resolution], f"{path}.per_second.{resolution}")
        for resolution in RESOLUTIONS
        if resolution in rates
    }
    adjustments = _adjustments(entry.get("adjustments", []), f"{path}.adjustments", name)
    return ModelPrice(base, MappingProxyType(per_second), adjustments)


def _adjustments(value: object, path: str, model: str | None) -> tuple[Adjustment, ...]:
    if not isinstance(value, list):
        raise _error(path, f"must be a list of adjustments; got {_kind(value)}.")
    if len(value) > MAX_ADJUSTMENTS:
        raise _error(path, f"has {len(value)} adjustments; at most {MAX_ADJUSTMENTS} are taken.")
    return tuple(_adjustment(item, f"{path}[{i}]", model) for i, item in enumerate(value))


def _adjustment(value: object, path: str, model: str | None) -> Adjustment:
    entry = _table(value, path, _ADJUSTMENT_KEYS)
    when = _required(entry, path, "when")
    if not isinstance(when, str) or when not in WHEN:
        raise _error(f"{path}.when", f"must be one of {', '.join(WHEN)}; got {_shown(when)}.")
    if model is not None and when not in FLAGS and Mode(when) not in MODELS[model].modes:
        raise _error(
            f"{path}.when",
            f"is {when}, which {model} does not serve, so this adjustment would never apply.",
        )
    if not any(key in entry for key in _ADJUSTMENT_KEYS[1:]):
        raise _error(path, "gives none of add, per_second, percent; give at least one.")
    percent = _amount(entry.get("percent", 0), f"{path}.percent", allow_negative=True)
    if percent < -100:
        raise _error(
            f"{path}.percent",
            f"must be at least -100 (the whole subtotal off); got {percent}.",
        )
    return Adjustment(
        when=when,
        add=_amount(entry.get("add", 0), f"{path}.add", allow_negative=True),
        per_second=_amount(entry.get("per_second", 0), f"{path}.per_second", allow_negative=True),
        percent=percent,
    )


def _table(value: object, path: str, keys: tuple[str, ...] | None) -> dict[str, object]:
    """`value` as a table with string keys, only `keys` among them (any, if None)."""
    if not isinstance(value, dict):
        raise _error(path or None, f"must be a table (an object); got {_kind(value)}.")
    for key in value:
        if not isinstance(key, str):
            raise _error(path or None, f"has a key that is not a string: {_shown(key)}.")
        if keys is not None and key not in keys:
            raise _error(
                _at(path, _key(key)),
                f"is not a known key; {path or 'the table'} takes {', '.join(keys)}.",
            )
    return value


def _required(table: dict[str, object], path: str, key: str) -> object:
    if key not in table:
        raise _error(_at(path, key), "is required.")
    return table[key]


def _amount(value: object, path: str, *, allow_negative: bool = False) -> Decimal:
    try:
        return parse_amount(value, param=path, allow_negative=allow_negative)
    except InvalidRequestError as exc:
        raise PriceTableError(exc.message, param=path) from None


def _error(path: str | None, message: str) -> PriceTableError:
    """The error for what is wrong at `path` (None: the document itself)."""
    return PriceTableError(f"{path or 'The price table'} {message}", param=path)


def _no_repeats(pairs: list[tuple[str, object]]) -> dict[str, object]:
    table: dict[str, object] = {}
    for key, value in pairs:
        if key in table:
            raise ValueError(f"the key {_shown(key)} appears twice in one object")
        table[key] = value
    return table


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _shown(value: object) -> str:
    return _key(repr(value))


def _key(key: str) -> str:
    """A key as a path shows it: any key a document may hold, but not at any length."""
    return key if len(key) <= _SHOWN_CHARS else key[: _SHOWN_CHARS - 3] + "..."


def _kind(value: object) -> str:
    return "nothing" if value is None else f"a {type(value).__name__}"
