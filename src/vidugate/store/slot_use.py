"""How the upstream accounts' slots are used now, for the operator's accounts page: the
unfinished tasks each account holds, and the tasks each provider's queue still waits to
admit (fair scheduling, store/admission.py: the queue is per provider, an account is
chosen only at admission). One grouped read of the active tasks (ix_tasks_admission leads
with status), counted the way the admission counts them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Table, case, func, select

from vidugate.domain.tasks import ACTIVE, TaskStatus
from vidugate.store.db import Database
from vidugate.store.tables import TaskRow

T = cast(Table, TaskRow.__table__)
_ACTIVE = sorted(s.value for s in ACTIVE)


@dataclass(frozen=True, slots=True)
class SlotUse:
    # (provider, account) -> unfinished tasks on it; account None: the provider has none
    # (the sandbox), or the task holds a pool that names no account.
    running: dict[tuple[str, str | None], int] = field(default_factory=dict)
    waiting: dict[str, int] = field(default_factory=dict)  # provider -> tasks not admitted

    def running_on(self, provider: str, account: str | None) -> int:
        """Tasks on this account; with account None, on every account of the provider."""
        return sum(
            n for (p, a), n in self.running.items() if p == provider and account in (None, a)
        )


async def slot_use(db: Database) -> SlotUse:
    # A task is the account's once it was sent there (its upstream_account, which may
    # differ from the pool it was admitted to), else its pool's ("<provider>:<account>").
    unsent = case((T.c.upstream_id.is_(None), 1), else_=0).label("unsent")
    stmt = (
        select(T.c.provider, T.c.upstream_account, T.c.slot, T.c.status, unsent, func.count())
        .where(T.c.status.in_(_ACTIVE))
        .group_by(T.c.provider, T.c.upstream_account, T.c.slot, T.c.status, unsent)
    )
    running: dict[tuple[str, str | None], int] = {}
    waiting: dict[str, int] = {}
    async with db.read() as conn:
        rows = (await conn.execute(stmt)).all()
    for provider, account, slot, status, not_sent, count in rows:
        if status == TaskStatus.QUEUED.value and not_sent and account is None and slot is None:
            waiting[provider] = waiting.get(provider, 0) + int(count)
            continue
        if account is None and slot is not None:
            account = slot.removeprefix(f"{provider}:")
        running[(provider, account)] = running.get((provider, account), 0) + int(count)
    return SlotUse(running, waiting)
