"""Submitting a task upstream at most once.

The intent (which account, when) is written before a create is sent. If the answer is
lost — a timeout, a dropped connection, a crash of this process — the task keeps its
intent and no upstream id; the next step asks the provider to find the upstream task
(Vidu's task list) and sends the create again only when the provider can say there is
none. A user is never charged twice for one video."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

from vidugate.domain.tasks import TaskStatus, VideoTask
from vidugate.errors import ProviderError, UpstreamOutcomeUnknownError
from vidugate.providers.base import Provider, ProviderJob, Recoverable, Submission
from vidugate.services.cached_tasks import CachedTasks

log = logging.getLogger("vidugate.lifecycle")


class TaskStoppedError(Exception):
    """The task was cancelled or deleted before its create was sent: send nothing."""


class Submitter:
    def __init__(self, tasks: CachedTasks) -> None:
        self.tasks = tasks

    async def submit(
        self, task: VideoTask, owner: str, provider: Provider, job: ProviderJob
    ) -> float | None:
        if task.upstream_account is not None and isinstance(provider, Recoverable):
            # An earlier create's answer never came: look for its task before sending again.
            found = await provider.find(job)
            if found is not None:
                log.info(
                    "task.create_recovered task_id=%s upstream_id=%s", task.id, found.upstream_id
                )
                return await self._record(task, owner, provider, job, found)
            log.warning("task.create_not_found task_id=%s sending_again=true", task.id)
        try:
            submission = await provider.submit(job, self._intent_recorder(task, owner))
        except TaskStoppedError:
            return None
        except UpstreamOutcomeUnknownError:
            raise  # the intent stays: the next step looks the task up
        except ProviderError:
            # Provably not accepted upstream: forget the intent, so a retry may go elsewhere.
            await self.tasks.update(
                task.id, owner=owner, values={"upstream_account": None, "submitted_at": None}
            )
            raise
        return await self._record(task, owner, provider, job, submission)

    def _intent_recorder(self, task: VideoTask, owner: str) -> Callable[[str], Awaitable[None]]:
        async def record(account: str) -> None:
            recorded = await self.tasks.update(
                task.id,
                expect={TaskStatus.QUEUED},
                owner=owner,
                values={"upstream_account": account, "submitted_at": time.time()},
            )
            if recorded is None:
                raise TaskStoppedError(task.id)

        return record

    async def _record(
        self,
        task: VideoTask,
        owner: str,
        provider: Provider,
        job: ProviderJob,
        submission: Submission,
    ) -> float | None:
        now = time.time()
        values: dict[str, object] = {
            "status": TaskStatus.PROCESSING.value,
            "upstream_id": submission.upstream_id,
            "started_at": now,
            "attempts": 0,
        }
        if submission.account is not None:
            values["upstream_account"] = submission.account
        updated = await self.tasks.update(
            task.id, expect={TaskStatus.QUEUED}, owner=owner, values=values
        )
        if updated is None:
            # Cancelled or deleted while the create was under way: take the job back.
            await provider.cancel(
                replace(job, upstream_id=submission.upstream_id, account=submission.account)
            )
            return None
        log.info(
            "task.submitted task_id=%s upstream_id=%s account=%s",
            task.id,
            submission.upstream_id,
            submission.account,
        )
        return now + provider.poll_interval
