"""The report queries: usage and margin aggregated in SQL (never a row per movement read
into memory), every tenant's tasks for the operator, and what each key has spent.

A day is the UTC date of a row's created_at (unix seconds). SQLite and PostgreSQL cast a
float to an integer differently (SQLite truncates, PostgreSQL rounds: 23:59:59.6 would be
the next day), so the day number is computed per dialect."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Row,
    Select,
    Table,
    case,
    func,
    select,
)
from sqlalchemy import cast as cast_to
from sqlalchemy.ext.asyncio import AsyncConnection

from vidugate.domain.ledger import LedgerKind
from vidugate.domain.listing import TaskFilter
from vidugate.domain.money import from_micros
from vidugate.domain.tasks import TaskStatus
from vidugate.domain.usage import (
    DAY_SECONDS,
    MAX_GROUPS,
    MarginReport,
    Period,
    TaskQuery,
    TaskSummary,
    UsageGroup,
    UsageLine,
    UsageReport,
    day_name,
    margin_line,
)
from vidugate.store.db import Database
from vidugate.store.ledger import charge_of, credits_of
from vidugate.store.listing import conditions
from vidugate.store.tables import ApiKeyRow, LedgerRow, TaskRow, TenantRow

L = cast(Table, LedgerRow.__table__)
T = cast(Table, TaskRow.__table__)
TN = cast(Table, TenantRow.__table__)
K = cast(Table, ApiKeyRow.__table__)
TASK_KINDS = (LedgerKind.RESERVE.value, LedgerKind.SETTLE.value, LedgerKind.REFUND.value)
# Ids per IN list when names are looked up for a report's groups.
_CHUNK = 1000
_TASK_COLUMNS: tuple[Any, ...] = (
    T.c.id,
    T.c.tenant_id,
    T.c.key_id,
    T.c.model,
    T.c.status,
    T.c.surface,
    T.c.created_at,
    T.c.completed_at,
    T.c.deleted_at,
    T.c.error_code,
    T.c.price_micros,
    T.c.currency,
    T.c.charge_state,
    T.c.charged_micros,
    T.c.upstream_credits_micros,
)


def day_number(conn: AsyncConnection, column: ColumnElement[Any]) -> ColumnElement[Any]:
    """The UTC day (days since 1970-01-01) of a unix-seconds column, on either database."""
    if conn.dialect.name == "postgresql":
        return cast_to(func.floor(column / DAY_SECONDS), BigInteger)
    return cast_to(column / DAY_SECONDS, Integer)  # times are after 1970: truncation is floor


def _group_column(conn: AsyncConnection, table: Table, group_by: UsageGroup) -> ColumnElement[Any]:
    if group_by is UsageGroup.DAY:
        return day_number(conn, table.c.created_at)
    if group_by is UsageGroup.KEY:
        return table.c.key_id
    if group_by is UsageGroup.MODEL:
        return table.c.model
    return table.c.tenant_id


def _in_period(column: ColumnElement[Any], period: Period) -> list[ColumnElement[bool]]:
    found = []
    if period.since is not None:
        found.append(column >= period.since)
    if period.until is not None:
        found.append(column < period.until)
    return found


def _amount(value: object) -> Decimal:
    return from_micros(int(cast(int, value or 0)))


class UsageQueries:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def usage(
        self,
        group_by: UsageGroup,
        period: Period,
        *,
        tenant_id: str | None = None,
        key_id: str | None = None,
    ) -> UsageReport:
        """Per group, from the task rows of the ledger (reserve, settle, refund)."""
        where = [L.c.kind.in_(TASK_KINDS), *_in_period(L.c.created_at, period)]
        if tenant_id is not None:
            where.append(L.c.tenant_id == tenant_id)
        if key_id is not None:
            where.append(L.c.key_id == key_id)
        async with self.db.read() as conn:
            grp = _group_column(conn, L, group_by).label("grp")
            rows = (
                await conn.execute(
                    _ledger_sums(select(grp, L.c.kind, L.c.amount_micros).where(*where))
                )
            ).all()
            totals = (
                await conn.execute(
                    _ledger_sums(select(L.c.kind, L.c.amount_micros).where(*where), grouped=False)
                )
            ).one()
            names = await _names(conn, group_by, [row.grp for row in rows[:MAX_GROUPS]])
        lines = tuple(_usage_line(group_by, row, names) for row in rows[:MAX_GROUPS])
        return UsageReport(
            group_by, lines, _usage_line(None, totals, {}), truncated=len(rows) > MAX_GROUPS
        )

    async def margin(
        self, group_by: UsageGroup, period: Period, credit_value: Decimal | None
    ) -> MarginReport:
        """Per group: the net charges of the ledger's task rows, and the upstream credits
        of the tasks created in the period whose cost the upstream reported."""
        if group_by is UsageGroup.KEY:
            raise ValueError("the margin is by model, day or tenant")
        charged_where = [L.c.kind.in_(TASK_KINDS), *_in_period(L.c.created_at, period)]
        cost_where = [
            T.c.upstream_credits_micros.is_not(None),
            *_in_period(T.c.created_at, period),
            *conditions(TaskFilter(created_from=period.since, created_to=period.until)),
        ]
        async with self.db.read() as conn:
            grp = _group_column(conn, L, group_by).label("grp")
            charged = select(grp, L.c.kind, L.c.amount_micros).where(*charged_where)
            charges = (await conn.execute(_ledger_sums(charged))).all()
            task_grp = _group_column(conn, T, group_by).label("grp")
            cost_sums = (
                func.count().label("tasks"),
                func.sum(T.c.upstream_credits_micros).label("credits"),
            )
            costs = (
                await conn.execute(
                    select(task_grp, *cost_sums)
                    .where(*cost_where)
                    .group_by(task_grp)
                    .order_by(task_grp)
                    .limit(MAX_GROUPS + 1)
                )
            ).all()
            whole = select(L.c.kind, L.c.amount_micros).where(*charged_where)
            charged_total = (await conn.execute(_ledger_sums(whole, grouped=False))).one()
            cost_total = (await conn.execute(select(*cost_sums).where(*cost_where))).one()
            merged: dict[Any, list[Any]] = {}
            for row in charges[:MAX_GROUPS]:
                merged[row.grp] = [int(row.videos), _amount(row.charged), Decimal(0), 0]
            for row in costs[:MAX_GROUPS]:
                entry = merged.setdefault(row.grp, [0, Decimal(0), Decimal(0), 0])
                entry[2], entry[3] = _amount(row.credits), int(row.tasks)
            groups = sorted(merged, key=lambda g: (g is None, g))
            cut = len(charges) > MAX_GROUPS or len(costs) > MAX_GROUPS or len(groups) > MAX_GROUPS
            groups = groups[:MAX_GROUPS]
            names = await _names(conn, group_by, groups)
        lines = []
        for group in groups:
            shown = day_name(int(group)) if group_by is UsageGroup.DAY else group
            name = names.get(group, (None, None))[0]
            videos, charged_amount, credits, with_credits = merged[group]
            lines.append(
                margin_line(
                    shown, name, videos, charged_amount, credits, with_credits, credit_value
                )
            )
        totals = margin_line(
            None,
            None,
            int(charged_total.videos or 0),
            _amount(charged_total.charged),
            _amount(cost_total.credits),
            int(cost_total.tasks or 0),
            credit_value,
        )
        return MarginReport(group_by, credit_value, tuple(lines), totals, cut)

    async def tasks(self, query: TaskQuery) -> tuple[list[TaskSummary], bool]:
        """Every tenant's tasks that pass the filters, newest first, and whether more
        follow. Reads only the columns shown, never a task's stored request."""
        where: list[ColumnElement[bool]] = conditions(
            TaskFilter(
                statuses=None if query.status is None else frozenset({query.status}),
                models=None if query.model is None else frozenset({query.model}),
                created_from=query.period.since,
                created_to=query.period.until,
            )
        )
        where.extend(_in_period(T.c.created_at, query.period))
        if query.tenant_id is not None:
            where.append(T.c.tenant_id == query.tenant_id)
        if query.key_id is not None:
            where.append(T.c.key_id == query.key_id)
        if query.before_id is not None:
            where.append(T.c.id < query.before_id)
        stmt = select(*_TASK_COLUMNS).where(*where).order_by(T.c.id.desc()).limit(query.limit + 1)
        async with self.db.read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_summary(row) for row in rows[: query.limit]], len(rows) > query.limit

    async def task(self, task_id: str) -> TaskSummary | None:
        """One task as `tasks` lists it (None: no such row, or purged)."""
        stmt = select(*_TASK_COLUMNS).where(T.c.id == task_id)
        async with self.db.read() as conn:
            row = (await conn.execute(stmt)).first()
        return None if row is None else _summary(row)

    async def spent_by_key(self, key_ids: Iterable[str]) -> dict[str, Decimal]:
        """What each of these keys has spent, net of refunds."""
        found: dict[str, Decimal] = {}
        wanted = list(key_ids)
        async with self.db.read() as conn:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                stmt = select(K.c.id, K.c.spent_micros).where(K.c.id.in_(chunk))
                for row in (await conn.execute(stmt)).all():
                    found[row.id] = from_micros(row.spent_micros)
        return found


