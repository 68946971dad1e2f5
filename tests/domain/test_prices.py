"""The operator's price table: quotes worked by hand and against exact arithmetic, and the
shipped example (its documents: test_price_documents.py)."""

from __future__ import annotations

import copy
from decimal import Decimal
from fractions import Fraction
from math import floor
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricelib import EXAMPLE, doc, request, table
from vidugate.domain.models import MODE_IMAGES, MODELS, Mode
from vidugate.domain.money import from_micros
from vidugate.domain.price_documents import (
    load_prices,
    parse_prices,
)
from vidugate.domain.prices import (
    WHEN,
    Adjustment,
    ModelPrice,
    PriceTable,
    Quote,
    QuoteLine,
)
from vidugate.domain.request import VideoFields, build_request
from vidugate.errors import InvalidRequestError


def one_model(decimals: int, *, per_second: str, base: str = "0", **adjustment: str) -> PriceTable:
    """A table pricing viduq1 (1080p, every mode) only, with at most one adjustment."""
    model: dict[str, Any] = {"base": base, "per_second": {"1080p": per_second}}
    if adjustment:
        model["adjustments"] = [adjustment]
    return parse_prices({"currency": "USD", "decimals": decimals, "models": {"viduq1": model}})


def test_plain_request_is_base_plus_seconds() -> None:
    quote = table().quote(request(resolution="720p", duration=5))
    assert quote.amount == Decimal("0.10") + Decimal("0.08") * 5 == Decimal("0.50")
    assert quote.currency == "USD"
    assert quote.lines == (
        QuoteLine("base", Decimal("0.10")),
        QuoteLine("720p, 5 s at 0.08/s", Decimal("0.40")),
    )
    assert quote.as_json() == {
        "amount": "0.50",
        "currency": "USD",
        "lines": [
            {"label": "base", "amount": "0.10"},
            {"label": "720p, 5 s at 0.08/s", "amount": "0.40"},
        ],
    }


def test_every_adjustment_that_applies_is_added() -> None:
    quote = table().quote(
        request(mode=Mode.START_END, resolution="1080p", duration=8, audio=True, is_rec=True)
    )
    subtotal = Decimal("0.10") + Decimal("0.15") * 8
    expected = subtotal + Decimal("0.05") + Decimal("0.02") * 8 + subtotal * 10 / 100
    assert quote.amount == expected == Decimal("1.64")
    # The table's adjustments first, then the model's, each in its order.
    assert [(line.label, line.amount) for line in quote.lines] == [
        ("base", Decimal("0.10")),
        ("1080p, 8 s at 0.15/s", Decimal("1.20")),
        ("is_rec: +0.05", Decimal("0.05")),
        ("audio: +0.02/s", Decimal("0.16")),
        ("start-end2video: +10%", Decimal("0.13")),
    ]


def test_percent_is_of_the_subtotal_whatever_the_order() -> None:
    adjustments = [
        {"when": "off_peak", "percent": "-50"},
        {"when": "is_rec", "percent": "10"},
        {"when": "is_rec", "add": "0.30"},
    ]
    tables = []
    for order in (adjustments, adjustments[::-1]):
        document = doc()
        document["adjustments"] = order
        tables.append(parse_prices(document))
    subtotal = Decimal("0.10") + Decimal("0.08") * 5
    expected = subtotal + subtotal * -50 / 100 + subtotal * 10 / 100 + Decimal("0.30")
    assert expected == Decimal("0.60")  # compounding would give 0.575 -> 0.58
    for priced in tables:
        assert priced.quote(request(off_peak=True, is_rec=True)).amount == expected


def test_total_is_rounded_half_up() -> None:
    # 0.001/s x 5 s = 0.005: half-up gives 0.01 (half-even would give 0.00).
    assert one_model(2, per_second="0.001").quote(request("viduq1", resolution="1080p")).amount == (
        Decimal("0.01")
    )
    # 0.000999/s x 5 s = 0.004995: below the half, 0.00.
    priced = one_model(2, per_second="0.000999")
    assert priced.quote(request("viduq1", resolution="1080p")).amount == Decimal("0.00")
    # Four places: 0.00001/s x 5 s = 0.00005 -> 0.0001.
    priced = one_model(4, per_second="0.00001")
    quote = priced.quote(request("viduq1", resolution="1080p"))
    assert quote.amount == Decimal("0.0001")
    assert quote.as_json()["amount"] == "0.0001"


