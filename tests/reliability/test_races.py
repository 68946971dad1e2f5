"""Races between two gateway processes on one PostgreSQL database and one data directory
(sandbox provider, short clips).

a. A cancel sent to process A, a delete sent to process B and a download from A, all at
   once, for many tasks, at the moment their render ends (or just before, or just after):
   every task ends in one state that agrees with every answer given, its files are gone,
   both processes soon answer 404 for it, and no answer is a 5xx.
b. Two processes finishing the same task: A is paused (SIGSTOP) while it holds a task's
   lease mid-render; B takes the task over when the lease runs out and completes it; A
   resumes with its stale lease and every write it makes for that task is refused. The task
   completes once, one stored copy remains, and A serves new work as before."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from clusterlib import Cluster, cluster, create_videos, report

from gatewaylib import probe_mp4, wait_final
from loglib import count_events
from waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.process]

CLIP = {"duration": 2, "resolution": "540p"}  # 48 frames, a render of 2 s or more (pace)
FRAMES = 48
TASKS = 24
EARLY, AFTER = 10, 101  # trigger progress: well before the end; once completed


@dataclass
class Race:
    video_id: str
    trigger: int  # fire once progress (as A shows it) reaches this, or the task completed
    delay: float  # then wait this long: the moment lands on either side of the end
    fired: bool = False
    answers: dict[str, int] = field(default_factory=dict)
    video: bytes = b""  # a download answered 200
    gone_after: float = -1.0  # seconds from the delete's answer to 404 on both processes


def races(ids: list[str]) -> list[Race]:
    """Anchors on both sides (surely stopped, surely completed first), the rest around the
    end of the render; seeded, so a run is repeatable in what it aims at."""
    rng = random.Random(20261126)
    plan = []
    for index, video_id in enumerate(ids):
        if index % 6 == 0:
            plan.append(Race(video_id, EARLY, 0.0))
        elif index % 6 == 1:
            plan.append(Race(video_id, AFTER, 0.0))
        else:
            plan.append(Race(video_id, rng.randint(80, 99), rng.uniform(0.0, 0.6)))
    return plan


class Racer:
    """Fires one race's three requests at once (each on its own connection) and keeps every
    answer; a 5xx or a broken answer (e.g. a body cut short) is kept as a failure."""

    def __init__(self, gw: Cluster) -> None:
        self.gw = gw
        self.a, self.b = (g.base_url for g in gw.gateways)
        self.headers = {"Authorization": f"Bearer {gw.key}"}
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []
        self.failures: list[str] = []

    def call(self, base: str, method: str, path: str) -> httpx.Response:
        with httpx.Client(base_url=base, headers=self.headers, timeout=60) as client:
            try:
                response = client.request(method, path)
            except httpx.TransportError as exc:
                response = httpx.Response(599)  # no whole answer came: stands for a failure
                with self.lock:
                    self.failures.append(f"{method} {path}: {exc!r}")
        if response.status_code >= 500:
            with self.lock:
                self.failures.append(f"{method} {path}: {response.status_code}")
        return response

    def fire(self, race: Race) -> None:
        race.fired = True
        gate = threading.Barrier(3)
        path = f"/v1/videos/{race.video_id}"
        calls: dict[str, Callable[[], httpx.Response]] = {
            "cancel": lambda: self.call(self.a, "POST", f"{path}/cancel"),
            "delete": lambda: self.call(self.b, "DELETE", path),
            "download": lambda: self.call(self.a, "GET", f"{path}/content"),
        }

        def run(kind: str) -> None:
            gate.wait()
            response = calls[kind]()
            race.answers[kind] = response.status_code
            if kind == "download" and response.status_code == 200:
                race.video = response.content
            if kind == "delete":
                # Deleted means gone: 404 on both processes soon (another process trusts
                # its cached copy of a finished task for about a second).
                answered = time.monotonic()
                with contextlib.suppress(AssertionError):  # left at -1: checked by the test
                    wait_until(lambda: gone_everywhere(self.gw, race.video_id), 10, "404s")
                    race.gone_after = time.monotonic() - answered

        def launch() -> None:
            for kind in calls:
                thread = threading.Thread(target=run, args=(kind,))
                thread.start()
                with self.lock:
                    self.threads.append(thread)

        timer = threading.Timer(race.delay, launch)
        timer.start()
        with self.lock:
            self.threads.append(timer)

    def join(self) -> None:
        while True:
            with self.lock:
                pending = [t for t in self.threads if t.is_alive()]
            if not pending:
                return
            for thread in pending:
                thread.join(60)


def run_races(gw: Cluster, plan: list[Race], racer: Racer) -> None:
    """Watch every task on A and fire each race when its moment comes."""
    with gw.gateways[0].client() as client:
        deadline = time.monotonic() + 180
        while not all(race.fired for race in plan):
            assert time.monotonic() < deadline, [r for r in plan if not r.fired]
            for race in plan:
                if race.fired:
                    continue
                response = client.get(f"/v1/videos/{race.video_id}")
                assert response.status_code == 200, response.text
                video = response.json()
                assert video["status"] in ("queued", "processing", "completed"), video
                if video["status"] == "completed" or video["progress"] >= race.trigger:
                    racer.fire(race)
            time.sleep(0.02)
    racer.join()


def gone_everywhere(gw: Cluster, video_id: str) -> bool:
    for gateway in gw.gateways:
        with gateway.client() as client:
            for path in (f"/v1/videos/{video_id}", f"/v1/videos/{video_id}/content"):
                if client.get(path).status_code != 404:
                    return False
    return True


def test_cancel_delete_and_completion_at_once_end_consistently(tmp_path: Path) -> None:
    settings = {"VIDUGATE_SANDBOX_PACE": "1.0", "VIDUGATE_LEASE_SECONDS": "5"}
    with cluster(tmp_path, 2, **settings) as gw:
        with gw.gateways[0].client() as a, gw.gateways[1].client() as b:
            ids = create_videos(a, TASKS // 2, "race a", **CLIP)
            ids += create_videos(b, TASKS // 2, "race b", **CLIP)
        plan = races(ids)
        racer = Racer(gw)
        run_races(gw, plan, racer)
        assert racer.failures == [], racer.failures
        assert [r for r in plan if r.gone_after < 0] == []

        rows = {
            row[0]: row[1:]
            for row in gw.sql(
                "SELECT id, status, deleted_at IS NOT NULL FROM tasks WHERE id = ANY($1)", ids
            )
        }
        log = gw.logs()
        outcomes: Counter[str] = Counter()
        for race in plan:
            status, deleted = rows[race.video_id]
            cancel, delete, download = (race.answers[k] for k in ("cancel", "delete", "download"))
            completions = count_events(log, "task.completed", task_id=race.video_id)
            assert delete == 200, race
            assert deleted, race
            assert cancel in (200, 404, 409), race
            assert status in ("cancelled", "completed"), (race, status)
            if cancel == 200:
                # The cancel won: the task was stopped and never completed afterwards.
                assert status == "cancelled", race
                assert completions == 0, (race, completions)
            elif cancel == 409:
                # Refused only because the render had already been kept.
                assert status == "completed", race
                assert completions == 1, (race, completions)
            else:  # the delete got there first; the cancel found nothing to cancel
                assert completions == (1 if status == "completed" else 0), (race, status)
            assert download in (200, 404, 409, 410), race
            if download == 200:  # a download either gets the whole video or a clear no
                assert status == "completed", race
                assert probe_mp4(race.video).frames == FRAMES
            key = "cancel won" if cancel == 200 else f"{status}, cancel {cancel}"
            outcomes[key] += 1
        stopped = sum(1 for status, _ in rows.values() if status == "cancelled")
        assert 0 < stopped < TASKS, outcomes  # the anchors: both sides of the end happened

        # No file left once the worker's clean-up step has run.
        videos = tmp_path / "shared-data" / "media" / "videos"
        wait_until(
            lambda: not [v for v in ids if (videos / v).exists()], 30, "every file to be removed"
        )
        wait_until(
            lambda: not gw.sql("SELECT id FROM tasks WHERE lease_owner IS NOT NULL"),
            30,
            "every lease to be handed back",
        )
        log = gw.logs()
        assert "Traceback" not in log
        assert "api.unhandled" not in log
    report(
        "cancel + delete + download at completion (2 processes, PostgreSQL)",
        tasks=TASKS,
        outcomes=dict(sorted(outcomes.items())),
        downloads=dict(sorted(Counter(r.answers["download"] for r in plan).items())),
        completed_after_cancel=0,
        files_left=0,
        gateway_5xx=0,
        slowest_404_both_s=f"{max(r.gone_after for r in plan):.1f}",
    )


def test_a_paused_process_loses_the_task_it_held_and_serves_again(tmp_path: Path) -> None:
    settings = {
        "VIDUGATE_SANDBOX_PACE": "2.5",  # a 2 s clip renders for 5 s or more
        "VIDUGATE_LEASE_SECONDS": "2",
    }
    with cluster(tmp_path, 2, **settings) as gw:
        paused, other = gw.gateways
        with paused.client() as client:
            # Each process takes at most its 2 render slots (fair admission hands a process
            # only what it can render), so with 4 videos A gets some whoever admits first.
            ids = create_videos(client, 4, "paused", **CLIP)
        # Pause A at a moment it holds the lease of a task it is rendering: retried until
        # the pause lands before A hands the lease back (steps are short).
        for _attempt in range(50):
            wait_until(
                lambda: gw.leased_by(0, "status = 'processing' AND progress > 0"),
                what="A to hold a task mid-render",
            )
            os.kill(gw.pid(0), signal.SIGSTOP)
            held = gw.leased_by(0, "status = 'processing' AND progress > 0")
            if held:
                break
            os.kill(gw.pid(0), signal.SIGCONT)
        else:
            pytest.fail("A never held a lease at the moment it was paused")
        video_id = held[0]
        paused_at = time.monotonic()
        try:
            with other.client() as client:
                done = wait_final(client, video_id, timeout=120)
            assert done["status"] == "completed", done
            # A is still paused: B took the task over once A's lease ran out.
            assert count_events(other.log(), "task.completed", task_id=video_id) == 1
            stale = gw.sql("SELECT lease_owner FROM tasks WHERE id = $1", video_id)[0][0]
            assert stale is None or f":{gw.pid(0)}:" not in stale
        finally:
            os.kill(gw.pid(0), signal.SIGCONT)
        paused_for = time.monotonic() - paused_at

        # A works again: with B paused in turn, only A can take a new task to the end (this
        # also gives A's stale step, render and hand-back time to run out).
        os.kill(gw.pid(1), signal.SIGSTOP)
        try:
            with paused.client() as client:
                (again,) = create_videos(client, 1, "after the pause", **CLIP)
                assert wait_final(client, again, timeout=120)["status"] == "completed"
        finally:
            os.kill(gw.pid(1), signal.SIGCONT)
        assert count_events(paused.log(), "task.completed", task_id=again) == 1
        with other.client() as client:
            for each in ids:
                assert wait_final(client, each, timeout=120)["status"] == "completed"

        log = gw.logs()
        assert count_events(log, "task.completed", task_id=video_id) == 1
        assert count_events(paused.log(), "task.completed", task_id=video_id) == 0
        with paused.client() as client:  # served by the process that lost the task
            content = client.get(f"/v1/videos/{video_id}/content")
        assert content.status_code == 200
        assert probe_mp4(content.content).frames == FRAMES  # the whole video, not a torn one
        # Results are stored per attempt; the losing attempt's copy (if A got that far) is
        # removed, so exactly one remains.
        stored = tmp_path / "shared-data" / "media" / "videos" / video_id
        wait_until(lambda: len(list(stored.iterdir())) == 1, 10, "one stored copy")
        assert "Traceback" not in log
        assert "api.unhandled" not in log
    report(
        "SIGSTOP the process holding a task (2 processes, PostgreSQL, 2 s lease)",
        paused_seconds=f"{paused_for:.1f}",
        completed_by="the other process",
        completions=1,
        stored_copies=1,
        frames=FRAMES,
        paused_process_serves_after=True,
    )