def _ledger_sums(rows: Select[Any], *, grouped: bool = True) -> Select[Any]:
    """The usage sums over `rows` (kind, amount_micros, and grp when grouped), per grp."""
    sub = rows.subquery()

    def of_kind(kind: LedgerKind, then: Any) -> ColumnElement[Any]:
        return func.sum(case((sub.c.kind == kind.value, then), else_=0))

    sums = (
        of_kind(LedgerKind.RESERVE, 1).label("videos"),
        of_kind(LedgerKind.SETTLE, 1).label("settled"),
        of_kind(LedgerKind.REFUND, 1).label("refunded"),
        of_kind(LedgerKind.RESERVE, sub.c.amount_micros).label("reserved"),
        of_kind(LedgerKind.REFUND, sub.c.amount_micros).label("refunded_amount"),
        (-func.coalesce(func.sum(sub.c.amount_micros), 0)).label("charged"),
    )
    if not grouped:
        return select(*sums)
    return select(sub.c.grp, *sums).group_by(sub.c.grp).order_by(sub.c.grp).limit(MAX_GROUPS + 1)


def _usage_line(
    group_by: UsageGroup | None, row: Row[Any], names: dict[Any, tuple[str | None, str | None]]
) -> UsageLine:
    group = None if group_by is None else row.grp
    name, tenant_id = names.get(group, (None, None))
    if group_by is UsageGroup.TENANT:
        tenant_id = group
    shown = day_name(int(group)) if group_by is UsageGroup.DAY and group is not None else group
    return UsageLine(
        group=shown,
        name=name,
        tenant_id=tenant_id,
        videos=int(row.videos or 0),
        settled=int(row.settled or 0),
        refunded=int(row.refunded or 0),
        reserved=-_amount(row.reserved),
        charged=_amount(row.charged),
        refunded_amount=_amount(row.refunded_amount),
    )


