"""Upstream callbacks in: verified by the provider, then the task is made due at once so a
worker looks at it now instead of at its next scheduled poll.

The order is the defence: the signature (which covers the request line and headers, not
the body) is checked and its nonce recorded before a byte of the body is asked for, so an
unsigned or replayed request is refused without the gateway reading or holding its body.
Every accepted nonce is recorded, whatever the body says: a `processing` callback's
headers are as good as any other's to a replayer."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping

from vidugate.errors import InvalidRequestError, NotFoundError, PermissionDeniedError
from vidugate.logs import get_logger
from vidugate.providers.base import CallbackReceiver, Provider
from vidugate.services.cached_tasks import CachedTasks
from vidugate.store.nonces import NonceRepository

log = get_logger("vidugate.callbacks")

MERELY_RUNNING = frozenset({"created", "queueing", "processing"})


class CallbackService:
    def __init__(
        self,
        tasks: CachedTasks,
        providers: dict[str, Provider],
        nonces: NonceRepository,
        wake_worker: Callable[[], None],
    ) -> None:
        self.tasks = tasks
        self.providers = providers
        self.nonces = nonces
        self.wake_worker = wake_worker

    async def receive(
        self,
        provider_id: str,
        *,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        read_body: Callable[[], Awaitable[bytes]],
    ) -> bool:
        """True when a task was woken; raises when the callback is not genuine or is a
        replay. `path` and `query` are the raw ones of the request; `read_body` is called
        only once the request is known to be genuine."""
        provider = self.providers.get(provider_id)
        if not isinstance(provider, CallbackReceiver):
            raise NotFoundError(f"No callbacks are taken for {provider_id!r}.")
        signed = provider.verify_callback(method, path, query, headers)
        if not await self.nonces.use(f"{provider_id}:{signed.nonce}", signed.keep_until):
            raise PermissionDeniedError(
                "Callback refused: this nonce was already used (a replay).",
                code="invalid_signature",
            )
        body = await read_body()
        try:
            doc = json.loads(body)
            upstream_id = str(doc.get("id") or doc.get("task_id") or "")
            state = str(doc.get("state") or "")
        except (ValueError, AttributeError, RecursionError):
            raise InvalidRequestError("The callback body is not a JSON task document.") from None
        if state in MERELY_RUNNING:
            # Nothing for the client to fetch yet; the regular poll will show it. Looking now
            # would double the work of a busy gateway for a progress number.
            return False
        account = signed.account
        # Upstream ids are short printable tokens; anything else cannot be one of ours (and a
        # NUL is text PostgreSQL cannot even compare).
        known = upstream_id.isprintable() and 0 < len(upstream_id) <= 128
        # Found and made due in one write: a burst of completions brings one callback each.
        task_id = await self.tasks.poke_upstream(account, upstream_id) if known else None
        if task_id is None:
            log.info("callback.no_active_task", account=account, upstream_id=upstream_id[:128])
            return False
        self.wake_worker()
        log.info("callback.received", task_id=task_id, state=state)
        return True
