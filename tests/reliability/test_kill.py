"""kill -9 with two gateway processes on PostgreSQL: mid-render (sandbox) and mid-submit
(Vidu, via the emulator). Every task ends exactly once, no upstream task is made twice,
nothing is left stuck, and the killed process comes back and takes work again."""

from __future__ import annotations

from pathlib import Path

import pytest
from clusterlib import cluster, create_videos, report
from emulatorlib import fast_config, run_emulator
from vidulib import accounts_json, upstream_of

from gatewaylib import probe_mp4, wait_final
from loglib import count_events
from waiting import wait_until

pytestmark = pytest.mark.process

TASKS = 6


def test_kill_9_mid_render_loses_nothing(tmp_path: Path) -> None:
    settings = {
        "VIDUGATE_SANDBOX_PACE": "1.5",  # a 2 s clip renders for 3 s or more: time to kill
        "VIDUGATE_LEASE_SECONDS": "3",
    }
    with cluster(tmp_path, 2, **settings) as gw:
        victim, survivor = gw.gateways
        with victim.client() as client:
            ids = create_videos(client, TASKS, "kill")
        # Both processes pick up work; wait until the victim is mid-render on something.
        rendering = wait_until(
            lambda: gw.leased_by(0, "status = 'processing' AND progress > 0"),
            what="the victim to be rendering",
        )
        victim.kill()
        with survivor.client() as client:
            finals = [wait_final(client, video_id, timeout=180) for video_id in ids]
            assert [f["status"] for f in finals] == ["completed"] * TASKS, finals
            for final in finals:
                if final["id"] in rendering:
                    probe = probe_mp4(client.get(f"/v1/videos/{final['id']}/content").content)
                    assert f"{probe.width}x{probe.height}" == final["size"]
                    assert probe.frames == 48  # 2 s at 24 fps: the whole video, not a torn one
        log = gw.logs()
        assert "Traceback" not in log
        for video_id in ids:
            assert count_events(log, "task.completed", task_id=video_id) == 1
            # One stored copy per task: a half-finished attempt left nothing behind.
            stored = tmp_path / "shared-data" / "media" / "videos" / video_id
            assert len(list(stored.iterdir())) == 1
        assert gw.sql("SELECT count(*) FROM tasks WHERE lease_owner IS NOT NULL")[0][0] == 0
        victim.start()  # the killed process comes back and serves again
        with victim.client() as client:
            (again,) = create_videos(client, 1, "again", duration=1)
            assert wait_final(client, again, timeout=120)["status"] == "completed"
    report(
        "kill -9 mid-render (2 processes, PostgreSQL)",
        tasks=TASKS,
        killed_mid_render=len(rendering),
        completed=TASKS,
        completed_twice=0,
        lost=0,
    )


def test_kill_9_mid_submit_makes_no_second_upstream_task(tmp_path: Path) -> None:
    config = fast_config(result_mode="fixed")
    config.faults.latency = 3.0  # creates are under way long enough to kill the sender
    with run_emulator(config) as emulator:
        settings = {
            "VIDUGATE_PROVIDER": "vidu",
            "VIDUGATE_VIDU_ACCOUNTS": accounts_json(emulator, {"a": "key-a"}),
            "VIDUGATE_VIDU_POLL_SECONDS": "0.3",
            "VIDUGATE_VIDU_LOOKUP_GRACE_SECONDS": "1",
            "VIDUGATE_VIDU_TIMEOUT_SECONDS": "10",
            "VIDUGATE_LEASE_SECONDS": "3",
        }
        with cluster(tmp_path, 2, **settings) as gw:
            victim, survivor = gw.gateways
            # Created through the victim, whose worker is woken at once and sends them.
            with victim.client() as client:
                ids = create_videos(client, TASKS, "submit", model="viduq3-pro", duration=1)
            with survivor.client() as client:
                # The victim has sent creates whose answers have not come back yet.
                in_flight = wait_until(
                    lambda: gw.leased_by(0, "upstream_account IS NOT NULL AND upstream_id IS NULL"),
                    what="the victim to be mid-submit",
                )
                victim.kill()
                emulator.admin("POST", "/faults", {"latency": 0.0})
                finals = [wait_final(client, video_id, timeout=120) for video_id in ids]
            assert [f["status"] for f in finals] == ["completed"] * TASKS, finals
            upstream = {video_id: len(upstream_of(emulator, video_id)) for video_id in ids}
            assert upstream == dict.fromkeys(ids, 1), upstream
            log = gw.logs()
            assert "Traceback" not in log
            for video_id in ids:
                assert count_events(log, "task.completed", task_id=video_id) == 1
    report(
        "kill -9 mid-submit (2 processes, PostgreSQL, Vidu emulator)",
        tasks=TASKS,
        killed_mid_submit=len(in_flight),
        upstream_tasks=sum(upstream.values()),
        duplicates=sum(upstream.values()) - TASKS,
        lost=0,
    )
