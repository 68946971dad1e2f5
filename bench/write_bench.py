"""CPU per task create in the store alone (TaskRepository.create on SQLite, through the
Database's group-commit writer), with no HTTP in front: what a create's write costs.

Method: one process pinned to core 0; --batches rounds of --size concurrent creates
(asyncio.gather), after 5 warm-up rounds; CPU is the process's (all threads) over the
measured rounds, divided by the creates. With --before SRC the same is measured on an
older src/ of vidugate (a child process with SRC first on PYTHONPATH), in the same run.

    uv run python bench/write_bench.py [--size 32] [--batches 200] [--before /old/src]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import uvloop


async def measure(size: int, batches: int) -> dict[str, float]:
    from vidugate.domain.models import Mode
    from vidugate.domain.request import VideoFields, build_request
    from vidugate.domain.tasks import Surface, TaskStatus, VideoTask, new_id
    from vidugate.store.db import open_database
    from vidugate.store.tasks import TaskRepository

    fields = VideoFields(model="viduq3-pro", prompt="bench")
    request = build_request(fields, mode=Mode.TEXT, image_count=0)
    request = request.with_seed().with_frame(None)

    def task() -> VideoTask:
        now = time.time()
        return VideoTask(
            id=new_id("video_", now), key_id="key_bench", surface=Surface.OPENAI,
            provider="sandbox", status=TaskStatus.QUEUED, progress=0, request=request,
            created_at=now, updated_at=now, deadline_at=now + 600,
        )  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        async with open_database(f"sqlite+aiosqlite:///{tmp}/bench.db") as database:
            repo = TaskRepository(database)
            for _ in range(5):
                await asyncio.gather(*(repo.create(task()) for _ in range(size)))
            rounds = [[task() for _ in range(size)] for _ in range(batches)]
            cpu, wall = time.process_time(), time.perf_counter()
            for batch in rounds:
                await asyncio.gather(*(repo.create(t) for t in batch))
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    creates = size * batches
    return {"cpu_us": cpu * 1e6 / creates, "wall_us": wall * 1e6 / creates}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--before", help="an older src/ to measure as well")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(uvloop.run(measure(args.size, args.batches))))
        return
    sources = {"now": None, "before": args.before} if args.before else {"now": None}
    figures = {}
    for name, source in sources.items():
        env = {**os.environ, **({"PYTHONPATH": source} if source else {})}
        out = subprocess.run(
            ["taskset", "-c", "0", sys.executable, str(Path(__file__)), "--child",
             "--size", str(args.size), "--batches", str(args.batches)],
            env=env, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        figures[name] = json.loads(out)
    print(f"\ncreates in batches of {args.size}, {args.batches} batches, core 0; "
          f"load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])}\n")  # fmt: skip
    for name, fig in figures.items():
        print(f"{name:8} CPU {fig['cpu_us']:8.0f} us/create   wall {fig['wall_us']:8.0f} us/create")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
