"""Several real `vidugate serve` processes on one PostgreSQL database and one data
directory, as a scaled-out deployment runs; plus what the reliability tests measure."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from dblib import fresh_database_url
from gatewaylib import Gateway

# Lines the reliability tests report; printed at the end of the run (see conftest.py).
FIGURES: list[str] = []


def report(name: str, **figures: Any) -> None:
    FIGURES.append(f"{name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))


@dataclass
class Cluster:
    root: Path
    size: int = 2
    settings: dict[str, str] = field(default_factory=dict)
    database_url: str = ""
    gateways: list[Gateway] = field(default_factory=list)

    def start(self) -> Cluster:
        data = self.root / "shared-data"
        if not self.database_url:
            self.database_url = fresh_database_url(data, backend="postgres")
        first = Gateway(data, settings=self.settings, database_url=self.database_url).start()
        self.gateways = [first]
        for _ in range(self.size - 1):
            other = Gateway(
                data, settings=self.settings, database_url=self.database_url, key=first.key
            )
            self.gateways.append(other.start())
        return self

    @property
    def key(self) -> str:
        return self.gateways[0].key

    def pid(self, index: int) -> int:
        process = self.gateways[index].process
        assert process is not None
        return process.pid

    def alive(self) -> list[Gateway]:
        return [gw for gw in self.gateways if gw.process is not None]

    def stop(self) -> None:
        for gateway in self.gateways:
            if gateway.process is not None:
                os.kill(gateway.process.pid, signal.SIGCONT)  # in case a test paused it
            gateway.stop()

    def sql(self, statement: str, *args: Any) -> list[tuple[Any, ...]]:
        return self.gateways[0].sql(statement, *args)

    def leased_by(self, index: int, where: str = "TRUE") -> list[str]:
        """Ids of the tasks process `index` holds a lease on (owners are host:pid:random)."""
        rows = self.sql(
            f"SELECT id FROM tasks WHERE lease_owner LIKE $1 AND {where}",
            f"%:{self.pid(index)}:%",
        )
        return [row[0] for row in rows]

    def logs(self) -> str:
        return self.gateways[0].all_logs()  # one data directory: every process's log


@contextmanager
def cluster(root: Path, size: int = 2, **settings: str) -> Iterator[Cluster]:
    running = Cluster(root, size, settings).start()
    try:
        yield running
    finally:
        running.stop()


def count_lines(log: str, needle: str) -> int:
    return sum(1 for line in log.splitlines() if needle in line)


def create_videos(client: httpx.Client, count: int, label: str, **body: Any) -> list[str]:
    """Ids of `count` new videos (short sandbox clips unless the body says otherwise)."""
    ids = []
    for index in range(count):
        fields = {"model": "viduq2-turbo", "prompt": f"{label} {index}", "duration": 2, **body}
        response = client.post("/v1/videos", json=fields)
        assert response.status_code == 200, response.text
        ids.append(response.json()["id"])
    return ids


def postgres_gateway(root: Path, **settings: str) -> Gateway:
    """One `vidugate serve` (of VIDUGATE_PROCESSES processes) on a fresh PostgreSQL database."""
    data = root / "gw"
    url = fresh_database_url(data, backend="postgres")
    return Gateway(data, database_url=url, settings=settings)
