"""What a finished task leaves behind, through a real `vidugate serve`: its input images go
as soon as it has finished, and its row (with its Idempotency-Key) is purged by the sweeper
once it finished longer ago than VIDUGATE_TASK_ROW_RETENTION_SECONDS. Time is driven by
writing old timestamps into the row, not by waiting."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import assert_clean_log, image_bytes
from dblib import run_sync
from gatewaylib import Gateway, wait_final
from vidugate.store.db import open_database
from vidugate.store.tasks import TaskRepository
from waiting import wait_until

pytestmark = pytest.mark.slow

DAY = 24 * 3600
FIELDS = {"model": "viduq3-pro", "prompt": "x", "duration": "1", "resolution": "540p"}


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = Gateway(tmp_path_factory.mktemp("retention")).start()
    yield gateway
    gateway.stop()
    assert_clean_log(gateway)


def _folder(gw: Gateway, kind: str, task_id: str) -> Path:
    return gw.data_dir / "media" / kind / task_id


def test_inputs_are_deleted_once_the_task_has_completed(gw: Gateway) -> None:
    with gw.client() as client:
        created = client.post("/v1/videos", data=FIELDS, files={"images": ("a.png", image_bytes())})
        assert created.status_code == 200, created.text
        video_id = created.json()["id"]
        assert (_folder(gw, "inputs", video_id) / "image0").exists()
        assert wait_final(client, video_id)["status"] == "completed"
        wait_until(lambda: not _folder(gw, "inputs", video_id).exists())
        # The video itself is kept (its own retention): only what made it is gone.
        assert client.get(f"/v1/videos/{video_id}/content").status_code == 200


def _age(gw: Gateway, task_id: str, days: float) -> None:
    """Make the task look finished `days` ago, as the row says it."""

    async def write() -> None:
        async with open_database(gw.database_url) as database:
            done = time.time() - days * DAY
            values = {"completed_at": done, "expires_at": done + 7 * DAY}
            assert await TaskRepository(database).update(task_id, values=values) is not None

    run_sync(write())


def test_an_old_finished_row_is_purged_by_the_sweeper(gw: Gateway) -> None:
    body = {"model": "viduq3-pro", "prompt": "old news", "duration": 1, "resolution": "540p"}
    with gw.client() as client:
        ids = []
        for n in range(2):
            created = client.post("/v1/videos", json=body, headers={"Idempotency-Key": f"k{n}"})
            assert created.status_code == 200, created.text
            ids.append(created.json()["id"])
        old_id, recent_id = ids
        replayed = client.post("/v1/videos", json=body, headers={"Idempotency-Key": "k0"})
        assert replayed.json()["id"] == old_id
        for video_id in ids:
            assert wait_final(client, video_id)["status"] == "completed"
    gw.stop()
    _age(gw, old_id, 31)  # past the default 30 days
    _age(gw, recent_id, 29)
    gw.start()  # the sweeper's first sweep runs as it starts
    wait_until(lambda: gw.sql("SELECT count(*) FROM tasks WHERE id = $1", old_id) == [(0,)])
    assert not _folder(gw, "videos", old_id).exists()
    with gw.client() as client:
        assert client.get(f"/v1/videos/{old_id}").status_code == 404
        assert client.get(f"/v1/videos/{recent_id}").json()["status"] == "completed"
        # The Idempotency-Key went with the row: the same request now makes a new video.
        again = client.post("/v1/videos", json=body, headers={"Idempotency-Key": "k0"})
        assert again.status_code == 200, again.text
        assert again.json()["id"] != old_id
