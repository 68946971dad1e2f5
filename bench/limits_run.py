"""api_bench.py --limits: the status GET with no limit configured, with a request limit
kept in the process, and with the same limit kept in Redis (the machine's, 127.0.0.1:6379),
each on a full gateway (API + worker) reading its finished task; the gateways run side by
side and are measured in turns (turns.py) so a change in the machine's load falls on all
alike. The limit is far above what a run can send, so every call is checked and none
refused (a refusal would count as an error). With --before SRC, a gateway on that older
src/ is measured in the same turns ("today")."""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Mapping

import httpx

from turns import print_shares, status_get_in_turns

LIMITS_GOAL = 0.90  # issue 13: status GET with limits checked, of the figure without
HUGE = str(10**9)  # requests per minute: checked on every call, never reached
REDIS = "redis://127.0.0.1:6379/0"


def _limit_checked(name: str, settings: Mapping[str, str], answer: httpx.Response) -> None:
    if settings and "x-ratelimit-limit-requests" not in answer.headers:
        raise SystemExit(f"{name}: the limit is not checked: {answer.headers}")


def run_limits(args: argparse.Namespace) -> None:
    configs: dict[str, dict[str, str]] = {
        "no limit": {},
        "limit (memory)": {"VIDUGATE_LIMIT_REQUESTS_PER_MINUTE": HUGE},
        "limit (redis)": {
            "VIDUGATE_LIMIT_REQUESTS_PER_MINUTE": HUGE,
            "VIDUGATE_REDIS_URL": REDIS,
            "VIDUGATE_LIMITS_REDIS_PREFIX": f"vidugate-bench:{uuid.uuid4().hex}:",
        },
    }
    sources: dict[str, str | None] = dict.fromkeys(configs)
    if args.before:
        configs = {"before (no limit)": {}, **configs}
        sources["before (no limit)"] = args.before
    results = status_get_in_turns(args, configs, sources, _limit_checked)
    print_shares(results, "no limit", ["limit (memory)", "limit (redis)"], LIMITS_GOAL, "no limit")
