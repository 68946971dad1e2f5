"""Gateways side by side, measured in turns (a, b, c, c, b, a, ...) so that a change in the
machine's load falls on all alike (`in_turns`, used by api_bench.py's --accounting), and
the status GET on such gateways, each a full gateway (API + worker) with its own settings
reading a finished task of its own (`status_get_in_turns`, for --limits and --metrics)."""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx

from api_bench import (
    LOAD_CPU,
    SERVER_CPU,
    Figure,
    free_port,
    load_average,
    median_of,
    print_figures,
    start_gateway,
    stop,
    wrk,
)
from benchlib import finished_video

# A gateway under test: its process, its key, the URL to load.
Server = tuple[subprocess.Popen[bytes], str, str]


def in_turns(
    servers: dict[str, Server], args: argparse.Namespace, script: str | None
) -> dict[str, Figure]:
    """Each server's figure: a warm-up of each, then args.rounds runs of each in turns (a,
    b, b, a, ...), so none always goes first and a change in the machine's load falls on
    all alike; the median of each one's runs."""
    runs: dict[str, list[Figure]] = {name: [] for name in servers}

    def run(name: str, seconds: int) -> Figure:
        proc, key, url = servers[name]
        return wrk(
            url, seconds=seconds, connections=args.connections, key=key, script=script,
            pid=proc.pid,
        )  # fmt: skip

    for name in servers:
        run(name, 2)
    order = list(servers)
    for _ in range(args.rounds):
        for name in order:
            runs[name].append(run(name, args.seconds))
        order.reverse()
    return {name: median_of(figures) for name, figures in runs.items()}


# Called with a gateway's name, settings and first answer: exits if it is not set as meant.
Check = Callable[[str, Mapping[str, str], httpx.Response], None]


def status_get_in_turns(
    args: argparse.Namespace,
    configs: Mapping[str, Mapping[str, str]],
    sources: Mapping[str, str | None],
    check: Check | None = None,
) -> dict[str, Figure]:
    """Each gateway's figure (the median of args.rounds runs); prints the method line."""
    loads = [load_average()]
    servers: dict[str, Server] = {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for name, settings in configs.items():
                port = free_port()
                data_dir = Path(tmp) / "".join(c if c.isalnum() else "_" for c in name)
                proc, key = start_gateway(
                    data_dir, port, "all", sources.get(name), settings=dict(settings)
                )
                base = f"http://127.0.0.1:{port}"
                url = f"{base}/v1/videos/{finished_video(base, key)}"
                servers[name] = (proc, key, url)
                if check is not None:
                    auth = {"Authorization": f"Bearer {key}"}
                    check(name, settings, httpx.get(url, headers=auth))
            results = in_turns(servers, args, None)
        finally:
            for proc, _key, _url in servers.values():
                stop(proc)
    loads.append(load_average())
    print(f"\nserver on cpu {SERVER_CPU}, wrk on cpu {LOAD_CPU}, {args.connections} connections, "
          f"status GET, median of {args.rounds} x {args.seconds}s each, measured in turns; "
          f"load average before {loads[0]}, after {loads[1]}\n")  # fmt: skip
    print_figures(results)
    results_json = {k: vars(v) for k, v in results.items()}
    print()
    print(json.dumps({"results": results_json, "load": loads}))
    return results


def print_shares(
    results: Mapping[str, Figure], base: str, names: list[str], goal: float, what: str
) -> None:
    """Each named figure as a share of the base's, by req/s and by CPU per request, against
    the goal; and whether any run had errors."""
    print()
    for name in names:
        by_rps = results[name].rps / results[base].rps
        by_cpu = results[base].cpu_us / results[name].cpu_us
        met = "met" if by_rps >= goal else "NOT met"
        print(f"goal: status GET with {name} >= {goal:.0%} of {what}, by req/s: "
              f"{by_rps:.1%}: {met} (by CPU per request: {by_cpu:.1%})")  # fmt: skip
    errors = sum(f.errors for f in results.values())
    print(f"goal: no errors: {errors}: {'met' if errors == 0 else 'NOT met'}")
