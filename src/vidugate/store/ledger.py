"""The ledger: every movement of a tenant's balance, written in the same transaction as
what causes it.

A task's money moves as an effect of its transitions (store/effects.py): `Created`
reserves its price (the tenant's balance and the key's spend, each checked in the
conditional UPDATE that moves it, so concurrent creates can never overdraw); the end of
the task settles or refunds it. Three guards make each happen at most once, whatever
retries, crashes or racing workers do: the transition itself is a conditional write that
only one caller wins, the task's `charge_state` moves from `reserved` in a conditional
UPDATE, and the ledger's unique index on (task_id, kind) refuses a second row of a kind.
A top-up or adjustment is one transaction of its own: the balance and its row together.

Locks are taken in one order everywhere (task, tenant, key), so PostgreSQL never finds
two of these transactions waiting on each other."""

from __future__ import annotations

import dataclasses
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from vidugate.domain.ledger import CancelPolicy, Charge, ChargeState, LedgerEntry, LedgerKind
from vidugate.domain.money import from_micros, to_micros
from vidugate.domain.tasks import VideoTask
from vidugate.domain.transitions import Cancelled, Completed, Created, Failed
from vidugate.errors import InvalidRequestError, NotFoundError, PaymentRequiredError
from vidugate.store.db import Database
from vidugate.store.effects import Applied
from vidugate.store.tables import ApiKeyRow, LedgerRow, TaskRow, TenantRow

L = cast(Table, LedgerRow.__table__)
TN = cast(Table, TenantRow.__table__)
K = cast(Table, ApiKeyRow.__table__)
T = cast(Table, TaskRow.__table__)
MAX_REASON_CHARS = 1000

# Built once: a create runs the first two, an end the other three, on the hot paths (the
# database runs them as prepared statements: Database.execute).
_RESERVE_BALANCE = (
    update(TN)
    .where(
        TN.c.id == bindparam("tenant"),
        TN.c.balance_micros + TN.c.overdraft_micros >= bindparam("price"),
    )
    .values(balance_micros=TN.c.balance_micros - bindparam("price"))
    .returning(TN.c.balance_micros)
)
_RESERVE_SPEND = (
    update(K)
    .where(
        K.c.id == bindparam("key"),
        or_(
            K.c.spend_cap_micros.is_(None),
            K.c.spent_micros + bindparam("price") <= K.c.spend_cap_micros,
        ),
    )
    .values(spent_micros=K.c.spent_micros + bindparam("price"))
)
_CLOSE_TASK = (
    update(T)
    .where(T.c.id == bindparam("task"), T.c.charge_state == ChargeState.RESERVED.value)
    .values(charge_state=bindparam("state"), charged_micros=bindparam("net"))
)
_GIVE_BACK = (
    update(TN)
    .where(TN.c.id == bindparam("tenant"))
    .values(balance_micros=TN.c.balance_micros + bindparam("back"))
    .returning(TN.c.balance_micros)
)
_UNSPEND = (
    update(K)
    .where(K.c.id == bindparam("key"))
    .values(spent_micros=K.c.spent_micros - bindparam("back"))
)


def entry_of(row: Row[Any]) -> LedgerEntry:
    return LedgerEntry(
        id=row.id,
        tenant_id=row.tenant_id,
        key_id=row.key_id,
        task_id=row.task_id,
        kind=LedgerKind(row.kind),
        amount=from_micros(row.amount_micros),
        balance_after=from_micros(row.balance_after_micros),
        model=row.model,
        reason=row.reason,
        created_at=row.created_at,
    )


def final_charge(task: VideoTask, transition: object, policy: CancelPolicy) -> Decimal | None:
    """What a task ending by this transition is charged in the end (None: it does not end
    the task's charge). A cancel is free until the upstream has begun making the video
    (progress above 0: the worker records 1 at least once the upstream says it runs)."""
    if task.charge is None:
        return None
    if isinstance(transition, Completed):
        return task.charge.price
    if isinstance(transition, Failed):
        return Decimal(0)
    if isinstance(transition, Cancelled):
        if task.progress <= 0:
            return Decimal(0)
        charged = task.charge.price * policy.percent_after_start / 100
        return charged.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
    return None


