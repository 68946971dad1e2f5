"""The webhook deliverer: leases due messages from the outbox (store/webhook_outbox.py),
signs and sends each (services/webhook_signing.py, net/webhook_sender.py), logs the try
and settles the message: delivered on a 2xx, else tried again on the retry policy's
schedule until its window closes (docs/webhooks.md).

Sends run concurrently up to `concurrency`, and at most `per_destination` to one endpoint
or URL at once: a receiver that hangs holds its own share of the sends, not everyone's."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections import Counter

from vidugate import metrics
from vidugate.clock import Clock
from vidugate.domain.ledger import DEFAULT_TENANT
from vidugate.domain.webhooks import Attempt, MessageState, RetryPolicy
from vidugate.errors import DatabaseUnavailableError
from vidugate.logs import get_logger
from vidugate.net.webhook_sender import WebhookSender
from vidugate.services.webhook_signing import WebhookSigner
from vidugate.store.webhook_outbox import Due, WebhookOutbox

log = get_logger("vidugate.webhooks")

# After a wake (a message written), a second look this much later catches a message whose
# transaction had not committed yet at the first.
SECOND_LOOK_SECONDS = 0.05
# How often the net under the order's hand-over is cast (store/webhook_outbox.py).
STUCK_EVERY = 60.0
# After a claim that failed (the database away, a bug), a pause: not a log line per poll.
ERROR_PAUSE = 5.0


class Deliverer:
    def __init__(
        self,
        outbox: WebhookOutbox,
        sender: WebhookSender,
        signer: WebhookSigner,
        retry: RetryPolicy,
        *,
        clock: Clock,
        concurrency: int = 64,
        per_destination: int = 8,
        poll_seconds: float = 0.5,
    ) -> None:
        self.outbox = outbox
        self.sender = sender
        self.signer = signer
        self.retry = retry
        self.clock = clock
        self.concurrency = concurrency
        self.per_destination = per_destination
        self.poll_seconds = poll_seconds
        # A lease outlives a send's time limit, so only a dead process's lease runs out.
        self.lease_seconds = sender.timeout + 5.0
        self.owner = f"deliverer-{secrets.token_hex(6)}"
        self._wake = asyncio.Event()
        self._freed = False  # woken by a send's end, not by a message being written
        self._stuck_at = 0.0  # when to look for waiting messages with nothing before them
        self._sending: set[asyncio.Task[None]] = set()
        self._busy: Counter[str] = Counter()
        self._main: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._main = asyncio.create_task(self._loop(), name="vidugate webhook deliverer")

    async def stop(self) -> None:
        """Sends under way are cut off: their messages are sent again once their lease
        runs out (receivers deduplicate by webhook-id)."""
        tasks = [t for t in (self._main, *self._sending) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        while True:
            claimed = 0
            try:
                claimed = await self._claim()
            except DatabaseUnavailableError:
                log.warning("webhooks.database_unavailable", next_look_seconds=ERROR_PAUSE)
                await self.clock.sleep(ERROR_PAUSE)
            except Exception:
                log.exception("webhooks.claim_error", next_look_seconds=ERROR_PAUSE)
                await self.clock.sleep(ERROR_PAUSE)
            if claimed:
                continue
            woken = await self.clock.wait(self._wake, self.clock.now() + self.poll_seconds)
            self._wake.clear()
            if woken and not self._freed:
                await self.clock.sleep(SECOND_LOOK_SECONDS)
            self._freed = False

    async def _release_stuck(self) -> None:
        if self.clock.monotonic() < self._stuck_at:
            return
        self._stuck_at = self.clock.monotonic() + STUCK_EVERY
        released = await self.outbox.release_stuck(self.clock.now())
        if released:
            log.warning("webhooks.released_stuck", messages=released)

    async def _claim(self) -> int:
        await self._release_stuck()
        room = self.concurrency - len(self._sending)
        if room < self.concurrency / 2:
            # Claims in batches of at least half the slots: one claim per message sent
            # would cost a write each.
            await asyncio.wait(self._sending, return_when=asyncio.FIRST_COMPLETED)
            return 1
        due = await self.outbox.claim(
            self.owner,
            self.clock.now(),
            room,
            self.lease_seconds,
            room=self._busy,
            per_destination=self.per_destination,
        )
        for item in due:
            destination = item.message.destination
            self._busy[destination] += 1
            task = asyncio.create_task(self._deliver(item, destination))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        return len(due)

    async def _deliver(self, due: Due, destination: str) -> None:
        try:
            await self._send(due)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The lease runs out and the message is sent again.
            log.exception("webhooks.deliver_error", message_id=due.message.id)
        finally:
            self._busy[destination] -= 1
            if self._busy[destination] <= 0:
                del self._busy[destination]
            # A slot is free (and the task's next message may be due): look again at once.
            self._freed = True
            self._wake.set()

    async def _send(self, due: Due) -> None:
        message = due.message
        if due.url is None:
            await self.outbox.record(
                message, self.owner, None, MessageState.DROPPED, None, self.clock.now()
            )
            log.info("webhook.dropped", message_id=message.id, why="endpoint gone or disabled")
            return
        secret = due.secret or self.signer.tenant_secret(message.tenant_id or DEFAULT_TENANT)
        timestamp = int(self.clock.now())
        body = message.payload.encode()
        headers = {
            "webhook-id": message.id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": self.signer.signature(secret, message.id, timestamp, body),
        }
        answer = await self.sender.post(due.url, headers, body)
        now = self.clock.now()
        attempt = Attempt(
            message_id=message.id,
            endpoint_id=message.endpoint_id,
            task_id=message.task_id,
            event=message.event,
            attempt=message.attempts + 1,
            at=now,
            status=answer.status,
            error=answer.error,
            duration_ms=answer.duration_ms,
        )
        if answer.ok:
            state, next_at = MessageState.DELIVERED, None
        else:
            next_at = self.retry.next_attempt(message.attempts + 1, message.created_at, now)
            state = MessageState.PENDING if next_at is not None else MessageState.FAILED
        await self.outbox.record(message, self.owner, attempt, state, next_at, now)
        outcome = "delivered" if answer.ok else ("failed" if next_at else "gave_up")
        metrics.webhook_delivery(outcome)
        log.info(
            f"webhook.{outcome}",
            message_id=message.id,
            webhook_event=message.event.value,
            task_id=message.task_id,
            attempt=attempt.attempt,
            status=answer.status,
            ms=answer.duration_ms,
        )
