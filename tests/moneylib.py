"""The books of a gateway's database, read past the gateway and checked: what every money
test asserts at its end, on either tier (an app in the test process, or `vidugate serve`
processes, running or killed) and either backend.

`check_books(url)` reads tenants, keys, tasks and the ledger with plain SQL (dblib.query)
and asserts, with every offence listed:
- each tenant's balance is the sum of its ledger rows, and each row's balance_after is the
  running sum in row order (so the balance was never anything else, even for a moment),
  never below the overdraft after a reserve;
- each priced task has exactly one reserve row (minus its price); once final, exactly one
  settle or refund row that matches its status (completed: settled at the full price;
  failed: refunded in full; cancelled: refunded in full, or settled at the cancel
  policy's share) and is no longer `reserved`; while active, neither;
- a task made with no price has no ledger row at all;
- each key's spent is its tasks' net charges (held for the active ones) and the negated
  sum of its task rows (so no task row may have been purged by retention meanwhile).
`funded_app_tenant` / `funded_tenant` make a tenant with money and a key, through a
running app's billing or (before a `serve` starts) straight through the store."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
from fastapi import FastAPI

from dblib import query, run_sync
from vidugate.domain.ledger import LedgerKind, Tenant
from vidugate.domain.money import to_micros
from vidugate.domain.tasks import new_id
from vidugate.services.keys import KeyService
from vidugate.store.db import open_database
from vidugate.store.keys import KeyRepository
from vidugate.store.ledger import Ledger
from vidugate.store.tenants import TenantRepository

# Two prices a test can count in: 0.10 EUR per second at 540p (the sandbox's short clips)
# and 0.25 per second for viduq3-pro (the Vidu emulator's model, any resolution).
PRICES = """
currency = "EUR"
decimals = 2
[models."viduq2-turbo"]
per_second = { "540p" = "0.10", "720p" = "0.20", "1080p" = "0.40" }
[models."viduq3-pro"]
per_second = { "540p" = "0.25", "720p" = "0.25", "1080p" = "0.25" }
"""
CLIP = {"model": "viduq2-turbo", "prompt": "a slow sunrise", "duration": 1, "resolution": "540p"}
CLIP_PRICE = Decimal("0.10")
FINAL = ("completed", "failed", "cancelled")
TASK_KINDS = {LedgerKind.RESERVE.value, LedgerKind.SETTLE.value, LedgerKind.REFUND.value}


@dataclass(frozen=True, slots=True)
class Account:
    tenant_id: str
    key_id: str
    token: str


async def funded_app_tenant(
    app: FastAPI, balance: Decimal, *, spend_cap: Decimal | None = None, name: str = "acme"
) -> Account:
    """A tenant topped up with `balance` and a client key of its own, by the app's billing."""
    billing = app.state.gateway.billing
    tenant = await billing.create_tenant(name)
    if balance:
        await billing.move(tenant.id, LedgerKind.TOPUP, balance, "first payment")
    key, token = await billing.create_key(tenant.id, f"{name}-app", spend_cap=spend_cap)
    return Account(tenant.id, key.id, token)


async def funded_tenant(
    url: str, balance: Decimal, *, spend_cap: Decimal | None = None, name: str = "acme"
) -> Account:
    """The same, straight through the store (the database made and migrated if new): for
    a `vidugate serve` that starts afterwards."""
    async with open_database(url) as database:
        now = time.time()
        tenant = Tenant(new_id("tenant_", now), name, Decimal(0), Decimal(0), now)
        await TenantRepository(database).insert(tenant)
        if balance:
            await Ledger(database).move(tenant.id, LedgerKind.TOPUP, balance, "first", now=now)
        key, token = await KeyService(KeyRepository(database)).create(
            f"{name}-app", tenant_id=tenant.id, spend_cap=spend_cap
        )
    return Account(tenant.id, key.id, token)


@dataclass
class Books:
    """What the database holds, as plain rows."""

    tenants: dict[str, tuple[int, int]]  # id -> (balance, overdraft) in micros
    keys: dict[str, tuple[str, int | None, int]]  # id -> (tenant, cap, spent)
    # id -> (key, tenant, status, progress, price, state, charged, deleted_at)
    tasks: dict[str, tuple[Any, ...]]
    # (id, tenant, key, task, kind, amount, balance_after), in row order
    rows: list[tuple[Any, ...]]
    problems: list[str] = field(default_factory=list)

    def of_task(self, task_id: str) -> list[tuple[str, int]]:
        """(kind, amount in micros) of a task's rows, in order."""
        return [(r[4], int(r[5])) for r in self.rows if r[3] == task_id]

    def balance(self, tenant_id: str) -> Decimal:
        return Decimal(self.tenants[tenant_id][0]) / 1_000_000

    def spent(self, key_id: str) -> Decimal:
        return Decimal(self.keys[key_id][2]) / 1_000_000


async def read_books(url: str) -> Books:
    tenants = await query(url, "SELECT id, balance_micros, overdraft_micros FROM tenants")
    keys = await query(url, "SELECT id, tenant_id, spend_cap_micros, spent_micros FROM api_keys")
    tasks = await query(
        url,
        "SELECT id, key_id, tenant_id, status, progress, price_micros, charge_state, "
        "charged_micros, deleted_at FROM tasks",
    )
    rows = await query(
        url,
        "SELECT id, tenant_id, key_id, task_id, kind, amount_micros, balance_after_micros "
        "FROM ledger ORDER BY id",
    )
    return Books(
        tenants={r[0]: (int(r[1]), int(r[2])) for r in tenants},
        keys={r[0]: (r[1], r[2], int(r[3])) for r in keys},
        tasks={r[0]: tuple(r[1:]) for r in tasks},
        rows=rows,
    )


