"""What /metrics answers: this process's instruments (metrics/instruments.py), or under
`serve --processes N` every process's, summed from prometheus-client's multiprocess files,
followed by the figures read from the database (metrics/state.py).

Several processes: `serve` empties the files' folder (DATA_DIR/metrics) and names it to
prometheus-client before it starts them (`use_multiprocess_dir`), so each process, a fresh
interpreter, writes its counters there from its first one; any process then answers a
scrape with the sum of all of them, those of processes that died included (a counter
never goes back). The library takes that folder only from its environment variable,
which makes this the one module that writes the environment (tests/docs/test_layers.py)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import cast

from prometheus_client import CollectorRegistry, generate_latest, multiprocess, values
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import Metric

from vidugate.metrics.instruments import INSTRUMENTS
from vidugate.metrics.state import StateCollector, StateSnapshot

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The library leaves these two unannotated.
_mark_dead = cast(Callable[[int, str], None], multiprocess.mark_process_dead)
_shared_files = cast(Callable[[CollectorRegistry, str], object], multiprocess.MultiProcessCollector)


def use_multiprocess_dir(path: Path) -> None:
    """Start the processes that follow with an empty folder of counters, shared by them.
    Called by `serve` before it starts them (never in a process that records metrics)."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.environ[_ENV] = str(path)


def multiprocess_mode() -> bool:
    """Whether this process's counters go to the shared files (it was started so)."""
    return bool(getattr(values.ValueClass, "_multiprocess", False))


def process_gone(pid: int, path: Path) -> None:
    """Bookkeeping when a process of `serve --processes N` has died (before its stand-in
    starts): its live gauges' files go; its counters' files stay in the sums."""
    _mark_dead(pid, str(path))


class _Instruments:
    """This process's own registry, as a collector of the scrape's registry."""

    def collect(self) -> Iterable[Metric]:
        return INSTRUMENTS.collect()


class Exposition:
    """The text of one scrape. `shared_dir`: the multiprocess folder, when this process is
    one of several (see the module docs)."""

    def __init__(self, shared_dir: Path | None) -> None:
        self._state = StateCollector()
        self.registry = CollectorRegistry(auto_describe=False)
        if shared_dir is not None and multiprocess_mode():
            _shared_files(self.registry, str(shared_dir))
        else:
            self.registry.register(_Instruments())
        self.registry.register(self._state)

    def render(self, snapshot: StateSnapshot) -> bytes:
        self._state.snapshot = snapshot
        return generate_latest(self.registry)
