"""Usage and margin reports over HTTP: they add up to the ledger, group by tenant, key,
model and UTC day (a row at 23:59:59.6 is on its own day on both databases), parse back
from CSV as they read in JSON, and set the upstream's cost against the charges. On both
backends; every test ends with the balances equal to their ledger rows."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from sqlalchemy import Table, update

from adminlib import CLIP, operator
from vidugate.clock import ManualClock
from vidugate.domain.money import to_micros
from vidugate.settings import Role
from vidugate.store.tables import TaskRow

pytestmark = pytest.mark.asyncio

TASKS = cast(Table, TaskRow.__table__)
AMOUNTS = ("reserved_amount", "charged_amount", "refunded_amount")


def parsed_csv(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.text)))


async def report(admin: httpx.AsyncClient, path: str, **params: str) -> dict[str, Any]:
    response = await admin.get(path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def create(client: httpx.AsyncClient, **fields: Any) -> str:
    created = await client.post("/v1/videos", json={**CLIP, **fields})
    assert created.status_code == 200, created.text
    return str(created.json()["id"])


async def test_usage_adds_up_to_the_ledger_in_json_and_csv(tmp_path: Path) -> None:
    # An API-only process: no worker takes the videos, so they stay reserved until cancelled.
    async with operator(tmp_path, role=Role.API) as op:
        a_tenant, a_key, a_token = await op.tenant_with_key("5", name="acme")
        b_tenant, b_key, b_token = await op.tenant_with_key("5", name="bolt")
        async with op.client(a_token) as a, op.client(b_token) as b:
            await create(a)
            await create(a, resolution="720p", duration=2)
            cancelled = await create(a)
            assert (await a.post(f"/v1/videos/{cancelled}/cancel")).status_code == 200
            await create(b, resolution="1080p")

        by_tenant = await report(op.admin, "/admin/v1/usage", group_by="tenant")
        assert by_tenant["currency"] == "EUR"
        assert by_tenant["truncated"] is False
        lines = {line["group"]: line for line in by_tenant["data"]}
        assert lines[a_tenant] == {
            "group": a_tenant,
            "name": "acme",
            "tenant_id": a_tenant,
            "videos": 3,
            "settled_count": 0,
            "refunded_count": 1,
            "reserved_amount": "0.60",
            "charged_amount": "0.50",
            "refunded_amount": "0.10",
        }
        assert (lines[b_tenant]["videos"], lines[b_tenant]["charged_amount"]) == (1, "0.40")

        # The lines add up to the ledger's task rows, and each balance to its rows.
        ledger = (await op.admin.get("/admin/v1/ledger")).json()["data"]
        task_rows = [r for r in ledger if r["task_id"] is not None]
        charged = -sum(Decimal(r["amount"]) for r in task_rows)
        assert sum(Decimal(line["charged_amount"]) for line in lines.values()) == charged
        assert Decimal(by_tenant["totals"]["charged_amount"]) == charged
        assert by_tenant["totals"]["videos"] == 4
        tenants = {t["id"]: t for t in (await op.admin.get("/admin/v1/tenants")).json()["data"]}
        for tenant_id, line in lines.items():
            assert Decimal(tenants[tenant_id]["balance"]) == 5 - Decimal(line["charged_amount"])

        by_key = await report(op.admin, "/admin/v1/usage", group_by="key")
        assert {(x["group"], x["name"], x["tenant_id"]) for x in by_key["data"]} == {
            (a_key, "acme-app", a_tenant),
            (b_key, "bolt-app", b_tenant),
        }
        by_model = await report(op.admin, "/admin/v1/usage", group_by="model", tenant_id=a_tenant)
        assert [(x["group"], x["videos"]) for x in by_model["data"]] == [("viduq2-turbo", 3)]

        for group_by in ("tenant", "key", "model", "day"):
            as_json = await report(op.admin, "/admin/v1/usage", group_by=group_by)
            rows = parsed_csv(
                await op.admin.get(
                    "/admin/v1/usage", params={"group_by": group_by, "format": "csv"}
                )
            )
            assert len(rows) == len(as_json["data"])
            for row, line in zip(rows, as_json["data"], strict=True):
                assert row[group_by] == line["group"]
                assert int(row["videos"]) == line["videos"]
                assert [Decimal(row[name]) for name in AMOUNTS] == [
                    Decimal(line[name]) for name in AMOUNTS
                ]
            assert sum(Decimal(row["charged_amount"]) for row in rows) == charged

        empty = await op.admin.get(
            "/admin/v1/usage", params={"since": "2199-01-01", "format": "csv"}
        )
        assert parsed_csv(empty) == []
        assert empty.text.startswith("tenant,name,tenant_id,videos,")
        await op.balanced()


async def test_usage_by_day_puts_each_row_on_its_utc_date(tmp_path: Path) -> None:
    midnight = dt.datetime(2026, 12, 5, tzinfo=dt.UTC).timestamp()
    # 0.4 s before midnight: a database that rounded the time would put it on the 5th.
    clock = ManualClock(now=midnight - 0.4)
    async with operator(tmp_path, clock=clock) as op:
        _tenant, _key, token = await op.tenant_with_key("5")
        async with op.client(token) as client:
            video_id = await create(client)
            for _ in range(4000):  # the render takes real time; the clock moves on meanwhile
                body = (await client.get(f"/v1/videos/{video_id}")).json()
                if body["status"] == "completed":
                    break
                clock.advance(0.25)
                await asyncio.sleep(0.01)
            assert body["status"] == "completed", body
        days = await report(op.admin, "/admin/v1/usage", group_by="day")
        assert [
            (x["group"], x["videos"], x["settled_count"], x["charged_amount"]) for x in days["data"]
        ] == [("2026-12-04", 1, 0, "0.10"), ("2026-12-05", 0, 1, "0.00")]
        window = await report(
            op.admin, "/admin/v1/usage", group_by="day", since="2026-12-05", until="2026-12-05"
        )
        assert [x["group"] for x in window["data"]] == ["2026-12-05"]
        assert window["since"] == "2026-12-05T00:00:00Z"
        assert window["until"] == "2026-12-06T00:00:00Z"
        before = await report(op.admin, "/admin/v1/usage", group_by="day", until=str(int(midnight)))
        assert [x["group"] for x in before["data"]] == ["2026-12-04"]
        await op.balanced()


async def test_margin_sets_the_upstream_cost_against_the_charges(tmp_path: Path) -> None:
    async with operator(tmp_path, role=Role.API, upstream_credit_value=Decimal("0.004")) as op:
        a_tenant, _a_key, a_token = await op.tenant_with_key("5", name="acme")
        b_tenant, _b_key, b_token = await op.tenant_with_key("5", name="bolt")
        async with op.client(a_token) as a, op.client(b_token) as b:
            first = await create(a)  # 0.10
            second = await create(a, resolution="1080p")  # 0.40
            third = await create(b, resolution="720p")  # 0.20
        # What the Vidu provider records from the upstream's answers (credits per task).
        database = op.app.state.gateway.database
        for task_id, credits in ((first, "10"), (second, "40.5"), (third, "20")):
            await database.run(
                update(TASKS)
                .where(TASKS.c.id == task_id)
                .values(upstream_credits_micros=to_micros(Decimal(credits)))
            )
        by_model = await report(op.admin, "/admin/v1/margin")
        assert by_model["credit_value"] == "0.004"
        (line,) = by_model["data"]
        assert line == {
            "group": "viduq2-turbo",
            "name": None,
            "videos": 3,
            "charged_amount": "0.70",
            "upstream_credits": "70.50",
            "videos_with_credits": 3,
            "upstream_cost": "0.282",
            "margin": "0.418",
        }
        assert by_model["totals"]["margin"] == "0.418"
        by_tenant = await report(op.admin, "/admin/v1/margin", group_by="tenant")
        assert [
            (x["group"], x["name"], x["charged_amount"], x["margin"]) for x in by_tenant["data"]
        ] == sorted([(a_tenant, "acme", "0.50", "0.298"), (b_tenant, "bolt", "0.20", "0.12")])
        rows = parsed_csv(
            await op.admin.get("/admin/v1/margin", params={"group_by": "day", "format": "csv"})
        )
        assert [(r["videos"], r["upstream_credits"], r["margin"]) for r in rows] == [
            ("3", "70.50", "0.418")
        ]
        await op.balanced()


async def test_margin_without_a_credit_value_shows_credits_only(tmp_path: Path) -> None:
    async with operator(tmp_path, role=Role.API) as op:
        _tenant, _key, token = await op.tenant_with_key("1")
        async with op.client(token) as client:
            await create(client)
        body = await report(op.admin, "/admin/v1/margin", group_by="tenant")
        assert body["credit_value"] is None
        (line,) = body["data"]
        assert (line["charged_amount"], line["upstream_credits"], line["videos_with_credits"]) == (
            "0.10",
            "0.00",
            0,
        )
        assert (line["upstream_cost"], line["margin"]) == (None, None)
        await op.balanced()
