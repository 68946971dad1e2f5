"""The admin API over HTTP, in the test process: the operator's whole flow (prices, a
tenant with a balance, a key with a cap, a video charged, top-ups and adjustments with
their reasons, the ledger), who may call it, and bad input refused with the field named.
On both backends; every test ends with the balances equal to their ledger rows."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from adminlib import CLIP, PRICES, error_of, finished, operator
from vidugate.domain.keys import KeyRole
from vidugate.domain.ledger import DEFAULT_TENANT

pytestmark = pytest.mark.asyncio


async def test_the_operator_flow_over_http(tmp_path: Path) -> None:
    async with operator(tmp_path, prices=False) as op:
        admin = op.admin
        assert error_of(await admin.get("/admin/v1/prices"), 404)["message"].startswith(
            "No price table is set"
        )
        put = await admin.put("/admin/v1/prices", json=PRICES)
        assert put.status_code == 200, put.text
        assert put.json()["changed"] is True
        assert put.json()["source"] == "admin api"
        again = await admin.put("/admin/v1/prices", json=PRICES)
        assert again.json()["changed"] is False
        assert again.json()["id"] == put.json()["id"]
        shown = (await admin.get("/admin/v1/prices")).json()
        assert shown["document"]["currency"] == "EUR"
        assert shown["document"]["models"]["viduq2-turbo"]["per_second"]["720p"] == "0.2"

        tenant = await admin.post(
            "/admin/v1/tenants", json={"name": "acme", "balance": "1.00", "overdraft": "0"}
        )
        assert tenant.status_code == 200, tenant.text
        tenant_id = tenant.json()["id"]
        assert tenant.json()["balance"] == "1.00"
        key = await admin.post(
            "/admin/v1/keys", json={"tenant_id": tenant_id, "name": "acme-app", "spend_cap": "0.5"}
        )
        assert key.status_code == 200, key.text
        token, key_id = key.json()["token"], key.json()["id"]
        assert token.startswith("vg-")
        assert key.json()["spend_cap"] == "0.50"

        async with op.client(token) as client:
            created = await client.post("/v1/videos", json=CLIP)
            assert created.status_code == 200, created.text
            done = await finished(client, created.json()["id"])
        assert done["price"] == {
            "amount": "0.10",
            "currency": "EUR",
            "state": "settled",
            "charged": "0.10",
        }
        read = await admin.get(f"/admin/v1/tenants/{tenant_id}")
        assert read.json()["balance"] == "0.90"

        topup = await admin.post(
            f"/admin/v1/tenants/{tenant_id}/topups", json={"amount": "2.5", "reason": "invoice 7"}
        )
        assert topup.status_code == 200, topup.text
        assert topup.json()["kind"] == "topup"
        assert topup.json()["balance_after"] == "3.40"
        adjust = await admin.post(
            f"/admin/v1/tenants/{tenant_id}/adjustments",
            json={"amount": "-0.40", "reason": "goodwill reversed"},
        )
        assert adjust.status_code == 200, adjust.text
        assert (adjust.json()["amount"], adjust.json()["balance_after"]) == ("-0.40", "3.00")
        patched = await admin.patch(f"/admin/v1/tenants/{tenant_id}", json={"overdraft": "5"})
        assert patched.json()["overdraft"] == "5.00"
        listed = (await admin.get("/admin/v1/tenants")).json()["data"]
        assert {t["id"]: t["balance"] for t in listed}[tenant_id] == "3.00"

        ledger = (await admin.get("/admin/v1/ledger", params={"tenant_id": tenant_id})).json()
        rows = [(r["kind"], r["amount"], r["reason"]) for r in ledger["data"]]
        assert rows == [
            ("topup", "1.00", "initial balance"),
            ("reserve", "-0.10", ""),
            ("settle", "0.00", ""),
            ("topup", "2.50", "invoice 7"),
            ("adjust", "-0.40", "goodwill reversed"),
        ]
        assert ledger["has_more"] is False
        assert ledger["data"][1]["task_id"] == created.json()["id"]
        assert ledger["data"][1]["key_id"] == key_id
        first = (
            await admin.get("/admin/v1/ledger", params={"tenant_id": tenant_id, "limit": 2})
        ).json()
        assert first["has_more"] is True
        rest = await admin.get(
            "/admin/v1/ledger", params={"tenant_id": tenant_id, "after": first["last_id"]}
        )
        assert [r["id"] for r in first["data"] + rest.json()["data"]] == [
            r["id"] for r in ledger["data"]
        ]
        by_task = await admin.get("/admin/v1/ledger", params={"task_id": created.json()["id"]})
        assert [r["kind"] for r in by_task.json()["data"]] == ["reserve", "settle"]

        keys = (await admin.get("/admin/v1/keys", params={"tenant_id": tenant_id})).json()["data"]
        assert [(k["id"], k["spent"], k["spend_cap"]) for k in keys] == [(key_id, "0.10", "0.50")]
        assert "token" not in keys[0]
        tasks = (await admin.get("/admin/v1/tasks", params={"tenant_id": tenant_id})).json()
        assert [(t["id"], t["status"], t["key_id"]) for t in tasks["data"]] == [
            (created.json()["id"], "completed", key_id)
        ]
        assert tasks["data"][0]["price"]["charged"] == "0.10"

        uncapped = await admin.patch(f"/admin/v1/keys/{key_id}", json={"spend_cap": None})
        assert uncapped.json()["spend_cap"] is None
        revoked = await admin.post(f"/admin/v1/keys/{key_id}/revoke")
        assert revoked.json()["revoked_at"] is not None
        async with op.client(token) as client:
            assert (await client.get("/v1/videos")).status_code == 401
        await op.balanced()


async def test_every_tenants_tasks_filter_and_page(tmp_path: Path) -> None:
    async with operator(tmp_path) as op:
        a_tenant, a_key, a_token = await op.tenant_with_key("5", name="a")
        b_tenant, _b_key, b_token = await op.tenant_with_key("5", name="b")
        made = []
        for token in (a_token, b_token, a_token):
            async with op.client(token) as client:
                created = await client.post("/v1/videos", json=CLIP)
                assert created.status_code == 200, created.text
                made.append(created.json()["id"])
                await finished(client, made[-1])
        every = (await op.admin.get("/admin/v1/tasks")).json()
        assert [t["id"] for t in every["data"]] == made[::-1]
        a_only = await op.admin.get("/admin/v1/tasks", params={"tenant_id": a_tenant})
        assert [t["id"] for t in a_only.json()["data"]] == [made[2], made[0]]
        by_key = await op.admin.get(
            "/admin/v1/tasks", params={"key_id": a_key, "status": "completed", "limit": 1}
        )
        assert [t["id"] for t in by_key.json()["data"]] == [made[2]]
        assert by_key.json()["has_more"] is True
        older = await op.admin.get(
            "/admin/v1/tasks", params={"key_id": a_key, "after": by_key.json()["last_id"]}
        )
        assert [t["id"] for t in older.json()["data"]] == [made[0]]
        none = await op.admin.get(
            "/admin/v1/tasks", params={"model": "viduq3-pro", "created_after": "2026-01-01"}
        )
        assert none.json()["data"] == []
        future = await op.admin.get("/admin/v1/tasks", params={"created_after": "2199-12-31"})
        assert future.json()["data"] == []
        assert b_tenant
        await op.balanced()


async def test_the_admin_api_takes_only_an_active_admin_key(tmp_path: Path) -> None:
    async with operator(tmp_path) as op:
        _tenant, _key, client_token = await op.tenant_with_key("1")
        async with op.client(None) as anonymous:
            missing = error_of(await anonymous.get("/admin/v1/tenants"), 401)
            assert "didn't provide an API key" in missing["message"]
        async with op.client(client_token) as client:
            refused = error_of(await client.get("/admin/v1/tenants"), 401)
            assert "admin key" in refused["message"]
            error_of(await client.put("/admin/v1/prices", json=PRICES), 401)
        async with op.client(op.admin_token) as admin:
            wrong = error_of(await admin.post("/v1/videos", json=CLIP), 401)
            assert "admin API" in wrong["message"]
            error_of(await admin.get("/v1/balance"), 401)
            vidu = await admin.post("/vidu/ent/v2/text2video", json={"model": "viduq2-turbo"})
            assert vidu.status_code == 401
        billing = op.app.state.gateway.billing
        other, other_token = await billing.create_key(DEFAULT_TENANT, "old ops", role=KeyRole.ADMIN)
        async with op.client(other_token) as old:
            assert (await old.get("/admin/v1/tenants")).status_code == 200
            revoked = await op.admin.post(f"/admin/v1/keys/{other.id}/revoke")
            assert revoked.status_code == 200, revoked.text
            assert error_of(await old.get("/admin/v1/tenants"), 401)["code"] == "invalid_api_key"
        await op.balanced()


@pytest.mark.parametrize(
    ("route", "body", "param", "says"),
    [
        ("topups", {"amount": 1.5, "reason": "x"}, "amount", "binary float"),
        ("topups", {"amount": "0.0000001", "reason": "x"}, "amount", "7 decimal places"),
        ("topups", {"amount": "-1", "reason": "x"}, "amount", "not negative"),
        ("topups", {"amount": "0", "reason": "x"}, "amount", "above 0"),
        ("topups", {"amount": "1e400", "reason": "x"}, "amount", "out of range"),
        ("topups", {"amount": "1"}, "reason", "reason"),
        ("topups", {"amount": "1", "reason": "x\u0000y"}, "reason", "control characters"),
        ("adjustments", {"amount": "0", "reason": "x"}, "amount", "moves nothing"),
        ("adjustments", {"amount": "1", "reason": "x", "note": "y"}, "note", "note"),
    ],
)
async def test_bad_money_is_refused_naming_the_field(
    tmp_path: Path, route: str, body: dict[str, object], param: str, says: str
) -> None:
    async with operator(tmp_path) as op:
        tenant_id, _key, _token = await op.tenant_with_key("1")
        error = error_of(
            await op.admin.post(f"/admin/v1/tenants/{tenant_id}/{route}", json=body), 400
        )
        assert error["param"] == param, error
        assert says in error["message"], error
        assert (await op.admin.get(f"/admin/v1/tenants/{tenant_id}")).json()["balance"] == "1.00"
        await op.balanced()


async def test_other_bad_input_is_refused_naming_the_field(tmp_path: Path) -> None:
    async with operator(tmp_path) as op:
        admin = op.admin
        cases = [
            (await admin.post("/admin/v1/tenants", json={"name": "x", "balance": 2.0}), "balance"),
            (await admin.post("/admin/v1/tenants", json={"name": ""}), "name"),
            (
                await admin.post("/admin/v1/tenants", json={"name": "x", "overdraft": "-1"}),
                "overdraft",
            ),
            (await admin.patch("/admin/v1/tenants/tenant_default", json={}), "overdraft"),
            (
                await admin.post(
                    "/admin/v1/keys",
                    json={"tenant_id": "tenant_default", "name": "k", "spend_cap": "1.1234567"},
                ),
                "spend_cap",
            ),
            (await admin.get("/admin/v1/usage", params={"group_by": "week"}), "group_by"),
            (await admin.get("/admin/v1/usage", params={"since": "yesterday"}), "since"),
            (
                await admin.get(
                    "/admin/v1/usage", params={"since": "2026-02-01", "until": "2026-01-01"}
                ),
                "until",
            ),
            (await admin.get("/admin/v1/margin", params={"group_by": "key"}), "group_by"),
            (await admin.get("/admin/v1/ledger", params={"limit": 1001}), "limit"),
            (await admin.get("/admin/v1/tasks", params={"status": "done"}), "status"),
            (await admin.get("/admin/v1/tasks", params={"tenant_id": "a\u0000b"}), "tenant_id"),
            (
                await admin.post("/admin/v1/keys", json={"tenant_id": "a\u0000", "name": "k"}),
                "tenant_id",
            ),
            (
                await admin.post(
                    "/admin/v1/tenants",
                    content=b'{"name": "\\ud800"}',
                    headers={"content-type": "application/json"},
                ),
                "name",
            ),
        ]
        for response, param in cases:
            error = error_of(response, 400)
            assert error["param"] == param, (param, error)
        assert (
            error_of(await admin.get("/admin/v1/tenants/tenant_nope"), 404)["param"] == "tenant_id"
        )
        made = await admin.post("/admin/v1/keys", json={"tenant_id": "tenant_nope", "name": "k"})
        assert error_of(made, 404)["param"] == "tenant_id"
        assert (
            error_of(await admin.post("/admin/v1/keys/key_nope/revoke"), 404)["param"] == "key_id"
        )
        await op.balanced()


async def test_a_bad_price_table_is_refused_with_its_path(tmp_path: Path) -> None:
    async with operator(tmp_path) as op:
        missing = {"currency": "EUR", "models": {"viduq2-turbo": {"per_second": {"540p": "0.1"}}}}
        error = error_of(await op.admin.put("/admin/v1/prices", json=missing), 400)
        assert error["param"] == "models.viduq2-turbo.per_second.720p"
        assert "is missing" in error["message"]
        odd = {**PRICES, "models": {"viduq2-turbo": {"per_second": {
            "540p": "0.1", "720p": "0.2", "1080p": "0.12345678"}}}}  # fmt: skip
        error = error_of(await op.admin.put("/admin/v1/prices", json=odd), 400)
        assert error["param"] == "models.viduq2-turbo.per_second.1080p"
        unknown = await op.admin.put("/admin/v1/prices", json={**PRICES, "models": {"nope": {}}})
        assert error_of(unknown, 400)["param"] == "models.nope"
        broken = await op.admin.put(
            "/admin/v1/prices", content=b"{", headers={"content-type": "application/json"}
        )
        assert "not valid JSON" in error_of(broken, 400)["message"]
        toml = (
            'currency = "USD"\n[models."viduq2-turbo"]\n'
            'per_second = { "540p" = 0.05, "720p" = 0.08, "1080p" = 0.15 }\n'
        )
        as_toml = await op.admin.put(
            "/admin/v1/prices", content=toml, headers={"content-type": "application/toml"}
        )
        assert as_toml.status_code == 200, as_toml.text
        assert as_toml.json()["document"]["currency"] == "USD"
        assert as_toml.json()["document"]["models"]["viduq2-turbo"]["per_second"]["540p"] == "0.05"
        table = await op.app.state.gateway.billing.prices.current()
        assert table.models["viduq2-turbo"].per_second["720p"] == Decimal("0.08")
        await op.balanced()
