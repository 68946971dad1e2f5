"""The operator's money commands, run as the real `vidugate` command on the database (no
server): prices set from the example file (a bad one refused with the entry at fault),
a tenant with a balance and a key with a cap, top-ups and adjustments with their reasons,
a video made by that key charged (the app in the test process, on the same database), the
ledger, usage and margin read back, and `ledger check` that proves the books. On SQLite and
PostgreSQL (VIDUGATE_TEST_BACKEND=postgres)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

from dblib import run_sync, write_row
from gatewaylib import Gateway, cli
from inprocess import asgi_client, running_app, settings_from
from vidugate.domain.models import MODELS, Mode
from vidugate.domain.money import to_micros
from vidugate.domain.price_documents import load_prices
from vidugate.domain.request import VideoFields, build_request

EXAMPLE = Path(__file__).parents[2] / "prices.example.toml"
# viduq2-turbo offers 540p, 720p and 1080p: a table without 1080p cannot be used.
BAD_PRICES = """
currency = "USD"
[models."viduq2-turbo"]
per_second = { "540p" = "0.04", "720p" = "0.05" }
"""
CLIP = {"model": "viduq2-turbo", "prompt": "a paper boat", "duration": 1, "resolution": "540p"}


def run(env: dict[str, str], *args: str, status: int = 0) -> subprocess.CompletedProcess[str]:
    done = cli(env, *args)
    assert done.returncode == status, (args, done.stdout, done.stderr)
    return done


def run_json(env: dict[str, str], *args: str, status: int = 0) -> Any:
    return json.loads(run(env, *args, "--json", status=status).stdout)


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    """The error, which must be one line on stderr."""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def check_quotes(checked: dict[str, Any]) -> None:
    """`prices check` quotes every model at its defaults, at what the table charges."""
    table = load_prices(EXAMPLE)
    assert checked["valid"] is True
    assert checked["currency"] == table.currency
    assert [quote["model"] for quote in checked["quotes"]] == list(MODELS)
    for quote in checked["quotes"]:
        spec = MODELS[quote["model"]]
        assert quote["duration"] == spec.default_duration
        assert quote["resolution"] == spec.default_resolution
        assert quote["audio"] is spec.audio_default
        mode = Mode(quote["mode"])
        request = build_request(
            VideoFields(model=spec.id, prompt="x"), mode=mode, image_count=spec.image_range(mode)[0]
        )
        assert quote["price"] == table.quote(request).as_json(), quote["model"]


async def make_video(env: dict[str, str], token: str) -> dict[str, Any]:
    """A video made with the CLI's key by the gateway (in this process), to its end."""
    async with running_app(settings_from(env)) as app, asgi_client(app, token) as client:
        created = await client.post("/v1/videos", json=CLIP)
        assert created.status_code == 200, created.text
        for _ in range(6000):
            body: dict[str, Any] = (await client.get(f"/v1/videos/{created.json()['id']}")).json()
            if body["status"] in ("completed", "failed", "cancelled"):
                return body
            await asyncio.sleep(0.02)
    raise AssertionError("the video never finished")