async def _names(
    conn: AsyncConnection, group_by: UsageGroup, groups: Sequence[Any]
) -> dict[Any, tuple[str | None, str | None]]:
    """The name (and tenant) of each tenant or key group; nothing for models and days."""
    if group_by is UsageGroup.TENANT:
        table, columns = TN, (TN.c.id, TN.c.name, TN.c.id)
    elif group_by is UsageGroup.KEY:
        table, columns = K, (K.c.id, K.c.name, K.c.tenant_id)
    else:
        return {}
    ids = [group for group in groups if group is not None]
    found: dict[Any, tuple[str | None, str | None]] = {}
    for start in range(0, len(ids), _CHUNK):
        stmt = select(*columns).where(table.c.id.in_(ids[start : start + _CHUNK]))
        for row in (await conn.execute(stmt)).all():
            found[row[0]] = (row[1], row[2])
    return found


def _summary(row: Row[Any]) -> TaskSummary:
    return TaskSummary(
        id=row.id,
        tenant_id=row.tenant_id,
        key_id=row.key_id,
        model=row.model,
        status=TaskStatus(row.status),
        surface=row.surface,
        created_at=row.created_at,
        completed_at=row.completed_at,
        deleted_at=row.deleted_at,
        error_code=row.error_code,
        charge=charge_of(row),
        upstream_credits=credits_of(row.upstream_credits_micros),
    )
