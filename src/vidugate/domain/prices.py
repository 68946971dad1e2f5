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
comes as TOML, JSON or a decoded document (admin API, database): price_documents.py
checks it, to_document gives it back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from vidugate.domain.models import Mode
from vidugate.domain.money import canonical, format_amount
from vidugate.domain.request import VideoRequest
from vidugate.errors import InvalidRequestError

DEFAULT_DECIMALS = 2
# What an adjustment can apply to: a request's flags, and the modes (Mode's values).
FLAGS: tuple[str, ...] = ("audio", "is_rec", "off_peak", "bgm")
WHEN: tuple[str, ...] = (*FLAGS, *(mode.value for mode in Mode))
# Enough digits that sums and products of bounded amounts (money.MAX_UNITS) are exact.
_PRECISION = 100


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


def _plain(amount: Decimal) -> str:
    """An amount as a document and a label show it: "0.05", "-1", never an exponent."""
    return str(canonical(amount)) if amount.is_finite() else str(amount)


def _signed(amount: Decimal) -> str:
    return _plain(amount) if amount < 0 else f"+{_plain(amount)}"
