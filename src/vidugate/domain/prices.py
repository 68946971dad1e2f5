"""The operator's price table: what a video costs a tenant, exactly (prices.example.toml).

A table names its currency, the places a price is rounded to, and per model a flat `base`
and a price per second at every resolution the model offers (MODELS); adjustments, for
every model and per model, add a flat amount, an amount per second, or a percent of the
subtotal when a request asks for something (audio, is_rec, off_peak, bgm) or uses a mode.

    subtotal = base + per_second[resolution] * duration
    total    = subtotal + sum(add + per_second * duration + subtotal * percent / 100)
               for every adjustment that applies (the table's, then the model's)

The total is rounded half-up to `decimals` places, and is never below 0. Percents are of
the subtotal, so their order does not matter. A quote's lines are rounded the same way and
add up to its amount (with a "rounding" or "no less than 0" line where needed). The table
comes as TOML, JSON or a decoded document (admin API, database): parse_prices checks it,
to_document gives it back."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from vidugate.domain.models import MODELS, RESOLUTIONS, Mode
from vidugate.domain.money import MAX_PLACES, canonical, format_amount, parse_amount
from vidugate.domain.request import VideoRequest
from vidugate.errors import InvalidRequestError

MAX_DOCUMENT_BYTES = 256 * 1024
MAX_ADJUSTMENTS = 64  # in one list (the table's, or one model's)
MAX_MODELS = 100
DEFAULT_DECIMALS = 2
# What an adjustment can apply to: a request's flags, and the modes (Mode's values).
FLAGS: tuple[str, ...] = ("audio", "is_rec", "off_peak", "bgm")
WHEN: tuple[str, ...] = (*FLAGS, *(mode.value for mode in Mode))
_CURRENCY = re.compile(r"[A-Z0-9]{3,8}")
_TABLE_KEYS = ("currency", "decimals", "adjustments", "models")
_MODEL_KEYS = ("base", "per_second", "adjustments")
_ADJUSTMENT_KEYS = ("when", "add", "per_second", "percent")
# Enough digits that sums and products of bounded amounts (money.MAX_UNITS) are exact.
_PRECISION = 100
_SHOWN_CHARS = 64


class PriceTableError(InvalidRequestError):
    """A price table that cannot be used; `param` is the path of the bad entry
    ("models.viduq3-pro.per_second.1080p"), None for the document as a whole."""


@dataclass(frozen=True, slots=True)
class Adjustment:
    when: str
    add: Decimal = Decimal(0)
    per_second: Decimal = Decimal(0)
    percent: Decimal = Decimal(0)

    def applies(self, request: VideoRequest) -> bool:
        if self.when in FLAGS:
            return bool(getattr(request, self.when))
        return request.mode.value == self.when

    def amount(self, subtotal: Decimal, duration: int) -> Decimal:
        return self.add + self.per_second * duration + subtotal * self.percent / 100

    def describe(self) -> str:
        """The line's label: "audio: +0.02/s", "off_peak: -50%", "is_rec: +0.05"."""
        parts = [
            f"{_signed(value)}{unit}"
            for value, unit in ((self.add, ""), (self.per_second, "/s"), (self.percent, "%"))
            if value
        ]
        return f"{self.when}: {', '.join(parts) or '+0'}"

    def as_json(self) -> dict[str, object]:
        return {
            "when": self.when,
            "add": _plain(self.add),
            "per_second": _plain(self.per_second),
            "percent": _plain(self.percent),
        }


@dataclass(frozen=True, slots=True)
class ModelPrice:
    base: Decimal
    per_second: Mapping[str, Decimal]
    adjustments: tuple[Adjustment, ...] = ()

    def as_json(self) -> dict[str, object]:
        return {
            "base": _plain(self.base),
            "per_second": {res: _plain(amount) for res, amount in self.per_second.items()},
            "adjustments": [a.as_json() for a in self.adjustments],
        }