def test_operator_session(tmp_path: Path) -> None:
    gateway = Gateway(tmp_path / "data")
    env = gateway.env
    bad = tmp_path / "bad-prices.toml"
    bad.write_text(BAD_PRICES)

    # Prices: checked (no database needed), set, a bad file refused, the table in force shown.
    check_quotes(run_json(env, "prices", "check", str(EXAMPLE)))
    assert run_json(env, "prices", "set", str(EXAMPLE))["changed"] is True
    refused = run(env, "prices", "set", str(bad), status=1)
    assert str(bad) in one_line(refused)
    assert "models.viduq2-turbo.per_second.1080p" in one_line(refused)
    shown = run_json(env, "prices", "show")
    assert shown["source"] == f"cli {EXAMPLE}"
    assert shown["document"] == json.loads(json.dumps(load_prices(EXAMPLE).to_document()))

    # A tenant with a balance, its key with a cap, an admin key; money in and out.
    tenant = run_json(env, "tenants", "create", "Acme Films", "--balance", "10", "--overdraft", "1")
    assert (tenant["name"], tenant["balance"], tenant["overdraft"]) == (
        "Acme Films",
        "10.00",
        "1.00",
    )
    tenant_id = tenant["id"]
    key = run_json(env, "keys", "create", "--tenant", tenant_id, "--cap", "5", "--name", "app")
    assert key["token"].startswith("vg-")
    assert (key["tenant_id"], key["role"], key["spend_cap"]) == (tenant_id, "client", "5.00")
    admin = run_json(env, "keys", "create", "--admin", "--name", "ops")
    assert admin["token"].startswith("vga-")
    assert admin["role"] == "admin"
    topup = run_json(env, "tenants", "topup", tenant_id, "2.5", "--reason", "invoice 42")
    assert (topup["kind"], topup["amount"], topup["balance_after"]) == ("topup", "2.50", "12.50")
    # A negative amount is an argument, not an unknown option.
    adjusted = run(env, "tenants", "adjust", tenant_id, "-0.25", "--reason", "goodwill")
    assert "balance now 12.25" in adjusted.stdout
    too_fine = run(env, "tenants", "topup", tenant_id, "1e-9", "--reason", "typo", status=2)
    assert "AMOUNT" in one_line(too_fine)
    assert "decimal places" in one_line(too_fine)
    nobody = run(env, "tenants", "topup", "tenant_nobody", "1", "--reason", "x", status=1)
    assert "tenant_nobody" in one_line(nobody)

    # The key makes a video: the ledger, the tenant and the reports show its charge.
    video = run_sync(make_video(env, key["token"]))
    assert video["status"] == "completed"
    assert video["price"]["state"] == "settled"
    price = Decimal(video["price"]["amount"])
    assert price == Decimal("0.04")  # 1 s at 540p, at the example's 0.04/s
    shown = run_json(env, "tenants", "show", tenant_id)
    assert Decimal(shown["balance"]) == Decimal("12.25") - price
    assert [(k["id"], Decimal(k["spent"])) for k in shown["keys"]] == [(key["id"], price)]
    assert [(row["kind"], Decimal(row["amount"]), row["reason"]) for row in shown["ledger"]] == [
        ("settle", Decimal(0), ""),
        ("reserve", -price, ""),
        ("adjust", Decimal("-0.25"), "goodwill"),
        ("topup", Decimal("2.5"), "invoice 42"),
        ("topup", Decimal(10), "initial balance"),
    ]  # newest first
    rows = run_json(env, "ledger", "--task", video["id"])
    assert [(row["kind"], row["tenant_id"], row["key_id"]) for row in rows] == [
        ("settle", tenant_id, key["id"]),
        ("reserve", tenant_id, key["id"]),
    ]
    usage = run_json(env, "usage", "--by", "model")
    assert [
        (line["group"], line["videos"], Decimal(line["charged_amount"])) for line in usage["data"]
    ] == [("viduq2-turbo", 1, price)]
    assert usage["currency"] == "USD"
    margin = list(csv.DictReader(io.StringIO(run(env, "margin", "--csv").stdout)))
    assert [(line["model"], Decimal(line["charged_amount"])) for line in margin] == [
        ("viduq2-turbo", price)
    ]

    # The cap removed; the books balanced, and a balance moved past the ledger is found.
    assert run_json(env, "keys", "cap", key["id"], "none")["spend_cap"] is None
    assert "balanced" in run(env, "ledger", "check").stdout
    off = to_micros(Decimal("12.25") - price) + 1
    assert run_sync(write_row(gateway.database_url, "tenants", tenant_id, {"balance_micros": off}))
    books = run_json(env, "ledger", "check", status=1)
    assert books["balanced"] is False
    assert books["unbalanced"] == [
        {"tenant_id": tenant_id, "balance": "12.210001", "ledger_sum": "12.21"}
    ]
