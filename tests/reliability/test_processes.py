"""`vidugate serve --processes 2` (VIDUGATE_PROCESSES) on PostgreSQL: a supervised process
killed with -9 is replaced and its tasks are taken over; SIGTERM lets running steps finish
within the grace period and hands every lease back at once (a sandbox render under way is
abandoned and rendered again: same seed, same video), so a restart resumes everything."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
from clusterlib import count_lines, create_videos, postgres_gateway, report

from gatewaylib import Gateway, wait_final
from loglib import count_events
from waiting import wait_until

pytestmark = pytest.mark.process


def children(pid: int) -> set[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return {int(line) for line in found.stdout.split()}


def serving_children(gateway: Gateway) -> set[int]:
    assert gateway.process is not None
    # uvicorn's supervisor also keeps a resource-tracker child; the servers hold leases.
    return children(gateway.process.pid)


def test_a_killed_process_is_replaced_and_its_tasks_finish(tmp_path: Path) -> None:
    gateway = postgres_gateway(
        tmp_path,
        VIDUGATE_PROCESSES="2",
        VIDUGATE_SANDBOX_PACE="1.5",
        VIDUGATE_LEASE_SECONDS="3",
    ).start()
    try:
        with gateway.client() as client:
            ids = create_videos(client, 6, "proc")
            owners = wait_until(
                lambda: gateway.sql(
                    "SELECT DISTINCT lease_owner FROM tasks WHERE status = 'processing'"
                    " AND progress > 0 AND lease_owner IS NOT NULL"
                ),
                what="a process mid-render",
            )
            victim = int(owners[0][0].rsplit(":", 2)[1])
            before = serving_children(gateway)
            assert victim in before
            subprocess.run(["kill", "-9", str(victim)], check=True)
            # The supervisor starts a replacement process.
            wait_until(lambda: len(serving_children(gateway) - before) >= 1, what="a replacement")
            finals = [wait_final(client, video_id, timeout=180) for video_id in ids]
        assert [f["status"] for f in finals] == ["completed"] * len(ids)
        log = gateway.all_logs()
        assert all(count_events(log, "task.completed", task_id=i) == 1 for i in ids)
    finally:
        gateway.stop()
    report("--processes 2: one killed -9", tasks=len(ids), completed=len(ids), lost=0)


def test_sigterm_finishes_or_hands_back_and_a_restart_resumes(tmp_path: Path) -> None:
    gateway = postgres_gateway(
        tmp_path,
        VIDUGATE_PROCESSES="2",
        VIDUGATE_SANDBOX_PACE="3",  # 2 s clips render for 6 s: longer than the grace
        VIDUGATE_SHUTDOWN_GRACE_SECONDS="1",
    ).start()
    with gateway.client() as client:
        ids = create_videos(client, 4, "term")
    wait_until(
        lambda: gateway.sql("SELECT count(*) FROM tasks WHERE progress > 0")[0][0] > 0,
        what="renders under way",
    )
    assert gateway.process is not None
    gateway.process.send_signal(signal.SIGTERM)
    assert gateway.process.wait(60) == 0
    if gateway.process.stdout is not None:
        gateway.process.stdout.close()
    gateway.process = None
    # Handed back: no task keeps a lease of a process that has gone.
    assert gateway.sql("SELECT count(*) FROM tasks WHERE lease_owner IS NOT NULL")[0][0] == 0
    unfinished = gateway.sql("SELECT count(*) FROM tasks WHERE status <> 'completed'")[0][0]
    gateway.start()
    try:
        with gateway.client() as client:
            finals = [wait_final(client, video_id, timeout=180) for video_id in ids]
        assert [f["status"] for f in finals] == ["completed"] * len(ids)
        log = gateway.all_logs()
        assert count_lines(log, "Application shutdown complete") == 2  # both, cleanly
        assert "Traceback" not in log
    finally:
        gateway.stop()
    report(
        "--processes 2: SIGTERM mid-render, then restart",
        tasks=len(ids),
        handed_back=unfinished,
        completed=len(ids),
        lost=0,
    )
