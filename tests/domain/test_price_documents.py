"""A price table's documents: TOML and JSON give the same table, a document round-trips,
every validation error names its path, decode errors and size bounds."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pricelib import EXAMPLE, TABLE_JSON, TABLE_TOML, doc, table
from vidugate.domain.price_documents import (
    MAX_ADJUSTMENTS,
    MAX_DOCUMENT_BYTES,
    MAX_MODELS,
    load_prices,
    loads_prices,
    parse_prices,
)
from vidugate.domain.prices import (
    Adjustment,
    ModelPrice,
    PriceTable,
    PriceTableError,
)
from vidugate.errors import InvalidRequestError


def test_toml_and_json_give_the_same_table() -> None:
    from_toml = table()
    assert loads_prices(TABLE_JSON, format="json") == from_toml
    assert from_toml.models["viduq3-pro"].per_second["720p"] == Decimal("0.08")
    assert from_toml.decimals == 2  # the default
    assert list(from_toml.models) == ["viduq3-pro", "viduq1"]  # MODELS' order


def test_document_round_trips() -> None:
    for priced in (table(), load_prices(EXAMPLE)):
        document = priced.to_document()
        assert parse_prices(document) == priced
        text = json.dumps(document)
        assert loads_prices(text, format="json") == priced
        assert parse_prices(json.loads(text)).to_document() == document


def test_table_built_in_code_matches_the_parsed_one() -> None:
    built = PriceTable(
        currency="USD",
        decimals=2,
        models={
            "viduq1": ModelPrice(Decimal(0), {"1080p": Decimal("0.08")}, ()),
        },
        adjustments=(Adjustment("off_peak", percent=Decimal(-50)),),
    )
    document = built.to_document()
    assert document == {
        "currency": "USD",
        "decimals": 2,
        "adjustments": [{"when": "off_peak", "add": "0", "per_second": "0", "percent": "-50"}],
        "models": {"viduq1": {"base": "0", "per_second": {"1080p": "0.08"}, "adjustments": []}},
    }
    assert parse_prices(document) == built
    assert built.format(Decimal("0.4")) == "0.40"


def _with(path: Sequence[str | int], value: object) -> dict[str, Any]:
    document = doc()
    target: Any = document
    for step in path[:-1]:
        target = target[step]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return document


_DELETE = object()
Q3_PATH = "models.viduq3-pro"
Q3_KEYS = ["models", "viduq3-pro"]


@pytest.mark.parametrize(
    ("where", "value", "path", "says"),
    [
        ([*Q3_KEYS, "per_second", "1080p"], _DELETE, Q3_PATH + ".per_second.1080p", "missing"),
        (
            [*Q3_KEYS, "per_second", "360p"],
            "0.01",
            Q3_PATH + ".per_second.360p",
            "540p, 720p, 1080p",
        ),
        ([*Q3_KEYS, "per_second"], _DELETE, Q3_PATH + ".per_second", "required"),
        (["models", "vidu9"], {"per_second": {}}, "models.vidu9", "not a model of this gateway"),
        (["colour"], "blue", "colour", "not a known key"),
        ([*Q3_KEYS, "price"], "1", Q3_PATH + ".price", "base, per_second, adjustments"),
        (
            ["adjustments", 0, "factor"],
            "2",
            "adjustments[0].factor",
            "when, add, per_second, percent",
        ),
        (
            [*Q3_KEYS, "per_second", "720p"],
            0.08,
            Q3_PATH + ".per_second.720p",
            "write it as a string",
        ),
        ([*Q3_KEYS, "base"], "0.0000001", Q3_PATH + ".base", "7 decimal places"),
        ([*Q3_KEYS, "base"], "-0.10", Q3_PATH + ".base", "not negative"),
        ([*Q3_KEYS, "per_second", "540p"], "free", Q3_PATH + ".per_second.540p", "'free'"),
        (["adjustments", 0, "percent"], "-100.5", "adjustments[0].percent", "at least -100"),
        (["adjustments", 0, "when"], "weekend", "adjustments[0].when", "off_peak, bgm, text2video"),
        (["adjustments", 0], {"when": "bgm"}, "adjustments[0]", "add, per_second, percent"),
        (["adjustments"], {"when": "bgm"}, "adjustments", "must be a list"),
        (
            [*Q3_KEYS, "adjustments", 0, "when"],
            "reference2video",
            Q3_PATH + ".adjustments[0].when",
            "viduq3-pro does not serve",
        ),
        ([*Q3_KEYS, "adjustments", 0, "add"], 0.5, Q3_PATH + ".adjustments[0].add", "binary float"),
        (["currency"], "usd", "currency", "uppercase"),
        (["currency"], "US", "currency", "3 to 8"),
        (["currency"], "DOGECOINS", "currency", "got 'DOGECOINS'"),
        (["currency"], _DELETE, "currency", "required"),
        (["decimals"], 7, "decimals", "from 0 to 6"),
        (["decimals"], -1, "decimals", "from 0 to 6"),
        (["decimals"], True, "decimals", "got True"),
        (["decimals"], Decimal("2.0"), "decimals", "integer"),
        (["models"], _DELETE, "models", "required"),
        (["models"], [], "models", "must be a table"),
        (Q3_KEYS, "0.05", Q3_PATH, "must be a table"),
    ],
)
def test_every_validation_error_names_its_path(
    where: Sequence[str | int], value: object, path: str, says: str
) -> None:
    with pytest.raises(PriceTableError) as refused:
        parse_prices(_with(where, value))
    assert refused.value.param == path
    assert refused.value.message.startswith(path)
    assert says in refused.value.message
    assert isinstance(refused.value, InvalidRequestError)


def test_paths_show_long_keys_cut_short() -> None:
    with pytest.raises(PriceTableError) as refused:
        parse_prices(_with(["models", "x" * 10_000], {}))
    assert refused.value.param == "models." + "x" * 61 + "..."
    assert len(refused.value.message) < 500


def test_the_document_itself_must_be_a_table() -> None:
    with pytest.raises(PriceTableError, match="The price table must be a table") as refused:
        parse_prices([])
    assert refused.value.param is None


def test_decode_errors_are_price_table_errors() -> None:
    with pytest.raises(PriceTableError, match="not valid TOML") as refused:
        loads_prices('currency = "USD"\ncurrency = "EUR"\n', format="toml")
    assert refused.value.param is None
    with pytest.raises(PriceTableError, match="not valid JSON"):
        loads_prices('{"currency": "USD"', format="json")
    with pytest.raises(PriceTableError, match="'currency' appears twice"):
        loads_prices('{"currency": "USD", "currency": "EUR", "models": {}}', format="json")
    with pytest.raises(PriceTableError, match="nests too deeply"):
        loads_prices("[" * 100_000, format="json")
    # JSON's NaN, TOML's nan: numbers, but not amounts.
    with pytest.raises(PriceTableError) as refused:
        loads_prices('{"currency": "USD", "models": {"viduq1": {"base": NaN}}}', format="json")
    assert refused.value.param == "models.viduq1.base"
    with pytest.raises(PriceTableError) as refused:
        loads_prices('currency = "USD"\n[models.viduq1]\nbase = nan\n', format="toml")
    assert refused.value.param == "models.viduq1.base"


def test_load_prices_reads_by_suffix(tmp_path: Path) -> None:
    (tmp_path / "prices.json").write_text(TABLE_JSON, encoding="utf-8")
    assert load_prices(tmp_path / "prices.json") == table()
    (tmp_path / "prices.yaml").write_text(TABLE_JSON, encoding="utf-8")
    with pytest.raises(PriceTableError, match=r"must end in \.toml or \.json"):
        load_prices(tmp_path / "prices.yaml")
    with pytest.raises(PriceTableError, match="cannot be read"):
        load_prices(tmp_path / "missing.toml")
    (tmp_path / "latin1.toml").write_bytes('currency = "USD" # caf\xe9\n'.encode("latin-1"))
    with pytest.raises(PriceTableError, match="not UTF-8"):
        load_prices(tmp_path / "latin1.toml")
    (tmp_path / "bad.toml").write_text('currency = "usd"\nmodels = {}\n', encoding="utf-8")
    with pytest.raises(PriceTableError) as refused:
        load_prices(tmp_path / "bad.toml")
    assert refused.value.param == "currency"
    assert refused.value.message.startswith(f"Price file {tmp_path / 'bad.toml'}: currency")


def test_size_bounds(tmp_path: Path) -> None:
    padded = TABLE_TOML + "#" * MAX_DOCUMENT_BYTES
    with pytest.raises(PriceTableError, match="over 256 KiB"):
        loads_prices(padded, format="toml")
    # Counted in UTF-8 bytes: 100,000 "é" are 200,000 bytes, fewer than 256 KiB...
    assert loads_prices(TABLE_TOML + "#" + "é" * 100_000, format="toml") == table()
    # ... 140,000 of them are 280,000.
    with pytest.raises(PriceTableError, match="over 256 KiB"):
        loads_prices(TABLE_TOML + "#" + "é" * 140_000, format="toml")
    (tmp_path / "big.toml").write_text(padded, encoding="utf-8")
    with pytest.raises(PriceTableError, match="over 256 KiB"):
        load_prices(tmp_path / "big.toml")

    many = [{"when": "bgm", "add": "0.01"}] * MAX_ADJUSTMENTS
    assert len(parse_prices(_with(["adjustments"], many)).adjustments) == MAX_ADJUSTMENTS
    for path in (["adjustments"], [*Q3_KEYS, "adjustments"]):
        with pytest.raises(PriceTableError, match="at most 64") as refused:
            parse_prices(_with(path, [*many, many[0]]))
        assert refused.value.param == ".".join(str(step) for step in path)

    models: dict[str, object] = {f"model-{i}": {} for i in range(MAX_MODELS + 1)}
    with pytest.raises(PriceTableError, match="at most 100") as refused:
        parse_prices(_with(["models"], models))
    assert refused.value.param == "models"
