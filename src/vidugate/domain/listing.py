"""What a task list keeps: filters as data, which the store turns into SQL (so a list reads
only the rows it answers) and the API layers build from their own query parameters."""

from __future__ import annotations

from dataclasses import dataclass

from vidugate.domain.tasks import TaskStatus


@dataclass(frozen=True, slots=True)
class TaskFilter:
    """A task is kept when it passes every filter given; None means any. An empty set or
    tuple keeps nothing."""

    statuses: frozenset[TaskStatus] | None = None
    ids: tuple[str, ...] | None = None
    created_from: float | None = None  # unix seconds, inclusive
    created_to: float | None = None  # unix seconds, inclusive
    models: frozenset[str] | None = None
    resolutions: frozenset[str] | None = None

    @property
    def keeps_nothing(self) -> bool:
        sets = (self.statuses, self.ids, self.models, self.resolutions)
        if any(chosen is not None and not chosen for chosen in sets):
            return True
        return (
            self.created_from is not None
            and self.created_to is not None
            and self.created_from > self.created_to
        )


EVERYTHING = TaskFilter()
