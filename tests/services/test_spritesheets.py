"""A completed task's spritesheet is made when first asked for (services/content.py): once
for any number of concurrent askers, stored at the key the completion named, and reported
missing (404) for a video that cannot be decoded into one."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path

import pytest

from lifelib import a_task
from spritelib import assert_tiles_show_frames, open_sheet
from vidugate.domain.tasks import TaskStatus, VideoTask
from vidugate.errors import NotFoundError
from vidugate.files.local import LocalFileStore
from vidugate.media.render import render_video
from vidugate.media.spec import RenderSpec
from vidugate.services.content import Spritesheets, Variant, locate

pytestmark = pytest.mark.asyncio

PREFIX = "videos/t/attempt"


class CountingStore(LocalFileStore):
    """The real local store, counting what is put into it."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.puts: list[str] = []

    async def put_file(self, key: str, source: Path) -> int:
        self.puts.append(key)
        return await super().put_file(key, source)


def completed(video_key: str) -> VideoTask:
    now = time.time()
    return dataclasses.replace(
        a_task(now),
        status=TaskStatus.COMPLETED,
        completed_at=now,
        expires_at=now + 3600,
        video_key=video_key,
        spritesheet_key=f"{PREFIX}/spritesheet.jpg",
    )


@pytest.fixture
def store(tmp_path: Path) -> CountingStore:
    return CountingStore(tmp_path / "media")


async def test_made_once_for_every_concurrent_asker_then_read(
    store: CountingStore, tmp_path: Path
) -> None:
    video = tmp_path / "video.mp4"
    spec = RenderSpec(width=320, height=180, duration=1, prompt="x", seed=1, audio=False, bgm=False)
    await asyncio.to_thread(render_video, spec, video, tmp_path / "cover.jpg")
    await store.put_file(f"{PREFIX}/video.mp4", video)
    task = completed(f"{PREFIX}/video.mp4")
    sheets = Spritesheets(store, tmp_path / "work")
    assert await store.size(f"{PREFIX}/spritesheet.jpg") is None  # not made at completion
    now = time.time()
    found = await asyncio.gather(
        *(locate(store, task, Variant.SPRITESHEET, now=now, sheets=sheets) for _ in range(5))
    )
    assert {f.key for f in found} == {f"{PREFIX}/spritesheet.jpg"}
    assert store.puts.count(f"{PREFIX}/spritesheet.jpg") == 1
    again = await locate(store, task, Variant.SPRITESHEET, now=now, sheets=sheets)
    assert again.size == found[0].size
    assert store.puts.count(f"{PREFIX}/spritesheet.jpg") == 1  # the stored one, read
    jpeg = b"".join([c async for c in store.read_range(again.key, 0, again.size - 1)])
    assert open_sheet(jpeg).image.size == (1280, 720)
    assert_tiles_show_frames(jpeg, await store.materialize(f"{PREFIX}/video.mp4"))
    assert list((tmp_path / "work" / "spritesheets").iterdir()) == []  # no scratch left


async def test_a_video_that_cannot_be_decoded_has_none(
    store: CountingStore, tmp_path: Path
) -> None:
    broken = tmp_path / "video.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    await store.put_file(f"{PREFIX}/video.mp4", broken)
    task = completed(f"{PREFIX}/video.mp4")
    sheets = Spritesheets(store, tmp_path / "work")
    with pytest.raises(NotFoundError, match="could not be decoded"):
        await locate(store, task, Variant.SPRITESHEET, now=time.time(), sheets=sheets)
    assert await store.size(f"{PREFIX}/spritesheet.jpg") is None
