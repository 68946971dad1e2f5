"""variant=spritesheet over real HTTP on the sandbox: the official SDK's download_content,
the signed link and Range, and the answers before completion, after a delete, after
expiry and for a task stored before spritesheets were made."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai import OpenAI

from conftest import assert_clean_log
from dblib import run_sync, write_row
from gatewaylib import Gateway, wait_final, wait_for
from inprocess import InProcessGateway
from spritelib import assert_tiles_show_frames, open_sheet
from waiting import wait_until

pytestmark = pytest.mark.slow

# pace 1: a 4 s clip renders for 4 s, long enough to ask for its spritesheet meanwhile.
SETTINGS = {"VIDUGATE_SANDBOX_PACE": "1"}
CLIP = {"model": "viduq2-turbo", "prompt": "a red kite", "duration": 1, "resolution": "540p"}


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = InProcessGateway(tmp_path_factory.mktemp("spritesheet"), settings=SETTINGS).start()
    yield gateway
    gateway.stop()
    assert_clean_log(gateway)


def sheet_files(gw: Gateway, video_id: str) -> list[Path]:
    return list((gw.data_dir / "media" / "videos" / video_id).rglob("spritesheet.jpg"))


def finished(gw: Gateway, key: str) -> dict[str, Any]:
    with gw.client(key) as client:
        created = client.post("/v1/videos", json=CLIP)
        assert created.status_code == 200, created.text
        done = wait_final(client, created.json()["id"])
    assert done["status"] == "completed", done
    return done


def test_the_sdk_downloads_a_grid_of_the_videos_frames(gw: Gateway, tmp_path: Path) -> None:
    sdk = OpenAI(base_url=f"{gw.base_url}/v1", api_key=gw.key, max_retries=0)
    video = sdk.videos.create_and_poll(
        model="viduq3-pro",
        prompt="A lighthouse at dusk",
        seconds="2",  # type: ignore[arg-type]  # the SDK types Sora's durations only
        size="1280x720",
        poll_interval_ms=200,
    )
    assert video.status == "completed"
    sheet = sdk.videos.download_content(video.id, variant="spritesheet").read()
    mp4 = sdk.videos.download_content(video.id).read()
    # 25 tiles of 256x144 (16:9 at a short side of 144), 5 by 5.
    image = open_sheet(sheet)
    assert image.image.size == (1280, 720)
    assert (image.tile_width, image.tile_height) == (256, 144)
    assert_tiles_show_frames(sheet, mp4)
    image.image.save(tmp_path / "spritesheet.png")  # to look at (pytest keeps its tmp dirs)

    # The same file by the signed link in the video object, no key needed, with Range.
    link = (video.model_extra or {})["spritesheet_url"]
    assert "variant=spritesheet" in link
    whole = httpx.get(link)
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "image/jpeg"
    assert "_spritesheet.jpg" in whole.headers.get("content-disposition", "")
    assert whole.content == sheet
    part = httpx.get(link, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(sheet)}"
    assert part.content == sheet[100:200]
    # A link signed for the spritesheet opens nothing else.
    other = httpx.get(link.replace("variant=spritesheet", "variant=video"))
    assert other.status_code == 403


def test_not_ready_until_the_video_is_completed(gw: Gateway) -> None:
    with gw.client() as client:
        created = client.post("/v1/videos", json={**CLIP, "duration": 4}).json()
        running = wait_for(client, created["id"], lambda v: v["progress"] >= 10)
        assert running["status"] == "processing"
        assert running["spritesheet_url"] is None
        early = client.get(f"/v1/videos/{created['id']}/content?variant=spritesheet")
        assert early.status_code == 409
        assert early.json()["error"]["code"] == "video_not_ready"
        done = wait_final(client, created["id"])
        assert done["status"] == "completed"
        assert done["spritesheet_url"] is not None
        late = client.get(f"/v1/videos/{created['id']}/content?variant=spritesheet")
        assert late.status_code == 200
        assert late.headers["content-type"] == "image/jpeg"
        assert open_sheet(late.content).image.size == (1280, 720)  # 960x540 is 16:9 too


def test_a_deleted_videos_spritesheet_is_gone(gw: Gateway) -> None:
    done = finished(gw, gw.key)
    assert sheet_files(gw, done["id"]) == []  # made when first asked for
    assert httpx.get(done["spritesheet_url"]).status_code == 200
    assert len(sheet_files(gw, done["id"])) == 1
    sdk = OpenAI(base_url=f"{gw.base_url}/v1", api_key=gw.key, max_retries=0)
    assert sdk.videos.delete(done["id"]).deleted is True
    assert sheet_files(gw, done["id"]) == []
    with gw.client() as client:
        gone = client.get(f"/v1/videos/{done['id']}/content?variant=spritesheet")
        assert gone.status_code == 404
    # Its signed link, still within its lifetime, opens nothing either.
    assert httpx.get(done["spritesheet_url"]).status_code == 404


def _rewrite(gw: Gateway, task_id: str, values: dict[str, Any]) -> None:
    assert run_sync(write_row(gw.database_url, "tasks", task_id, values)) == 1


def test_older_tasks_and_expired_ones(gw: Gateway) -> None:
    older, expiring = finished(gw, gw.key), finished(gw, gw.key)
    gw.stop()
    # As a task stored before this version left it: no spritesheet, in the row or on disk.
    _rewrite(gw, older["id"], {"spritesheet_key": None})
    for path in sheet_files(gw, older["id"]):
        path.unlink()
    _rewrite(gw, expiring["id"], {"expires_at": time.time() - 1})
    gw.start()  # the sweeper's first sweep runs as it starts
    with gw.client() as client:
        body = client.get(f"/v1/videos/{older['id']}").json()
        assert body["spritesheet_url"] is None
        assert body["video_url"] is not None
        missing = client.get(f"/v1/videos/{older['id']}/content?variant=spritesheet")
        assert missing.status_code == 404
        error = missing.json()["error"]
        assert error["param"] == "variant"
        assert "before this gateway made spritesheets" in error["message"]
        assert client.get(f"/v1/videos/{older['id']}/content").status_code == 200

        wait_until(lambda: sheet_files(gw, expiring["id"]) == [], what="the sweep")
        expired = client.get(f"/v1/videos/{expiring['id']}/content?variant=spritesheet")
        assert expired.status_code == 410
        assert expired.json()["error"]["code"] == "expired"


def test_an_unknown_variant_lists_spritesheet(gw: Gateway) -> None:
    with gw.client() as client:
        done = finished(gw, gw.key)
        answer = client.get(f"/v1/videos/{done['id']}/content?variant=sprites")
    assert answer.status_code == 400
    assert "spritesheet" in answer.json()["error"]["message"]
