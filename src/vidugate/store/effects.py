"""The seam for what must happen together with a task's change: an effect is called by the
store with the open connection, inside the transaction that writes the change, once the
change is known to have won (its conditional write matched). Whatever the effect writes
commits with the change or rolls back with it; an effect that raises undoes the change,
and the caller of `apply` (or `create`) gets its exception. An effect that changed the
task's row too returns the task as it now is (else None).

Registered where the application is composed (bootstrap.py, services/limits.py TaskBooks):
the limit counts, the ledger (store/ledger.py: reserve on `Created`, settle or refund at the
end) and the webhook outbox (store/webhook_outbox.py). A progress effect is called by a
worker's batched hand-back with the tasks whose progress it raised, in its transaction
(the outbox's throttled `video.progress`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from vidugate.domain.tasks import VideoTask
from vidugate.domain.transitions import Transition


@dataclass(frozen=True, slots=True)
class Applied:
    transition: Transition
    task: VideoTask  # the row as the change left it
    now: float  # the time the change was written with


# Effects see only changes applied through `apply`/`create`; a worker's hand-back of a
# higher progress is scheduling bookkeeping, batched for thousands of tasks, and has none.
TaskEffect = Callable[[AsyncConnection, Applied], Awaitable[VideoTask | None]]

ProgressEffect = Callable[[AsyncConnection, Sequence[VideoTask], float], Awaitable[None]]