def cancel_charge(price: int, percent: Decimal) -> int:
    """What a cancel after the upstream began is charged, in micros (store/ledger.py)."""
    charged = (Decimal(price) / 1_000_000 * percent / 100).quantize(
        Decimal("0.000001"), rounding=ROUND_HALF_UP
    )
    return to_micros(charged)


def _check_tenants(books: Books) -> None:
    running: dict[str, int] = defaultdict(int)
    for row_id, tenant, _key, task, kind, amount, after in books.rows:
        running[tenant] += int(amount)
        if int(after) != running[tenant]:
            books.problems.append(
                f"row {row_id} ({kind} {task}): balance_after {after} != running sum "
                f"{running[tenant]}"
            )
        overdraft = books.tenants.get(tenant, (0, 0))[1]
        if kind == LedgerKind.RESERVE.value and int(after) < -overdraft:
            books.problems.append(f"row {row_id}: reserve took {tenant} to {after}")
    for tenant, (balance, _overdraft) in books.tenants.items():
        if balance != running[tenant]:
            books.problems.append(f"{tenant}: balance {balance} != ledger sum {running[tenant]}")


def _check_task(books: Books, task_id: str, cancel_percent: Decimal) -> int:
    """The task's checks; its net charge so far (what its key has spent on it)."""
    key, tenant, status, _progress, price, state, charged, _deleted = books.tasks[task_id]
    rows = [r for r in books.rows if r[3] == task_id]
    where = f"{task_id} ({status}, {state})"
    if price is None:
        if rows or state is not None:
            books.problems.append(f"{where}: no price, yet rows {books.of_task(task_id)}")
        return 0
    price = int(price)
    kinds = Counter(r[4] for r in rows)
    if kinds[LedgerKind.RESERVE.value] != 1:
        books.problems.append(f"{where}: {kinds[LedgerKind.RESERVE.value]} reserve rows")
    for r in rows:
        if r[4] not in TASK_KINDS or (r[1], r[2]) != (tenant, key):
            books.problems.append(f"{where}: stray row {r}")
        if r[4] == LedgerKind.RESERVE.value and int(r[5]) != -price:
            books.problems.append(f"{where}: reserved {r[5]}, price {price}")
    closes = [r for r in rows if r[4] != LedgerKind.RESERVE.value]
    if status not in FINAL:
        if state != "reserved" or closes:
            books.problems.append(f"{where}: active but closed by {books.of_task(task_id)}")
        return price
    if state == "reserved" or len(closes) != 1:
        books.problems.append(f"{where}: final, closed by {books.of_task(task_id)}")
        return price
    kind, back = closes[0][4], int(closes[0][5])
    net = price - back
    expected: set[tuple[str, str, int]] = set()
    if status == "completed":
        expected = {("settle", "settled", price)}
    elif status == "failed":
        expected = {("refund", "refunded", 0)}
    else:  # cancelled: before the upstream began, or after (the policy's share)
        share = cancel_charge(price, cancel_percent)
        expected = {("refund", "refunded", 0), ("settle", "settled", share)}
        if share == 0:
            expected = {("refund", "refunded", 0)}
    if (kind, state, net) not in expected or charged is None or int(charged) != net:
        books.problems.append(
            f"{where}: closed by {kind} {back} (charged {charged}, net {net}); "
            f"expected one of {sorted(expected)}"
        )
    return net


def check(books: Books, *, cancel_percent: Decimal = Decimal(100)) -> Books:
    _check_tenants(books)
    net_by_key: dict[str, int] = defaultdict(int)
    for task_id, task in books.tasks.items():
        net_by_key[task[0]] += _check_task(books, task_id, cancel_percent)
    task_ids = set(books.tasks)
    rows_by_key: dict[str, int] = defaultdict(int)
    for r in books.rows:
        if r[4] in TASK_KINDS:
            rows_by_key[r[2]] -= int(r[5])
            if r[3] not in task_ids:
                books.problems.append(f"row {r[0]} names a task that is not stored: {r}")
    for key_id, (_tenant, cap, spent) in books.keys.items():
        if spent != net_by_key[key_id] or spent != rows_by_key[key_id]:
            books.problems.append(
                f"{key_id}: spent {spent}, its tasks' net charges {net_by_key[key_id]}, "
                f"its rows {rows_by_key[key_id]}"
            )
        if cap is not None and spent > int(cap):
            books.problems.append(f"{key_id}: spent {spent} past its cap {cap}")
    assert not books.problems, "the books do not add up:\n" + "\n".join(books.problems)
    return books


async def check_books(url: str, *, cancel_percent: Decimal = Decimal(100)) -> Books:
    """The books, checked (AssertionError listing every problem); for further asserts."""
    return check(await read_books(url), cancel_percent=cancel_percent)


def check_books_sync(url: str, *, cancel_percent: Decimal = Decimal(100)) -> Books:
    return run_sync(check_books(url, cancel_percent=cancel_percent))


async def poll(
    client: httpx.AsyncClient,
    path: str,
    done: Callable[[dict[str, Any]], bool],
    *,
    between: Callable[[], None] | None = None,
    tries: int = 6000,
) -> dict[str, Any]:
    """GET `path` until `done(body)`; `between` runs between looks (a ManualClock moved
    on). The bound on tries only ends a broken run."""
    body: dict[str, Any] = {}
    for _ in range(tries):
        body = (await client.get(path)).json()
        if done(body):
            return body
        if between is not None:
            between()
        await asyncio.sleep(0.02)
    raise AssertionError(f"{path} never got there: {body}")


async def finished(client: httpx.AsyncClient, video_id: str) -> dict[str, Any]:
    return await poll(client, f"/v1/videos/{video_id}", lambda b: b["status"] in FINAL)