def test_lines_are_rounded_and_add_up_to_the_amount() -> None:
    # base 0.005 -> 0.01 and 5 s x 0.001 = 0.005 -> 0.01, but 0.010 in all is 0.01.
    priced = one_model(2, base="0.005", per_second="0.001")
    quote = priced.quote(request("viduq1", resolution="1080p"))
    assert quote.amount == Decimal("0.005") + Decimal("0.001") * 5 == Decimal("0.01")
    assert quote.lines[-1] == QuoteLine("rounding", Decimal("-0.01"))
    assert sum(line.amount for line in quote.lines) == quote.amount


def test_price_is_never_below_zero() -> None:
    priced = one_model(2, per_second="0.08", when="is_rec", add="-1")
    quote = priced.quote(request("viduq1", resolution="1080p", is_rec=True))
    assert Decimal("0.08") * 5 + Decimal("-1") < 0
    assert quote.amount == Decimal(0)
    assert quote.as_json()["amount"] == "0.00"
    assert quote.lines[-1] == QuoteLine("no less than 0", Decimal("0.60"))
    assert sum(line.amount for line in quote.lines) == 0
    # -100 % is the floor percent: free.
    free = one_model(2, per_second="0.08", when="is_rec", percent="-100")
    assert free.quote(request("viduq1", resolution="1080p", is_rec=True)).amount == 0


@pytest.mark.parametrize("when", WHEN)
def test_each_when_applies_to_its_requests_only(when: str) -> None:
    priced = one_model(2, per_second="0.08", when=when, add="1")
    base = Decimal("0.08") * 5
    others = [mode for mode in Mode if mode.value != when]
    if when in {"audio", "bgm", "is_rec", "off_peak"}:
        on = request("viduq1", resolution="1080p", **{when: True})  # type: ignore[arg-type]
        off = [request("viduq1", resolution="1080p", mode=mode) for mode in Mode]
    else:
        on = request("viduq1", resolution="1080p", mode=Mode(when))
        off = [
            request("viduq1", resolution="1080p", mode=mode, audio=True, bgm=True, is_rec=True)
            for mode in others
        ]
    assert priced.quote(on).amount == base + 1
    assert priced.quote(on).lines[-1].label == f"{when}: +1"
    for other in off:
        assert priced.quote(other).amount == base


def test_unpriced_model_is_refused_by_name() -> None:
    with pytest.raises(InvalidRequestError) as refused:
        table().quote(request("vidu2.0", resolution="360p", duration=4))
    assert refused.value.param == "model"
    assert refused.value.message == (
        "Model vidu2.0 has no price on this gateway; priced models: viduq3-pro, viduq1."
    )


def test_rules_describe_what_a_model_costs() -> None:
    assert table().rules("viduq1") == {
        "currency": "USD",
        "decimals": 2,
        "base": "0",
        "per_second": {"1080p": "0.08"},
        "adjustments": [
            {"when": "off_peak", "add": "0", "per_second": "0", "percent": "-50"},
            {"when": "is_rec", "add": "0.05", "per_second": "0", "percent": "0"},
        ],
    }
    rules = table().rules("viduq3-pro")
    assert rules is not None
    assert rules["base"] == "0.1"
    assert rules["per_second"] == {"540p": "0.05", "720p": "0.08", "1080p": "0.15"}
    assert len(rules["adjustments"]) == 4  # type: ignore[arg-type]
    assert table().rules("vidu2.0") is None


def test_example_prices_every_model_everywhere() -> None:
    priced = load_prices(EXAMPLE)
    assert priced.currency == "USD"
    assert priced.decimals == 4
    assert list(priced.models) == list(MODELS)
    flags = {"off_peak", "is_rec", "bgm"}
    assert {a.when for a in priced.adjustments} >= flags | {"start-end2video", "reference2video"}
    quoted = 0
    for spec in MODELS.values():
        assert list(priced.models[spec.id].per_second) == list(spec.resolutions)
        for mode, rules in spec.rules.items():
            images = max(1, MODE_IMAGES[mode][0]) if mode is not Mode.TEXT else 0
            for duration in rules.durations:
                for resolution in rules.resolutions_at(duration).allowed:
                    for extras in ({}, {"off_peak": True}, {"is_rec": True, "audio": True}):
                        fields = VideoFields(
                            model=spec.id,
                            prompt="x",
                            duration=duration,
                            resolution=resolution,
                            **extras,  # type: ignore[arg-type]
                        )
                        quote = priced.quote(build_request(fields, mode=mode, image_count=images))
                        assert quote.amount > 0
                        assert sum(line.amount for line in quote.lines) == quote.amount
                        assert len(str(quote.as_json()["amount"]).split(".")[1]) == 4
                        quoted += 1
    assert quoted > 500


