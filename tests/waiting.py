"""Waiting for a condition another process or thread makes true; the timeout only bounds a
broken run (tests carry no timing thresholds)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_until(
    predicate: Callable[[], Any], timeout: float = 60, what: str = "it", every: float = 0.05
) -> Any:
    """The predicate's first truthy value; AssertionError once `timeout` has passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)
