"""Scale-out: one gateway process against two, on PostgreSQL, under a mixed load of creates
and status polls, with every task run to the end against the Vidu emulator.

Method: for N in (1, 2), a fresh PostgreSQL database, the Vidu emulator (one account with
unlimited concurrency; results are one tiny fixed MP4, so copying them is cheap) and
`vidugate serve --processes N` (provider vidu, polling only, no callbacks), all real
processes on loopback. A load generator of its own (bench/mixed_load.py, aiohttp on uvloop)
then does a fixed amount of work over --connections keep-alive connections: --tasks JSON
creates (viduq3-pro, 1 s, 540p), each followed in the work list by --gets-per-create status
GETs of tasks already created and not yet seen final. When it has done all of them the bench
waits (reading the database, so it adds no load) until every task is final. Figures per N:
- creates/s and GETs/s over the load phase, p50 / p99 latency of each (client-side,
  closed loop: a request's latency includes its wait for a free server);
- tasks/s: tasks completed / time from the load's start to the last task's completed_at;
- tasks lost, which must be 0: created (200) but never final, final but not completed,
  rows without a 200 create or creates without a row, gateway tasks with no or with several
  upstream tasks (read from the emulator), and tasks the status GET does not show completed
  once all are;
- gateway CPU per task: the gateway's CPU seconds from the load's start until all tasks are
  final, over the tasks (with its share of the status GETs): what a process costs per task;
- CPU cores used by each party over the load phase (from /proc; PostgreSQL as the whole
  server, its ended backends included), what went to other processes on the machine (a
  warning when that disturbs the run), and how the client's connections were split over
  the gateway's processes (uvicorn's workers share one listening socket);
- PostgreSQL's own counters for the database: commits, rollbacks (SQLAlchemy ends reads
  with one) and task-row updates per task, connections opened, deadlocks; and the
  gateway's warning/error log lines (its log is kept in the temp directory if there are).
Pinning (--pin split, the default): the load generator and the emulator on the last core;
the gateway on core 0 with one process, on cores 0-1 with two. PostgreSQL is the machine's
server, not pinned. On a 2-core machine the two-process gateway therefore shares both cores
with the load generator, the emulator and PostgreSQL, and the speed-up is bounded well
below 2.

    uv run --frozen python bench/scale_bench.py [--tasks 5000] [--gets-per-create 10]
        [--connections 64] [--processes 1 2] [--pin split|none]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from benchlib import Emulator, pct, pinned
from procstat import (
    connections_by_pid,
)
from scale_parts import (
    FINAL,
    HERE,
    CpuSample,
    Gateway,
    cores_used,
    engine,
    pg_stats,
    recreate_database,
    sample_cpu,
)
from scale_report import code_version, report

# --- one configuration ------------------------------------------------------------------


async def drive(
    args: argparse.Namespace, gateway: Gateway, emulator: Emulator, out: Path
) -> dict[str, Any]:
    """Run the load generator; sample CPU at its start and end, and the connection split."""
    proc = await asyncio.create_subprocess_exec(
        *pinned(args.load_cpus), sys.executable, str(HERE / "mixed_load.py"),
        "--base-url", gateway.base_url, "--tasks", str(args.tasks),
        "--gets-per-create", str(args.gets_per_create),
        "--connections", str(args.connections), "--out", str(out),
        env={**os.environ, "BENCH_KEY": gateway.key}, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    samples: dict[str, CpuSample] = {}
    split: dict[int, int] = {}

    async def look_at_connections() -> None:
        await asyncio.sleep(1.0)  # every connection is open by then
        split.update(connections_by_pid(gateway.workers(), gateway.port))

    looker: asyncio.Task[None] | None = None
    async for line in proc.stdout:
        event = json.loads(line)["event"]
        samples[event] = sample_cpu(gateway, emulator, proc.pid)
        if event == "start":
            looker = asyncio.create_task(look_at_connections())
    if await proc.wait() != 0 or set(samples) != {"start", "end"}:
        raise SystemExit(f"load generator failed (exit {proc.returncode})")
    if looker is not None:
        looker.cancel()
    result: dict[str, Any] = json.loads(await asyncio.to_thread(out.read_text))
    result["cpu_load"] = cores_used(samples["start"], samples["end"])
    result["end_sample"] = samples["end"]
    result["connections_per_process"] = sorted(split.values(), reverse=True)
    return result


async def wait_all_final(db: AsyncEngine, expected: int) -> None:
    query = text(
        "SELECT count(*) FILTER (WHERE status IN ('completed', 'failed', 'cancelled')) FROM tasks"
    )
    while True:
        async with db.connect() as conn:
            if (await conn.execute(query)).scalar_one() >= expected:
                return
        await asyncio.sleep(0.5)


async def api_sweep(
    session: aiohttp.ClientSession, gateway: Gateway, ids: list[str]
) -> Counter[str]:
    """Every task's status as the gateway's status GET tells it, once all are final."""
    seen: Counter[str] = Counter()
    pending = list(ids)
    headers = {"Authorization": f"Bearer {gateway.key}"}

    async def one() -> None:
        while pending:
            task_id = pending.pop()
            url = f"{gateway.base_url}/v1/videos/{task_id}"
            async with session.get(url, headers=headers) as response:
                body = await response.json()
                seen[body.get("status", f"http {response.status}")] += 1

    await asyncio.gather(*(one() for _ in range(16)))
    return seen


async def run_config(args: argparse.Namespace, processes: int) -> dict[str, Any]:
    name = f"vgbench_{os.getpid()}_{processes}proc"
    await recreate_database(args.postgres, name)
    database_url = f"postgresql+asyncpg://{args.postgres}/{name}"
    db = engine(args.postgres, name, pool_size=1)
    emulator = Emulator(
        cpus=args.load_cpus, queue=args.queue, process=args.process, latency=args.latency
    )
    gateway_cpus = None if args.pin == "none" else ",".join(str(c) for c in range(processes))
    with tempfile.TemporaryDirectory(prefix="vgbench-") as tmp:
        gateway = Gateway(
            processes=processes,
            database_url=database_url,
            emulator_url=emulator.url,
            data_dir=Path(tmp),
            cpus=gateway_cpus,
            poll_seconds=args.poll_seconds,
            pool_size=args.pool_size,
        )
        try:
            gateway.start()
            timeout = aiohttp.ClientTimeout(total=120)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                await emulator.ready(session)
                await gateway.ready()
                load = await drive(args, gateway, emulator, Path(tmp) / "load.json")
                created: list[str] = load["created"]
                print(
                    f"  load done in {load['ended'] - load['started']:.1f}s, "
                    f"waiting for {len(created)} tasks to end",
                    flush=True,
                )
                try:
                    async with asyncio.timeout(args.final_timeout):
                        await wait_all_final(db, len(created))
                    all_final = True
                except TimeoutError:
                    all_final = False
                end = sample_cpu(gateway, emulator, None)
                await asyncio.sleep(1.5)  # past the status cache's TTLs
                api_view = await api_sweep(session, gateway, created)
                upstream = await emulator.admin(session, "/tasks")
                upstream_stats = await emulator.admin(session, "/stats")
            async with db.connect() as conn:
                rows = (
                    await conn.execute(
                        text("SELECT id, status, error_code, completed_at FROM tasks")
                    )
                ).all()
            gateway.stop()  # its backends report their statistics as they exit
            database_stats = await pg_stats(db)
        finally:
            gateway.stop()
            emulator.stop()
            await db.dispose()
            await recreate_database(args.postgres, name, drop_only=True)
        problems, excerpt = gateway.problems()
        log_copy = str(gateway.keep_log(f"{processes}proc")) if problems else None
    figures = summarise(load, rows, upstream, upstream_stats, api_view, all_final)
    figures["cpu_tail"] = cores_used(load["end_sample"], end)
    tasks = max(len(rows), 1)
    load_cpu = figures["cpu_load"]["gateway"] * (load["ended"] - load["started"])
    tail_cpu = figures["cpu_tail"]["gateway"] * (end.at - load["ended"])
    figures["gateway_cpu_ms_per_task"] = (load_cpu + tail_cpu) * 1000 / tasks
    figures["postgres"] = database_stats
    figures["deadlocks"] = database_stats["deadlocks"]
    figures["sessions"] = database_stats["sessions"]
    figures["task_row_updates_per_task"] = database_stats["n_tup_upd"] / tasks
    figures["commits_per_task"] = database_stats["xact_commit"] / tasks
    # SQLAlchemy ends read-only transactions, and resets pooled connections, with ROLLBACK.
    figures["rollbacks_per_task"] = database_stats["xact_rollback"] / tasks
    figures["log_problems"] = problems
    figures["log_excerpt"] = excerpt
    figures["log_copy"] = log_copy
    return figures


def summarise(
    load: dict[str, Any],
    rows: Sequence[Any],
    upstream: dict[str, Any],
    upstream_stats: dict[str, Any],
    api_view: Counter[str],
    all_final: bool,
) -> dict[str, Any]:
    created: list[str] = load["created"]
    wall = load["ended"] - load["started"]
    lat = load["latency"]
    codes: dict[str, dict[str, int]] = load["codes"]
    by_id = {row[0]: row for row in rows}
    created_set = set(created)
    per_upstream = Counter(
        t["payload"].removeprefix("vidugate:") for t in upstream["tasks"] if t["payload"]
    )
    completed_at = [row[3] for row in rows if row[1] == "completed" and row[3] is not None]
    last_end = max(completed_at, default=float("nan"))
    lost = {
        "no row for a 200 create": len(created_set - by_id.keys()),
        "row without a 200 create": len(by_id.keys() - created_set),
        "never final": sum(1 for i in created if i in by_id and by_id[i][1] not in FINAL),
        "final, not completed": sum(
            1 for i in created if i in by_id and by_id[i][1] in FINAL and by_id[i][1] != "completed"
        ),
        "no upstream task": sum(1 for i in created if per_upstream[i] == 0),
        "duplicate upstream tasks": sum(n - 1 for n in per_upstream.values() if n > 1),
        "status GET not completed": sum(n for s, n in api_view.items() if s != "completed"),
    }
    failed_as = Counter(f"{row[1]}:{row[2]}" for row in rows if row[1] != "completed")
    non_2xx = {
        kind: {code: n for code, n in counts.items() if not code.startswith("2")}
        for kind, counts in codes.items()
    }
    return {
        "creates_per_s": codes["create"].get("200", 0) / wall,
        "gets_per_s": codes["get"].get("200", 0) / wall,
        "requests_per_s": (len(lat["create"]) + len(lat["get"])) / wall,
        "create_p50_ms": statistics.median(lat["create"]) * 1000 if lat["create"] else None,
        "create_p99_ms": pct(lat["create"], 0.99) * 1000,
        "get_p50_ms": statistics.median(lat["get"]) * 1000 if lat["get"] else None,
        "get_p99_ms": pct(lat["get"], 0.99) * 1000,
        "load_seconds": wall,
        "all_final": all_final,
        "final_after_s": last_end - load["started"],
        "tail_s": last_end - load["ended"],
        "tasks_per_s": len(completed_at) / (last_end - load["started"]),
        "tasks": len(created),
        "tasks_lost": sum(lost.values()),
        "lost": lost,
        "not_completed_as": dict(failed_as),
        "non_2xx": non_2xx,
        "client_failures": load["failures"],
        "upstream_creates": upstream_stats["creates_accepted"],
        "upstream_polls": upstream_stats["polls"],
        "cpu_load": load["cpu_load"],
        "connections_per_process": load["connections_per_process"],
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=5000, help="creates in the load")
    parser.add_argument("--gets-per-create", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64, help="client connections")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--pin",
        choices=["split", "none"],
        default="split",
        help="split: load generator + emulator on the last core, gateway on the first N",
    )
    parser.add_argument("--queue", type=float, default=1.0, help="upstream queue seconds")
    parser.add_argument("--process", type=float, default=3.0, help="upstream process seconds")
    parser.add_argument("--latency", type=float, default=0.05, help="emulator s per answer")
    parser.add_argument("--poll-seconds", type=float, default=3.0, help="gateway's Vidu poll")
    parser.add_argument("--pool-size", type=int, help="VIDUGATE_DATABASE_POOL_SIZE")
    parser.add_argument("--final-timeout", type=float, default=300.0)
    parser.add_argument(
        "--postgres",
        default="postgres@127.0.0.1:5432",
        help="USER@HOST:PORT of a PostgreSQL server with trust auth",
    )
    args = parser.parse_args()
    cpus = os.cpu_count() or 1
    if shutil.which("taskset") is None or cpus < 2:
        args.pin = "none"
    args.load_cpus = None if args.pin == "none" else str(cpus - 1)
    started = time.time()
    args.loadavg_before = os.getloadavg()
    args.code = code_version()
    results: dict[int, dict[str, Any]] = {}
    for processes in args.processes:
        print(f"{processes} gateway process(es) ...", flush=True)
        results[processes] = await run_config(args, processes)
    report(args, results, time.time() - started)


if __name__ == "__main__":
    asyncio.run(main())