def test_example_prices_match_hand_arithmetic() -> None:
    priced = load_prices(EXAMPLE)
    # viduq3-pro, 720p, 5 s, with its default audio: 0.15/s plus 0.01/s of audio.
    plain = build_request(
        VideoFields(model="viduq3-pro", prompt="x"), mode=Mode.TEXT, image_count=0
    )
    assert priced.quote(plain).as_json()["amount"] == "0.8000"
    assert Decimal("0.15") * 5 + Decimal("0.01") * 5 == Decimal("0.80")
    # viduq2, 540p, 3 s, off-peak: (0.04 + 0.01 x 3) halved.
    fields = VideoFields(model="viduq2", prompt="x", resolution="540p", duration=3, off_peak=True)
    quote = priced.quote(build_request(fields, mode=Mode.TEXT, image_count=0))
    assert quote.amount == (Decimal("0.04") + Decimal("0.01") * 3) / 2 == Decimal("0.035")
    assert quote.as_json() == {
        "amount": "0.0350",
        "currency": "USD",
        "lines": [
            {"label": "base", "amount": "0.0400"},
            {"label": "540p, 3 s at 0.01/s", "amount": "0.0300"},
            {"label": "off_peak: -50%", "amount": "-0.0350"},
        ],
    }


# A property check against exact rational arithmetic (Fraction), with the rule written
# out again: subtotal, adjustments of the subtotal, round half-up, floor at 0.
_AMOUNT = st.integers(min_value=-(10**9), max_value=10**9).map(from_micros)
_ADJUSTMENT = st.builds(
    Adjustment,
    when=st.sampled_from(WHEN),
    add=_AMOUNT,
    per_second=_AMOUNT,
    percent=st.integers(min_value=-100_000_000, max_value=10**9).map(from_micros),
)


@settings(max_examples=300, deadline=None)
@given(
    decimals=st.integers(min_value=0, max_value=6),
    base=_AMOUNT.map(abs),
    rate=_AMOUNT.map(abs),
    table_wide=st.lists(_ADJUSTMENT, max_size=4),
    own=st.lists(_ADJUSTMENT, max_size=4),
    mode=st.sampled_from(list(Mode)),
    flags=st.fixed_dictionaries(
        {flag: st.booleans() for flag in ("audio", "bgm", "is_rec", "off_peak")}
    ),
)
def test_quote_matches_exact_arithmetic(
    decimals: int,
    base: Decimal,
    rate: Decimal,
    table_wide: list[Adjustment],
    own: list[Adjustment],
    mode: Mode,
    flags: dict[str, bool],
) -> None:
    model = ModelPrice(base, {"1080p": rate}, tuple(own))
    priced = PriceTable("CREDITS", decimals, {"viduq1": model}, tuple(table_wide))
    asked = request("viduq1", mode=mode, resolution="1080p", **flags)
    quote = priced.quote(asked)

    subtotal = Fraction(base) + Fraction(rate) * 5
    total = subtotal
    for adjustment in (*table_wide, *own):
        if flags.get(adjustment.when, adjustment.when == mode):
            total += Fraction(adjustment.add) + Fraction(adjustment.per_second) * 5
            total += subtotal * Fraction(adjustment.percent) / 100
    scale = 10**decimals
    expected = Fraction(floor(total * scale + Fraction(1, 2)), scale) if total > 0 else 0
    assert Fraction(quote.amount) == max(expected, Fraction(0))
    assert quote.amount >= 0
    assert sum(line.amount for line in quote.lines) == quote.amount
    for line in (QuoteLine("", quote.amount), *quote.lines):
        exponent = line.amount.as_tuple().exponent
        assert isinstance(exponent, int)
        assert exponent >= -decimals
    assert quote == Quote(quote.amount, "CREDITS", quote.lines, decimals)
    assert parse_prices(copy.deepcopy(priced.to_document())) == priced
