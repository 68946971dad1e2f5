"""Fair scheduling against first come first served (issue 13): a flooding tenant and a
light one sharing one upstream account.

Method: the Vidu emulator with one account of concurrency 5 and a fixed task time T
(`--task-seconds`, no queueing time) runs on core 1; one `vidugate serve` (SQLite, provider
vidu, the account at concurrency 5, callbacks on) on core 0. Two tenants are made with
the CLI before the start. The flooder creates `--flood` tasks at once (16 at a time); the
light tenant creates one task every `--light-every` seconds from the flood's start until
the flood has finished. Everything runs twice in the same invocation, with
`VIDUGATE_SCHEDULING=fifo` (every task is sent at once: the emulator queues them, first
come first served) and `=fair`. Figures, from the gateway's database after each run:
- light p50 / p99 / max: create -> completed of the light tenant's tasks, in seconds;
- flood throughput: the flooder's tasks / (its last completion - its first create);
- account throughput: the flood's tasks and the light ones finished within that span, over
  the span (the account's whole use: what the light tenant gets, the flood does not);
- upstream at once: the most emulator tasks unfinished at one time (created -> ended);
- load: the 1-minute load average at the end of the run.
Goal (issue 13): light p99 <= 2T + 1 s under fair, and the flood's throughput not lower
than under fifo.

    uv run python bench/fairness_bench.py [--flood 500] [--task-seconds 3]
        [--light-every 3] [--only fifo|fair ...]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from benchlib import KEY, free_port, pct, pinned, wait_http

SLOTS = 5


def emulator(args: argparse.Namespace) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    proc = subprocess.Popen(
        [*pinned("1"), sys.executable, "-m", "vidugate", "emulate-vidu",
         "--port", str(port), "--key", f"{KEY}:1e12", "--result-mode", "fixed",
         "--concurrency", str(SLOTS), "--queue-seconds", "0",
         "--process-seconds", str(args.task_seconds)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    return proc, f"http://127.0.0.1:{port}"


def spawn(cmd: list[str], **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(cmd, **kwargs)


def cli(env: dict[str, str], *argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "vidugate", *argv], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def tenant_key(env: dict[str, str], name: str) -> str:
    tenant = json.loads(cli(env, "tenants", "create", name, "--json"))["id"]
    return cli(env, "keys", "create", "--tenant", tenant, "--name", name)


def iso(value: str) -> float:
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def most_at_once(tasks: list[dict[str, Any]]) -> int:
    edges = sorted(
        [(iso(t["created_at"]), 1) for t in tasks]
        + [(iso(t["ended_at"]) if t["ended_at"] else float("inf"), -1) for t in tasks]
    )
    now = peak = 0
    for _at, step in edges:
        now += step
        peak = max(peak, now)
    return peak


async def create(session: aiohttp.ClientSession, url: str, token: str, prompt: str) -> str:
    body = {"model": "viduq2-turbo", "prompt": prompt, "duration": 1, "resolution": "540p"}
    headers = {"Authorization": f"Bearer {token}"}
    async with session.post(url, json=body, headers=headers) as response:
        answer = await response.json()
        assert response.status == 200, answer
        return str(answer["id"])


def finished(db: Path, ids: list[str]) -> int:
    with sqlite3.connect(db) as conn:
        marks = ",".join("?" * len(ids))
        sql = f"SELECT count(*) FROM tasks WHERE status = 'completed' AND id IN ({marks})"
        return int(conn.execute(sql, ids).fetchone()[0])


def times(db: Path, ids: list[str]) -> list[tuple[float, float]]:
    with sqlite3.connect(db) as conn:
        marks = ",".join("?" * len(ids))
        sql = f"SELECT created_at, completed_at FROM tasks WHERE id IN ({marks})"
        return [(float(a), float(b)) for a, b in conn.execute(sql, ids).fetchall()]


async def run(args: argparse.Namespace, mode: str) -> dict[str, float]:
    upstream, upstream_url = emulator(args)
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("VIDUGATE_")},
            "VIDUGATE_DATA_DIR": data,
            "VIDUGATE_PORT": str(port),
            "VIDUGATE_PROVIDER": "vidu",
            "VIDUGATE_LOG_LEVEL": "warning",
            "VIDUGATE_SCHEDULING": mode,
            "VIDUGATE_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "VIDUGATE_VIDU_ACCOUNTS": json.dumps(
                [{"id": "bench", "api_key": KEY, "base_url": upstream_url, "concurrency": SLOTS}]
            ),
        }
        flood_token = tenant_key(env, "flood")
        light_token = tenant_key(env, "light")
        gateway = spawn(
            [*pinned("0"), sys.executable, "-m", "vidugate", "serve"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        db = Path(data) / "vidugate.db"
        try:
            base = f"http://127.0.0.1:{port}"
            url = f"{base}/v1/videos"
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
                await wait_http(session, f"{upstream_url}/_emulator/stats")
                await wait_http(session, f"{base}/healthz")
                started = time.time()
                pending = list(range(args.flood))
                flood_ids: list[str] = []

                async def flooder() -> None:
                    while pending:
                        i = pending.pop()
                        flood_ids.append(await create(session, url, flood_token, f"flood {i}"))

                light_ids: list[str] = []

                async def light() -> None:
                    while len(flood_ids) < args.flood or finished(db, flood_ids) < args.flood:
                        light_ids.append(
                            await create(session, url, light_token, f"light {len(light_ids)}")
                        )
                        await asyncio.sleep(args.light_every)

                await asyncio.gather(*(flooder() for _ in range(16)), light())
                for _ in range(100_000):  # the last light tasks
                    if finished(db, light_ids) >= len(light_ids):
                        break
                    await asyncio.sleep(0.5)
                async with session.get(f"{upstream_url}/_emulator/tasks") as response:
                    upstream_tasks = (await response.json())["tasks"]
            load = os.getloadavg()[0]
        finally:
            gateway.send_signal(signal.SIGINT)
            gateway.wait(60)
            upstream.terminate()
            upstream.wait(30)
        light_made_done = times(db, light_ids)
        light_times = [done - made for made, done in light_made_done]
        flood_times = times(db, flood_ids)
    first = min(made for made, _done in flood_times)
    last = max(done for _made, done in flood_times)
    span = last - first
    # The account's whole use while the flood ran: the flood's tasks and the light ones
    # that finished inside its span (what fair scheduling gives the light tenant, the flood
    # does not get; the sum shows what the hand-over of slots costs).
    light_inside = sum(1 for _made, done in light_made_done if first <= done <= last)
    return {
        "light_tasks": len(light_times),
        "light_p50_s": pct(light_times, 0.5),
        "light_p99_s": pct(light_times, 0.99),
        "light_max_s": max(light_times),
        "flood_tasks_per_s": len(flood_times) / span,
        "account_tasks_per_s": (len(flood_times) + light_inside) / span,
        "flood_span_s": span,
        "upstream_at_once": most_at_once(upstream_tasks),
        "load_1m": load,
        "wall_s": time.time() - started,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flood", type=int, default=500)
    parser.add_argument("--task-seconds", type=float, default=3.0)
    parser.add_argument("--light-every", type=float, default=3.0)
    parser.add_argument("--only", nargs="*", choices=["fifo", "fair"], default=["fifo", "fair"])
    args = parser.parse_args()
    print(
        f"flood={args.flood} T={args.task_seconds}s light every {args.light_every}s, "
        f"one account of concurrency {SLOTS}; goal: fair light p99 <= "
        f"{2 * args.task_seconds + 1:.0f}s, fair flood throughput >= fifo's",
        flush=True,
    )
    for mode in args.only:
        figures = await run(args, mode)
        shown = "  ".join(
            f"{name}={value:.2f}" if isinstance(value, float) else f"{name}={value}"
            for name, value in figures.items()
        )
        print(f"{mode}: {shown}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
