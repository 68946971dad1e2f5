"""Tasks through crashes, cancels and deadlines, on their own gateways: real processes where
they get killed (marked `process`), in the test process otherwise."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import assert_clean_log
from gatewaylib import Gateway, assert_video, wait_final, wait_for
from inprocess import InProcessGateway

pytestmark = pytest.mark.slow

# pace 1.0: a 4-second video takes at least 4 seconds to render, long enough to interrupt.
SLOW = {"VIDUGATE_SANDBOX_PACE": "1.0"}
CLIP = {"model": "viduq2-turbo", "prompt": "a slow sunrise", "duration": 4, "resolution": "540p"}


@pytest.fixture
def slow_gateway(tmp_path: Path) -> Iterator[Gateway]:
    """A real `vidugate serve`, to be killed."""
    gw = Gateway(tmp_path / "gw", settings=SLOW).start()
    yield gw
    gw.stop()
    assert_clean_log(gw)


@pytest.fixture
def slow_in_process(tmp_path: Path) -> Iterator[Gateway]:
    gw = InProcessGateway(tmp_path / "gw", settings=SLOW).start()
    yield gw
    gw.stop()
    assert_clean_log(gw)


def files_of(gw: Gateway, video_id: str) -> list[Path]:
    media = gw.data_dir / "media"
    work = gw.data_dir / "work"
    return [p for p in [*media.rglob("*"), *work.rglob("*")] if video_id in str(p) and p.is_file()]


@pytest.mark.process
def test_killed_mid_render_the_task_completes_after_restart(slow_gateway: Gateway) -> None:
    with slow_gateway.client() as client:
        created = client.post("/v1/videos", json=CLIP).json()
        seen = wait_for(client, created["id"], lambda v: v["progress"] >= 20)
        assert seen["status"] == "processing"
    slow_gateway.kill()
    slow_gateway.start()
    with slow_gateway.client() as client:
        done = wait_final(client, created["id"])
        assert done["status"] == "completed", done
        assert done["progress"] == 100
        video = client.get(f"/v1/videos/{created['id']}/content").content
    assert_video(video, width=960, height=540, seconds=4, audio=False)


@pytest.mark.process
def test_killed_with_queued_tasks_they_all_run_after_restart(tmp_path: Path) -> None:
    gw = Gateway(tmp_path / "gw", settings={**SLOW, "VIDUGATE_SANDBOX_CONCURRENCY": "1"}).start()
    try:
        with gw.client() as client:
            ids = [
                client.post("/v1/videos", json={**CLIP, "duration": 1}).json()["id"]
                for _ in range(3)
            ]
        gw.kill()
        gw.start()
        with gw.client() as client:
            assert [wait_final(client, i)["status"] for i in ids] == ["completed"] * 3
    finally:
        gw.stop()
    assert_clean_log(gw)


def test_cancel_while_rendering_leaves_no_file(slow_in_process: Gateway) -> None:
    with slow_in_process.client() as client:
        created = client.post("/v1/videos", json={**CLIP, "duration": 8}).json()
        wait_for(client, created["id"], lambda v: v["progress"] >= 10)
        assert files_of(slow_in_process, created["id"]), "a render should be under way"
        cancelled = client.post(f"/v1/videos/{created['id']}/cancel")
        assert cancelled.status_code == 200
        body = cancelled.json()
        assert body["status"] == "cancelled"
        assert body["error"]["code"] == "cancelled"
        progress_at_cancel = body["progress"]
        wait_for(client, created["id"], lambda v: not files_of(slow_in_process, created["id"]), 20)
        later = client.get(f"/v1/videos/{created['id']}").json()
        assert later["status"] == "cancelled"
        assert later["progress"] == progress_at_cancel
        assert client.get(f"/v1/videos/{created['id']}/content").status_code == 409
    assert_clean_log(slow_in_process)


def test_delete_while_rendering(slow_in_process: Gateway) -> None:
    with slow_in_process.client() as client:
        created = client.post("/v1/videos", json={**CLIP, "duration": 8}).json()
        wait_for(client, created["id"], lambda v: v["progress"] >= 10)
        deleted = client.delete(f"/v1/videos/{created['id']}")
        assert deleted.json() == {"id": created["id"], "object": "video.deleted", "deleted": True}
        assert client.get(f"/v1/videos/{created['id']}").status_code == 404
        wait_for(client, created["id"], lambda v: not files_of(slow_in_process, created["id"]), 20)


def test_progress_never_goes_down(slow_in_process: Gateway) -> None:
    with slow_in_process.client() as client:
        created = client.post("/v1/videos", json={**CLIP, "duration": 3}).json()
        seen = []
        while True:
            body = client.get(f"/v1/videos/{created['id']}").json()
            seen.append(body["progress"])
            if body["status"] == "completed":
                break
            assert body["progress"] < 100
        assert seen == sorted(seen)
        assert seen[-1] == 100
        assert len(set(seen)) > 3  # real, gradual progress
