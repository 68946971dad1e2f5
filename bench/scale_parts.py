"""The parts of bench/scale_bench.py that set up and watch one configuration: its PostgreSQL
database, the gateway processes under test, and the CPU each party used."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from benchlib import KEY, Emulator, free_port, pinned, wait_http
from procstat import (
    children,
    connections_by_pid,
    cpu_seconds,
    every_process,
    machine_busy_seconds,
    server_cpu_seconds,
)

HERE = Path(__file__).resolve().parent
FINAL = ("completed", "failed", "cancelled")
SECRET = "scale-bench-signing-secret"
PROBLEM = re.compile(r"\b(WARNING|ERROR|CRITICAL)\b|Traceback")


# --- PostgreSQL ----------------------------------------------------------------------


def engine(server: str, database: str, **kwargs: Any) -> AsyncEngine:
    return create_async_engine(f"postgresql+asyncpg://{server}/{database}", **kwargs)


async def recreate_database(server: str, name: str, *, drop_only: bool = False) -> None:
    admin = engine(server, "postgres", isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if not drop_only:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()


async def pg_stats(db: AsyncEngine) -> dict[str, int]:
    """The database's own counters: transactions (committed, rolled back), deadlocks and
    connections opened to it; rows inserted and updated and scans of the tasks table."""
    query = text(
        "SELECT d.xact_commit, d.xact_rollback, d.deadlocks, d.sessions, t.n_tup_ins, "
        "t.n_tup_upd, t.seq_scan, t.idx_scan FROM pg_stat_database d, pg_stat_user_tables t "
        "WHERE d.datname = current_database() AND t.relname = 'tasks'"
    )
    for _ in range(20):  # an exiting backend's counters land a moment later
        await asyncio.sleep(0.25)
        async with db.connect() as conn:
            row = (await conn.execute(query)).one()
        if row.xact_commit > 0:
            break
    return dict(row._mapping)


# --- the gateway ---------------------------------------------------------------------


@dataclass
class Gateway:
    processes: int
    database_url: str
    emulator_url: str
    data_dir: Path
    cpus: str | None
    poll_seconds: float
    pool_size: int | None
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[str] | None = None
    key: str = ""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "serve.log"

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VIDUGATE_")}
        account = {"id": "bench", "api_key": KEY, "base_url": self.emulator_url}
        env.update(
            {
                "VIDUGATE_DATA_DIR": str(self.data_dir),
                "VIDUGATE_DATABASE_URL": self.database_url,
                "VIDUGATE_PORT": str(self.port),
                "VIDUGATE_SECRET": SECRET,
                "VIDUGATE_LOG_LEVEL": "warning",
                "VIDUGATE_PROVIDER": "vidu",
                "VIDUGATE_VIDU_ACCOUNTS": json.dumps([{**account, "concurrency": 10**6}]),
                "VIDUGATE_VIDU_POLL_SECONDS": str(self.poll_seconds),
            }
        )
        if self.pool_size is not None:
            env["VIDUGATE_DATABASE_POOL_SIZE"] = str(self.pool_size)
        with self.log_path.open("w") as log:
            self.proc = subprocess.Popen(
                [*pinned(self.cpus), sys.executable, "-m", "vidugate", "serve",
                 "--processes", str(self.processes)],
                env=env, stdout=subprocess.PIPE, stderr=log, text=True,
            )  # fmt: skip

    async def ready(self) -> None:
        """Up, key read, and every worker process accepting connections (a process still
        booting when the load connects would get none of its connections)."""
        assert self.proc is not None
        assert self.proc.stdout is not None
        first = await asyncio.to_thread(self.proc.stdout.readline)
        if not first.startswith("export VIDUGATE_API_KEY="):
            raise SystemExit(f"gateway printed no key: {first!r}\n{self.log_tail()}")
        self.key = first.strip().split("=", 1)[1]
        async with aiohttp.ClientSession() as session:  # closed: it holds no connection after
            await wait_http(session, f"{self.base_url}/healthz")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            workers = self.workers()
            if len(workers) == self.processes:
                async with aiohttp.ClientSession() as probe:
                    # Several connections at once, held open while we look who holds them.
                    await asyncio.gather(*(self._hit(probe) for _ in range(8 * self.processes)))
                    held = connections_by_pid(workers, self.port)
                if all(held.values()):
                    return
            await asyncio.sleep(0.5)
        raise SystemExit(f"not every gateway process took connections\n{self.log_tail()}")

    async def _hit(self, session: aiohttp.ClientSession) -> None:
        async with session.get(f"{self.base_url}/healthz") as response:
            await response.read()

    def workers(self) -> list[int]:
        """The processes that serve: the server itself with one process; with more,
        uvicorn's worker children (not its supervisor, nor multiprocessing helpers)."""
        assert self.proc is not None
        if self.processes == 1:
            return [self.proc.pid]
        found = []
        for pid in children(self.proc.pid):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except FileNotFoundError:
                continue
            if b"resource_tracker" not in cmdline:
                found.append(pid)
        return found

    def all_pids(self) -> list[int]:
        assert self.proc is not None
        return [self.proc.pid, *children(self.proc.pid)]

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def problems(self) -> tuple[int, list[str]]:
        """How many warning/error lines the gateway logged, and the log from the first on."""
        lines = self.log_path.read_text().splitlines()
        hits = [i for i, line in enumerate(lines) if PROBLEM.search(line)]
        return len(hits), lines[hits[0] : hits[0] + 40] if hits else []

    def keep_log(self, name: str) -> Path:
        """A copy of the gateway's log that outlives the run's temporary directory."""
        kept = Path(tempfile.gettempdir()) / f"scale-bench-{os.getpid()}-{name}.log"
        shutil.copyfile(self.log_path, kept)
        return kept

    def log_tail(self) -> str:
        return "\n".join(self.log_path.read_text().splitlines()[-30:])


