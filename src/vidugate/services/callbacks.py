"""Upstream callbacks in: verified by the provider, then the task is made due at once so a
worker looks at it now instead of at its next scheduled poll."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping

from vidugate.errors import InvalidRequestError, NotFoundError
from vidugate.providers.base import CallbackReceiver, Provider
from vidugate.services.cached_tasks import CachedTasks

log = logging.getLogger("vidugate.callbacks")

MERELY_RUNNING = frozenset({"created", "queueing", "processing"})


class CallbackService:
    def __init__(
        self, tasks: CachedTasks, providers: dict[str, Provider], wake_worker: Callable[[], None]
    ) -> None:
        self.tasks = tasks
        self.providers = providers
        self.wake_worker = wake_worker

    async def receive(
        self,
        provider_id: str,
        *,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> bool:
        """True when a task was woken; raises when the callback is not genuine."""
        provider = self.providers.get(provider_id)
        if not isinstance(provider, CallbackReceiver):
            raise NotFoundError(f"No callbacks are taken for {provider_id!r}.")
        account = provider.verify_callback(method, path, query, headers)
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
        task_id = (
            await self.tasks.repo.find_by_upstream(account, upstream_id) if upstream_id else None
        )
        if task_id is None:
            log.info("callback.unknown_task account=%s upstream_id=%s", account, upstream_id)
            return False
        woken = await self.tasks.repo.poke(task_id)
        if woken:
            self.wake_worker()
        log.info("callback.received task_id=%s state=%s", task_id, state)
        return woken