@dataclass(frozen=True, slots=True)
class QuoteLine:
    label: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Quote:
    amount: Decimal
    currency: str
    lines: tuple[QuoteLine, ...]
    # The table's places: the amounts are rounded to them, and as_json shows them.
    decimals: int = DEFAULT_DECIMALS

    def as_json(self) -> dict[str, object]:
        return {
            "amount": format_amount(self.amount, self.decimals),
            "currency": self.currency,
            "lines": [
                {"label": line.label, "amount": format_amount(line.amount, self.decimals)}
                for line in self.lines
            ],
        }


@dataclass(frozen=True, slots=True)
class PriceTable:
    currency: str
    decimals: int
    models: Mapping[str, ModelPrice]
    adjustments: tuple[Adjustment, ...] = ()

    def quote(self, request: VideoRequest) -> Quote:
        """What `request` costs. InvalidRequestError (param "model") for a model the
        table does not price."""
        price = self.models.get(request.model)
        if price is None:
            priced = ", ".join(self.models) or "none"
            raise InvalidRequestError(
                f"Model {request.model} has no price on this gateway; priced models: {priced}.",
                param="model",
            )
        rate = price.per_second.get(request.resolution)
        if rate is None:
            raise InvalidRequestError(
                f"Model {request.model} has no price at {request.resolution}; priced "
                f"resolutions: {', '.join(price.per_second)}.",
                param="resolution",
            )
        duration = request.duration
        with localcontext(prec=_PRECISION):
            exact: list[tuple[str, Decimal]] = [("base", price.base)] if price.base else []
            exact.append(
                (f"{request.resolution}, {duration} s at {_plain(rate)}/s", rate * duration)
            )
            subtotal = price.base + rate * duration
            for adjustment in (*self.adjustments, *price.adjustments):
                if adjustment.applies(request):
                    exact.append((adjustment.describe(), adjustment.amount(subtotal, duration)))
            total = self._round(sum((amount for _, amount in exact), Decimal(0)))
            lines = [QuoteLine(label, self._round(amount)) for label, amount in exact]
            shown = sum((line.amount for line in lines), Decimal(0))
            if shown != total:
                lines.append(QuoteLine("rounding", self._round(total - shown)))
            if total < 0:
                lines.append(QuoteLine("no less than 0", -total))
                total = self._round(Decimal(0))
        return Quote(total, self.currency, tuple(lines), self.decimals)

    def rules(self, model: str) -> dict[str, object] | None:
        """How `model` is priced, JSON-able (GET /v1/models); None when it is not. The
        adjustments are the table's and then the model's, in the order they apply."""
        price = self.models.get(model)
        if price is None:
            return None
        every = [a.as_json() for a in (*self.adjustments, *price.adjustments)]
        return {
            "currency": self.currency,
            "decimals": self.decimals,
            **price.as_json(),
            "adjustments": every,
        }

    def to_document(self) -> dict[str, object]:
        """The table as a JSON-able document, amounts as strings: parse_prices gives an
        equal table back."""
        return {
            "currency": self.currency,
            "decimals": self.decimals,
            "adjustments": [a.as_json() for a in self.adjustments],
            "models": {model: price.as_json() for model, price in self.models.items()},
        }

    def format(self, amount: Decimal) -> str:
        return format_amount(amount, self.decimals)

    def _round(self, amount: Decimal) -> Decimal:
        rounded = amount.quantize(Decimal(1).scaleb(-self.decimals), rounding=ROUND_HALF_UP)
        return rounded.copy_abs() if rounded == 0 else rounded


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


def _plain(amount: Decimal) -> str:
    """An amount as a document and a label show it: "0.05", "-1", never an exponent."""
    return str(canonical(amount)) if amount.is_finite() else str(amount)


def _signed(amount: Decimal) -> str:
    return _plain(amount) if amount < 0 else f"+{_plain(amount)}"


def _shown(value: object) -> str:
    return _key(repr(value))


def _key(key: str) -> str:
    """A key as a path shows it: any key a document may hold, but not at any length."""
    return key if len(key) <= _SHOWN_CHARS else key[: _SHOWN_CHARS - 3] + "..."


def _kind(value: object) -> str:
    return "nothing" if value is None else f"a {type(value).__name__}"
