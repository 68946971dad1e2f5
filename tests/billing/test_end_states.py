"""Every way a task can end, and what it costs: through the HTTP API of an app in the test
process (sandbox provider, a price table in force), then the ledger rows, the task's
`price`, the tenant's balance and the key's spend, and the whole books (moneylib) checked.

Where the moment matters it is staged, not waited for: a ManualClock that stands still
keeps a task at progress 0 (no look at the upstream happens), a prompt with
`[sandbox:fail]` at a slow pace holds a job "running at 50 %" for as long as the test
needs, and the deadline is reached by moving the clock."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from inprocess import asgi_client, gateway_settings, running_app
from moneylib import (
    CLIP,
    PRICES,
    Account,
    Books,
    check,
    check_books,
    finished,
    funded_app_tenant,
    poll,
    read_books,
)
from vidugate.clock import Clock, ManualClock
from vidugate.domain.price_documents import loads_prices

pytestmark = pytest.mark.asyncio

PRICE = 100_000  # CLIP's price, 0.10 EUR, in micros
FAIL = {**CLIP, "prompt": "a boat that sinks [sandbox:fail]"}
SLOW = 600.0  # a sandbox pace no test waits out: the job stays where it is


def price(state: str, charged: str | None) -> dict[str, Any]:
    return {"amount": "0.10", "currency": "EUR", "state": state, "charged": charged}


@contextlib.asynccontextmanager
async def priced_app(
    tmp_path: Path, clock: Clock | None = None, *, priced: bool = True, **values: Any
) -> AsyncIterator[tuple[FastAPI, str, Account]]:
    """A running app with the test price table in force (unless not `priced`), its
    database URL, and a tenant with 1.00 EUR and a key."""
    settings = gateway_settings(tmp_path, **values)
    async with running_app(settings, clock) as app:
        if priced:
            await app.state.gateway.billing.prices.set(loads_prices(PRICES, format="toml"), "t")
        account = await funded_app_tenant(app, Decimal("1.00"))
        yield app, str(settings.database_url), account


async def books_of(app: FastAPI, url: str, **kwargs: Any) -> Books:
    assert await app.state.gateway.billing.ledger.unbalanced() == []
    return await check_books(url, **kwargs)


def began(body: dict[str, Any]) -> bool:
    return bool(body["status"] == "processing" and body["progress"] >= 1)


async def test_completed_is_settled_at_its_price(tmp_path: Path) -> None:
    async with priced_app(tmp_path) as (app, url, account):
        async with asgi_client(app, account.token) as client:
            created = await client.post("/v1/videos", json=CLIP)
            assert created.status_code == 200, created.text
            assert created.json()["price"] == price("reserved", None)
            done = await finished(client, created.json()["id"])
        assert done["status"] == "completed"
        assert done["price"] == price("settled", "0.10")
        books = await books_of(app, url)
        assert books.of_task(done["id"]) == [("reserve", -PRICE), ("settle", 0)]
        assert books.balance(account.tenant_id) == Decimal("0.90")
        assert books.spent(account.key_id) == Decimal("0.10")


async def test_failed_upstream_is_refunded_in_full(tmp_path: Path) -> None:
    async with priced_app(tmp_path) as (app, url, account):
        async with asgi_client(app, account.token) as client:
            created = await client.post("/v1/videos", json=FAIL)
            assert created.status_code == 200, created.text
            done = await finished(client, created.json()["id"])
        assert done["status"] == "failed"
        assert done["error"]["code"] == "sandbox_failure"
        assert "[sandbox:fail]" in done["error"]["message"]
        assert done["price"] == price("refunded", "0.00")
        books = await books_of(app, url)
        assert books.of_task(done["id"]) == [("reserve", -PRICE), ("refund", PRICE)]
        assert books.balance(account.tenant_id) == Decimal("1.00")
        assert books.spent(account.key_id) == 0


async def test_sandbox_fail_marker_runs_at_half_way_before_failing(tmp_path: Path) -> None:
    # At a slow pace the job holds "running at 50" (what makes it count as begun).
    async with priced_app(tmp_path, sandbox_pace=SLOW) as (app, url, account):
        async with asgi_client(app, account.token) as client:
            created = (await client.post("/v1/videos", json=FAIL)).json()
            body = await poll(client, f"/v1/videos/{created['id']}", began)
            assert body["progress"] == 50
            assert body["price"] == price("reserved", None)
        await books_of(app, url)


async def test_failed_by_deadline_is_refunded(tmp_path: Path) -> None:
    clock = ManualClock()
    # pace 10: a 4-second video renders for 40 real seconds, long past the 2-second
    # deadline the clock reaches in a few looks.
    values: dict[str, Any] = {"sandbox_pace": 10.0, "task_deadline_seconds": 2.0}
    async with priced_app(tmp_path, clock, **values) as (app, url, account):
        async with asgi_client(app, account.token) as client:
            created = await client.post("/v1/videos", json={**CLIP, "duration": 4})
            assert created.json()["price"]["amount"] == "0.40"
            done = await poll(
                client,
                f"/v1/videos/{created.json()['id']}",
                lambda b: b["status"] == "failed",
                between=lambda: clock.advance(0.25),
            )
        assert done["error"]["code"] == "timeout"
        assert done["price"]["state"] == "refunded"
        books = await books_of(app, url)
        assert books.of_task(done["id"]) == [("reserve", -4 * PRICE), ("refund", 4 * PRICE)]
        assert books.balance(account.tenant_id) == Decimal("1.00")
        assert books.spent(account.key_id) == 0


async def test_cancel_before_the_upstream_began_is_refunded_in_full(tmp_path: Path) -> None:
    # The clock all but stands still: the worker sends the task but never looks at it
    # again, so the gateway never learns the upstream began (progress stays 0).
    clock = ManualClock()
    async with priced_app(tmp_path, clock) as (app, url, account):
        async with asgi_client(app, account.token) as client:
            created = (await client.post("/v1/videos", json=CLIP)).json()
            assert (await client.get(f"/v1/videos/{created['id']}")).json()["progress"] == 0
            # A change made at the very clock reading of the last answer would be served
            # from the rendered-object cache (keyed by updated_at): move a hair on.
            clock.advance(0.01)
            cancelled = await client.post(f"/v1/videos/{created['id']}/cancel")
            assert cancelled.status_code == 200, cancelled.text
            assert cancelled.json()["status"] == "cancelled"
            assert cancelled.json()["price"] == price("refunded", "0.00")
        books = await books_of(app, url)
        assert books.of_task(created["id"]) == [("reserve", -PRICE), ("refund", PRICE)]
        assert books.balance(account.tenant_id) == Decimal("1.00")
        assert books.spent(account.key_id) == 0


async def test_cancel_after_the_upstream_began_is_charged_in_full_by_default(
    tmp_path: Path,
) -> None:
    async with priced_app(tmp_path, sandbox_pace=SLOW) as (app, url, account):
        async with asgi_client(app, account.token) as client:
            created = (await client.post("/v1/videos", json=FAIL)).json()
            await poll(client, f"/v1/videos/{created['id']}", began)
            cancelled = (await client.post(f"/v1/videos/{created['id']}/cancel")).json()
        assert cancelled["status"] == "cancelled"
        assert cancelled["price"] == price("settled", "0.10")
        books = await books_of(app, url)
        assert books.of_task(created["id"]) == [("reserve", -PRICE), ("settle", 0)]
        assert books.balance(account.tenant_id) == Decimal("0.90")
        assert books.spent(account.key_id) == Decimal("0.10")


async def test_cancel_after_the_upstream_began_is_charged_the_policy_share(
    tmp_path: Path,
) -> None:
    # A real render this time, slowed so that it is half-way when cancelled.
    values: dict[str, Any] = {"sandbox_pace": SLOW, "cancel_charge_percent": Decimal(40)}
    async with priced_app(tmp_path, **values) as (app, url, account):
        async with asgi_client(app, account.token) as client:
            created = (await client.post("/v1/videos", json=CLIP)).json()
            await poll(client, f"/v1/videos/{created['id']}", began)
            cancelled = (await client.post(f"/v1/videos/{created['id']}/cancel")).json()
        assert cancelled["status"] == "cancelled"
        assert cancelled["price"] == price("settled", "0.04")
        books = await books_of(app, url, cancel_percent=Decimal(40))
        assert books.of_task(created["id"]) == [("reserve", -PRICE), ("settle", 60_000)]
        assert books.balance(account.tenant_id) == Decimal("0.96")
        assert books.spent(account.key_id) == Decimal("0.04")


async def test_delete_while_queued_is_a_cancel_refunded_in_full(tmp_path: Path) -> None:
    async with priced_app(tmp_path, ManualClock()) as (app, url, account):
        async with asgi_client(app, account.token) as client:
            created = (await client.post("/v1/videos", json=CLIP)).json()
            deleted = await client.delete(f"/v1/videos/{created['id']}")
            assert deleted.status_code == 200, deleted.text
            assert (await client.get(f"/v1/videos/{created['id']}")).status_code == 404
        books = await books_of(app, url)
        assert books.of_task(created["id"]) == [("reserve", -PRICE), ("refund", PRICE)]
        assert books.tasks[created["id"]][5] == "refunded"
        assert books.balance(account.tenant_id) == Decimal("1.00")
        assert books.spent(account.key_id) == 0


async def test_delete_after_the_upstream_began_is_charged_as_a_cancel(tmp_path: Path) -> None:
    async with priced_app(tmp_path, sandbox_pace=SLOW) as (app, url, account):
        async with asgi_client(app, account.token) as client:
            created = (await client.post("/v1/videos", json=FAIL)).json()
            await poll(client, f"/v1/videos/{created['id']}", began)
            assert (await client.delete(f"/v1/videos/{created['id']}")).status_code == 200
            assert (await client.get(f"/v1/videos/{created['id']}")).status_code == 404
        books = await books_of(app, url)
        assert books.of_task(created["id"]) == [("reserve", -PRICE), ("settle", 0)]
        assert books.tasks[created["id"]][5] == "settled"
        assert books.balance(account.tenant_id) == Decimal("0.90")
        assert books.spent(account.key_id) == Decimal("0.10")


async def test_delete_after_completion_keeps_the_settlement(tmp_path: Path) -> None:
    async with priced_app(tmp_path) as (app, url, account):
        async with asgi_client(app, account.token) as client:
            created = (await client.post("/v1/videos", json=CLIP)).json()
            assert (await finished(client, created["id"]))["status"] == "completed"
            before = await books_of(app, url)
            assert (await client.delete(f"/v1/videos/{created['id']}")).status_code == 200
            assert (await client.get(f"/v1/videos/{created['id']}")).status_code == 404
        after = await books_of(app, url)
        assert after.rows == before.rows
        assert after.of_task(created["id"]) == [("reserve", -PRICE), ("settle", 0)]
        assert after.tasks[created["id"]][5:7] == ("settled", PRICE)
        assert after.balance(account.tenant_id) == Decimal("0.90")


async def test_a_task_made_before_any_price_table_costs_nothing(tmp_path: Path) -> None:
    # The tenant has money, but no table is in force: nothing is held or charged.
    async with priced_app(tmp_path, priced=False) as (app, url, account):
        async with asgi_client(app, account.token) as client:
            created = await client.post("/v1/videos", json=CLIP)
            assert created.status_code == 200, created.text
            assert created.json()["price"] is None
            done = await finished(client, created.json()["id"])
        assert done["status"] == "completed"
        assert done["price"] is None
        books = await books_of(app, url)
        assert books.of_task(done["id"]) == []
        assert books.tasks[done["id"]][4:7] == (None, None, None)
        assert [row[4] for row in books.rows] == ["topup"]
        assert books.balance(account.tenant_id) == Decimal("1.00")


async def test_vidu_surface_is_charged_alike_and_shows_the_price(tmp_path: Path) -> None:
    async with priced_app(tmp_path) as (app, url, account):
        async with asgi_client(app, account.token) as client:
            created = await client.post(
                "/vidu/ent/v2/text2video",
                json={"model": "viduq2-turbo", "prompt": "a paper boat", "duration": 1,
                      "resolution": "540p"},
            )  # fmt: skip
            assert created.status_code == 200, created.text
            assert created.json()["price"] == price("reserved", None)
            task_id = created.json()["task_id"]
            done = await poll(
                client,
                f"/vidu/ent/v2/tasks/{task_id}/creations",
                lambda b: b["state"] in ("success", "failed"),
            )
        assert done["state"] == "success"
        assert done["price"] == price("settled", "0.10")
        books = await books_of(app, url)
        assert books.of_task(task_id) == [("reserve", -PRICE), ("settle", 0)]
        assert books.balance(account.tenant_id) == Decimal("0.90")
        assert books.spent(account.key_id) == Decimal("0.10")


async def test_the_books_check_finds_a_second_give_back(tmp_path: Path) -> None:
    # The check itself, on books with one row too many: a cancelled (refunded) task given
    # its price back a second time, as a double refund would.
    clock = ManualClock()
    async with priced_app(tmp_path, clock) as (app, url, account):
        async with asgi_client(app, account.token) as client:
            created = (await client.post("/v1/videos", json=CLIP)).json()
            clock.advance(0.01)
            assert (await client.post(f"/v1/videos/{created['id']}/cancel")).status_code == 200
        books = await read_books(url)
    row_id, tenant, key, _task, _kind, _amount, after = books.rows[-1]
    books.rows.append((row_id + 1, tenant, key, created["id"], "settle", PRICE, after + PRICE))
    with pytest.raises(AssertionError) as caught:
        check(books)
    found = str(caught.value)
    assert f"{account.tenant_id}: balance 1000000 != ledger sum 1100000" in found
    assert f"{created['id']} (cancelled, refunded): final, closed by" in found
    assert f"{account.key_id}: spent 0" in found