# --- CPU accounting --------------------------------------------------------------------


PARTIES = ("gateway", "postgres", "emulator", "load generator", "bench driver")


@dataclass
class CpuSample:
    at: float
    pids: dict[str, dict[int, float]]  # party -> process -> CPU seconds so far
    workers: list[int]  # the gateway's serving processes
    machine: float  # busy CPU seconds of the whole machine so far
    everyone: dict[int, tuple[str, float]]  # every process: name, CPU seconds so far


def sample_cpu(gateway: Gateway, emulator: Emulator, load_pid: int | None) -> CpuSample:
    groups = {
        "gateway": gateway.all_pids(),
        "emulator": [emulator.proc.pid],
        "load generator": [load_pid] if load_pid is not None else [],
        "bench driver": [os.getpid()],
    }
    pids = {name: {pid: cpu_seconds(pid) for pid in pids} for name, pids in groups.items()}
    # The whole server, as one: its backends come and go with the gateway's pool overflow.
    pids["postgres"] = {0: server_cpu_seconds("postgres")}
    return CpuSample(
        at=time.time(),
        pids=pids,
        workers=gateway.workers(),
        machine=machine_busy_seconds(),
        everyone=every_process(),
    )


def cores_used(before: CpuSample, after: CpuSample) -> dict[str, Any]:
    """Cores each party used between two samples. A process that started in between
    counts whole; one that ended in between is missed (none of ours does)."""
    wall = max(after.at - before.at, 1e-9)

    def used(name: str, pid: int) -> float:
        return (after.pids[name][pid] - before.pids[name].get(pid, 0.0)) / wall

    cores: dict[str, Any] = {
        name: sum(used(name, pid) for pid in after.pids[name]) for name in PARTIES
    }
    cores["gateway per process"] = [used("gateway", pid) for pid in after.workers]
    cores["machine"] = (after.machine - before.machine) / wall
    cores["everything else"] = cores["machine"] - sum(cores[name] for name in PARTIES)
    ours = {pid for pids in after.pids.values() for pid in pids}
    others = Counter(
        {
            f"{name}[{pid}]": round((cpu - before.everyone.get(pid, (name, 0.0))[1]) / wall, 2)
            for pid, (name, cpu) in after.everyone.items()
            if pid not in ours and name != "postgres"
        }
    )
    cores["busiest others"] = dict(others.most_common(3))
    return cores
