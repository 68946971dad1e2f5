"""Counters served by GET /_emulator/stats, so tests and benchmarks can see what happened.

Plain integer attributes bumped in place: the hot paths (a status poll) pay one attribute
increment, nothing more.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Stats:
    creates_accepted: int = 0  # tasks made (including those whose answer was then lost)
    creates_rejected: int = 0  # 400/413 answers to a create
    creates_lost: int = 0  # tasks made whose answer was dropped (lost_create fault)
    polls: int = 0  # status documents served
    list_calls: int = 0
    cancels: int = 0  # successful cancels
    credit_queries: int = 0
    callbacks_sent: int = 0  # deliveries answered 200
    callbacks_dropped: int = 0  # deliveries not sent (drop_callback fault)
    callbacks_failed: int = 0  # deliveries given up after every retry
    callback_attempts: int = 0  # HTTP attempts, retries included
    callbacks_pending: int = 0  # deliveries queued and not yet sent, failed or cancelled
    result_downloads: int = 0  # result file answers (200 or 206)
    result_denied: int = 0  # expired or badly signed result links
    renders: int = 0  # videos rendered (render mode; cache misses)
    tasks_by_account: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)  # injected, by Faults field name

    def as_json(self) -> dict[str, object]:
        return {
            "creates_accepted": self.creates_accepted,
            "creates_rejected": self.creates_rejected,
            "creates_lost": self.creates_lost,
            "polls": self.polls,
            "list_calls": self.list_calls,
            "cancels": self.cancels,
            "credit_queries": self.credit_queries,
            "callbacks": {
                "sent": self.callbacks_sent,
                "dropped": self.callbacks_dropped,
                "failed": self.callbacks_failed,
                "attempts": self.callback_attempts,
                "pending": self.callbacks_pending,
            },
            "result_downloads": self.result_downloads,
            "result_denied": self.result_denied,
            "renders": self.renders,
            "tasks_by_account": dict(self.tasks_by_account),
            "faults": dict(self.faults),
        }
