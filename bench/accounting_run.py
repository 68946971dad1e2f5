"""api_bench.py --accounting: only the JSON create, with accounting off (no price table)
and on (VIDUGATE_PRICES_FILE=prices.example.toml, the key a funded tenant's): two API-only
gateways started side by side, measured in turns (off, on, on, off, ...; turns.py) so that
a change in the machine's load falls on both alike."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from api_bench import (
    HERE,
    LOAD_CPU,
    SERVER_CPU,
    Figure,
    free_port,
    load_average,
    print_figures,
    start_gateway,
    stop,
)
from turns import Server, in_turns

ACCOUNTING_GOAL = 0.90  # issue 12: JSON create with accounting on, of the figure with it off
PRICES_FILE = HERE.parent / "prices.example.toml"
BENCH_BALANCE = "1000000000"  # the funded tenant's: never the limit in a run


def cli_json(data_dir: Path, *args: str) -> dict[str, object]:
    """`vidugate ARGS --json` on data_dir's database (no server running)."""
    env = {**os.environ, "VIDUGATE_DATA_DIR": str(data_dir)}
    out = subprocess.run(
        [sys.executable, "-m", "vidugate", *args, "--json"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    answer: dict[str, object] = json.loads(out)
    return answer


def funded_key(data_dir: Path) -> str:
    """A client key of a new tenant with a balance no run can spend, made through the CLI
    before the gateway starts."""
    data_dir.mkdir(parents=True)
    tenant = cli_json(data_dir, "tenants", "create", "bench", "--balance", BENCH_BALANCE)
    made = cli_json(data_dir, "keys", "create", "--name", "bench", "--tenant", str(tenant["id"]))
    return str(made["token"])


def run_accounting(args: argparse.Namespace) -> None:
    loads = [load_average()]
    servers: dict[str, Server] = {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            port = free_port()
            proc, key = start_gateway(Path(tmp) / "off", port, "api")
            servers["accounting off"] = (proc, key, f"http://127.0.0.1:{port}/v1/videos")
            key = funded_key(Path(tmp) / "on")
            port = free_port()
            proc, _ = start_gateway(
                Path(tmp) / "on", port, "api", key=key,
                settings={"VIDUGATE_PRICES_FILE": str(PRICES_FILE)},
            )  # fmt: skip
            servers["accounting on"] = (proc, key, f"http://127.0.0.1:{port}/v1/videos")
            check_charged(servers["accounting on"][2], key)
            results = in_turns(servers, args, "post.lua")
        finally:
            for proc, _key, _url in servers.values():
                stop(proc)
    loads.append(load_average())
    report_accounting(args, results, loads)


def check_charged(url: str, key: str) -> None:
    """The funded key's create carries a reserved price: accounting is on for it."""
    answer = httpx.post(
        url,
        headers={"Authorization": f"Bearer {key}"},
        json={"model": "viduq2-turbo", "prompt": "bench", "duration": 5},
    )
    price = answer.json().get("price") if answer.status_code == 200 else None
    if not price or price.get("state") != "reserved":
        raise SystemExit(f"accounting is not on: {answer.status_code} {answer.text[:300]}")


def report_accounting(
    args: argparse.Namespace, results: dict[str, Figure], loads: list[str]
) -> None:
    print(f"\nserver on cpu {SERVER_CPU}, wrk on cpu {LOAD_CPU}, {args.connections} connections, "
          f"JSON create, median of {args.rounds} x {args.seconds}s each, measured in turns; "
          f"load average before {loads[0]}, after {loads[1]}\n")  # fmt: skip
    print_figures(results)
    off, on = results["accounting off"], results["accounting on"]
    by_rps, by_cpu = on.rps / off.rps, off.cpu_us / on.cpu_us
    print()
    for what, share in (("req/s", by_rps), ("CPU per request", by_cpu)):
        met = "met" if share >= ACCOUNTING_GOAL else "NOT met"
        print(f"goal: create with accounting >= {ACCOUNTING_GOAL:.0%} of without, by {what}: "
              f"{share:.1%}: {met}")  # fmt: skip
    errors = off.errors + on.errors
    print(f"goal: no errors: {errors}: {'met' if errors == 0 else 'NOT met'}")
    print(json.dumps({"results": {k: vars(v) for k, v in results.items()}, "load": loads}))
