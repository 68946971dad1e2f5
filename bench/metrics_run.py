"""api_bench.py --metrics: the status GET with metrics off (VIDUGATE_METRICS=false) and
on (counted by route, method and status, timed into a histogram), each on a full gateway
(API + worker) reading its finished task, measured in turns (turns.py) so a change in the
machine's load falls on both alike. Both log at `warning`, as every api_bench gateway does,
so the difference is the metrics' alone; a third gateway, metrics on and logging at
`info`, shows what the one `http.request` log event per request costs on top (its lines
go to /dev/null, formatted as JSON all the same)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping

import httpx

from turns import print_shares, status_get_in_turns

METRICS_GOAL = 0.90  # issue 14: status GET with metrics on, of the figure with them off
OFF, ON, LOGGED = "metrics off", "metrics on", "metrics on, info log"


def _as_set(name: str, settings: Mapping[str, str], answer: httpx.Response) -> None:
    if answer.status_code != 200:
        raise SystemExit(f"{name}: the status GET answered {answer.status_code}")


def run_metrics(args: argparse.Namespace) -> None:
    configs: dict[str, dict[str, str]] = {
        OFF: {"VIDUGATE_METRICS": "false"},
        ON: {"VIDUGATE_METRICS": "true"},
        LOGGED: {"VIDUGATE_METRICS": "true", "VIDUGATE_LOG_LEVEL": "info"},
    }
    results = status_get_in_turns(args, configs, dict.fromkeys(configs), _as_set)
    print_shares(results, OFF, [ON, LOGGED], METRICS_GOAL, "metrics off")
