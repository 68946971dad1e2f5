"""scale_bench.py's report: the figures per process count side by side, the ratio of the
last to the first where it means something, and the commit measured."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
from typing import Any

from scale_parts import HERE, PARTIES


def code_version() -> str:
    """The commit measured, and a digest of uncommitted changes under src/ if any."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=HERE, capture_output=True, text=True, check=False
        ).stdout

    head = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    diff = git("diff", "HEAD", "--", "../src")
    if not diff:
        return head
    digest = hashlib.sha1(diff.encode()).hexdigest()[:10]
    return f"{head} + uncommitted src changes (diff sha1 {digest})"


def report(args: argparse.Namespace, results: dict[int, dict[str, Any]], elapsed: float) -> None:
    names = {n: f"{n} proc" + ("s" if n > 1 else "") for n in results}
    first, last = min(results), max(results)
    rows: list[tuple[str, str, str, bool]] = [
        # label, key, format, show the ratio of last over first
        ("creates/s (load phase)", "creates_per_s", ",.0f", True),
        ("status GETs/s (load phase)", "gets_per_s", ",.0f", True),
        ("create p50 ms", "create_p50_ms", ".1f", False),
        ("create p99 ms", "create_p99_ms", ".1f", False),
        ("GET p50 ms", "get_p50_ms", ".1f", False),
        ("GET p99 ms", "get_p99_ms", ".1f", False),
        ("load phase s", "load_seconds", ".1f", False),
        ("all final after s", "final_after_s", ".1f", False),
        ("tasks/s (to all final)", "tasks_per_s", ",.0f", True),
        ("gateway CPU ms per task", "gateway_cpu_ms_per_task", ".1f", False),
        ("tasks lost", "tasks_lost", "d", False),
        ("upstream creates", "upstream_creates", "d", False),
        ("postgres commits per task", "commits_per_task", ".1f", False),
        ("  rollbacks (reads) per task", "rollbacks_per_task", ".1f", False),
        ("task row updates per task", "task_row_updates_per_task", ".1f", False),
        ("postgres connections opened", "sessions", ",d", False),
        ("postgres deadlocks", "deadlocks", "d", False),
        ("gateway log warning/error lines", "log_problems", "d", False),
    ]
    print(
        f"\n{args.tasks} tasks, {args.gets_per_create} status GETs per create, "
        f"{args.connections} connections; upstream {args.queue:g}+{args.process:g}s per task, "
        f"polled every {args.poll_seconds:g}s; pin={args.pin}\n"
    )
    header = f"{'':30}" + "".join(f"{names[n]:>12}" for n in results)
    print(header + (f"{'speed-up':>10}" if len(results) > 1 else ""))
    for label, key, fmt, ratio in rows:
        line = f"{label:30}" + "".join(f"{format(r[key], fmt):>12}" for r in results.values())
        if ratio and len(results) > 1:
            line += f"{results[last][key] / results[first][key]:>9.2f}x"
        print(line)
    print(f"\ncores used over the load phase (of {os.cpu_count()}):")
    for party in (*PARTIES, "everything else", "machine"):
        label = {"postgres": "postgres (whole server)"}.get(party, party)
        print(f"  {label:28}" + "".join(f"{r['cpu_load'][party]:>12.2f}" for r in results.values()))
    for n, r in results.items():
        per = "/".join(f"{c:.2f}" for c in r["cpu_load"]["gateway per process"])
        conns = "/".join(str(c) for c in r["connections_per_process"])
        print(f"  {names[n]}: cores per gateway process {per}; connections per process {conns}")
    for n, r in results.items():
        other = r["cpu_load"]["everything else"]
        if other > 0.2:
            busiest = ", ".join(f"{k} {v:.2f}" for k, v in r["cpu_load"]["busiest others"].items())
            print(
                f"  WARNING {names[n]}: {other:.2f} cores went to other processes (busiest: "
                f"{busiest}): figures disturbed"
            )
    for n, r in results.items():
        if r["tasks_lost"] or any(r["non_2xx"].values()) or r["log_problems"] or r["deadlocks"]:
            print(f"\n{names[n]}: lost {r['lost']}, non-2xx {r['non_2xx']}")
            print(f"  not completed as: {r['not_completed_as']}")
            for line in r["client_failures"]:
                print(f"  client saw: {line}")
            if r["log_copy"]:
                print(f"  gateway log, from its first warning (whole log: {r['log_copy']}):")
            for line in r["log_excerpt"]:
                print(f"  | {line[:300]}")
    print(f"code: {args.code}")
    before = " ".join(f"{v:.2f}" for v in args.loadavg_before)
    after = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"\nwhole run {elapsed:.0f}s; load average before {before}, after {after}")
    print(json.dumps({names[n]: r for n, r in results.items()}))