class Ledger:
    """The task effect (reserve, settle, refund) and the operator's movements."""

    def __init__(self, db: Database, policy: CancelPolicy | None = None) -> None:
        self.db = db
        self.policy = policy or CancelPolicy()

    async def effect(self, conn: AsyncConnection, applied: Applied) -> VideoTask | None:
        task = applied.task
        if task.charge is None or task.tenant_id is None:
            return None  # made with no price table in force
        if isinstance(applied.transition, Created):
            await self._reserve(conn, task, applied.now)
            return None
        charged = final_charge(task, applied.transition, self.policy)
        if charged is None or task.charge.state is not ChargeState.RESERVED:
            return None
        return await self._close(conn, task, charged, applied.now)

    async def _reserve(self, conn: AsyncConnection, task: VideoTask, now: float) -> None:
        assert task.charge is not None
        assert task.tenant_id is not None
        price = to_micros(task.charge.price)
        _count, moved = await self.db.execute(
            conn, _RESERVE_BALANCE, {"tenant": task.tenant_id, "price": price}
        )
        if not moved:
            raise await self._short(conn, task)
        capped, _rows = await self.db.execute(
            conn, _RESERVE_SPEND, {"key": task.key_id, "price": price}
        )
        if not capped:
            row = (
                await conn.execute(
                    select(K.c.spend_cap_micros, K.c.spent_micros).where(K.c.id == task.key_id)
                )
            ).first()
            cap, spent = (row[0], row[1]) if row is not None else (0, 0)
            raise PaymentRequiredError(
                f"This key's spend cap is {_money(cap, task)} and it has spent "
                f"{_money(spent, task)}; this video costs {task.charge.price} "
                f"{task.charge.currency}. Ask the operator to raise the key's cap.",
                code="spend_cap_reached",
            )
        await self._row(
            conn, task.tenant_id, task.key_id, task.id, LedgerKind.RESERVE, -price,
            moved[0][0], task.request.model, "", now,
        )  # fmt: skip

    async def _short(self, conn: AsyncConnection, task: VideoTask) -> PaymentRequiredError:
        assert task.charge is not None
        row = (
            await conn.execute(
                select(TN.c.balance_micros, TN.c.overdraft_micros).where(TN.c.id == task.tenant_id)
            )
        ).first()
        if row is None:
            return PaymentRequiredError(f"The key's tenant {task.tenant_id} no longer exists.")
        balance = _money(row[0], task)
        return PaymentRequiredError(
            f"Insufficient balance: this video costs {task.charge.price} {task.charge.currency} "
            f"and the balance is {balance}"
            + (f" (with an overdraft of {_money(row[1], task)})" if row[1] else "")
            + ". Top up the account to go on; nothing was created."
        )

    async def _close(
        self, conn: AsyncConnection, task: VideoTask, charged: Decimal, now: float
    ) -> VideoTask | None:
        assert task.charge is not None
        assert task.tenant_id is not None
        price = to_micros(task.charge.price)
        net = to_micros(charged)
        back = price - net  # what returns to the balance
        state = ChargeState.SETTLED if net else ChargeState.REFUNDED
        closed, _rows = await self.db.execute(
            conn, _CLOSE_TASK, {"task": task.id, "state": state.value, "net": net}
        )
        if not closed:
            return None
        _count, balance = await self.db.execute(
            conn, _GIVE_BACK, {"tenant": task.tenant_id, "back": back}
        )
        if back:
            await self.db.execute(conn, _UNSPEND, {"key": task.key_id, "back": back})
        kind = LedgerKind.REFUND if state is ChargeState.REFUNDED else LedgerKind.SETTLE
        await self._row(
            conn, task.tenant_id, task.key_id, task.id, kind, back, balance[0][0],
            task.request.model, "", now,
        )  # fmt: skip
        return dataclasses.replace(
            task, charge=dataclasses.replace(task.charge, state=state, charged=charged)
        )

    async def _row(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        key_id: str | None,
        task_id: str | None,
        kind: LedgerKind,
        amount: int,
        balance_after: int,
        model: str | None,
        reason: str,
        now: float,
    ) -> None:
        await self.db.insert(
            conn,
            L,
            {
                "tenant_id": tenant_id,
                "key_id": key_id,
                "task_id": task_id,
                "kind": kind.value,
                "amount_micros": amount,
                "balance_after_micros": balance_after,
                "model": model,
                "reason": reason,
                "created_at": now,
            },
        )

    async def move(
        self, tenant_id: str, kind: LedgerKind, amount: Decimal, reason: str, *, now: float
    ) -> LedgerEntry:
        """An operator's top-up (amount > 0) or adjustment (either sign), with its reason,
        in one transaction with the balance it moves."""
        if kind not in (LedgerKind.TOPUP, LedgerKind.ADJUST):
            raise ValueError(f"{kind} is a task's movement, not an operator's")
        reason = reason.strip()
        if not reason or len(reason) > MAX_REASON_CHARS:
            raise InvalidRequestError(
                f"Give a reason of 1 to {MAX_REASON_CHARS} characters: it is kept in the ledger.",
                param="reason",
            )
        if kind is LedgerKind.TOPUP and amount <= 0:
            raise InvalidRequestError(
                "A top-up adds money: give an amount above 0.", param="amount"
            )
        if amount == 0:
            raise InvalidRequestError("An adjustment of 0 moves nothing.", param="amount")
        micros = to_micros(amount)

        async def write(conn: AsyncConnection) -> LedgerEntry:
            balance = (
                await conn.execute(
                    update(TN)
                    .where(TN.c.id == tenant_id)
                    .values(balance_micros=TN.c.balance_micros + micros)
                    .returning(TN.c.balance_micros)
                )
            ).first()
            if balance is None:
                raise NotFoundError(f"No tenant {tenant_id!r}.", param="tenant_id")
            await self._row(
                conn, tenant_id, None, None, kind, micros, balance[0], None, reason, now
            )
            row = (
                await conn.execute(
                    select(L).where(L.c.tenant_id == tenant_id).order_by(L.c.id.desc()).limit(1)
                )
            ).one()
            return entry_of(row)

        return await self.db.write(write)

    async def entries(
        self,
        *,
        tenant_id: str | None = None,
        task_id: str | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> list[LedgerEntry]:
        """Rows in the order they were written, after the row id `after`."""
        stmt = select(L).where(L.c.id > after).order_by(L.c.id).limit(limit)
        if tenant_id is not None:
            stmt = stmt.where(L.c.tenant_id == tenant_id)
        if task_id is not None:
            stmt = stmt.where(L.c.task_id == task_id)
        async with self.db.read() as conn:
            return [entry_of(row) for row in (await conn.execute(stmt)).all()]

    async def unbalanced(self) -> list[tuple[str, Decimal, Decimal]]:
        """Tenants whose balance is not the sum of their ledger rows (tenant, balance, sum):
        empty, always; the tests and `vidugate ledger check` ask."""
        sums = (
            select(L.c.tenant_id, func.sum(L.c.amount_micros).label("total"))
            .group_by(L.c.tenant_id)
            .subquery()
        )
        stmt = select(TN.c.id, TN.c.balance_micros, func.coalesce(sums.c.total, 0)).outerjoin(
            sums, sums.c.tenant_id == TN.c.id
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            (row[0], from_micros(row[1]), from_micros(int(row[2])))
            for row in rows
            if int(row[1]) != int(row[2])
        ]


def _money(micros: int | None, task: VideoTask) -> str:
    assert task.charge is not None
    return f"{from_micros(micros or 0)} {task.charge.currency}"


def charge_of(row: Row[Any]) -> Charge | None:
    """A task row's charge (None: nothing was charged for it)."""
    if row.price_micros is None or row.charge_state is None:
        return None
    return Charge(
        price=from_micros(row.price_micros),
        currency=row.currency or "",
        state=ChargeState(row.charge_state),
        charged=None if row.charged_micros is None else from_micros(row.charged_micros),
    )


def credits_of(micros: int | None) -> Decimal | None:
    """A task row's upstream credits (None: the upstream said nothing)."""
    return None if micros is None else from_micros(micros)
