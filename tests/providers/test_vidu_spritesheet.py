"""variant=spritesheet for a task the Vidu provider made (the emulator renders real MP4s):
the sheet is made from the copy the gateway stored, the watermarked one when a watermark
was asked (the video a client gets by default)."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest
from openai import OpenAI
from PIL import Image
from vidulib import vidu_gateway

from spritelib import TILES, assert_tiles_show_frames, frames_at_tile_times, open_sheet

pytestmark = pytest.mark.slow


def corner_difference(tile: Image.Image, frame: Image.Image) -> float:
    """Mean difference in the bottom-right corner, where the text mark is drawn."""
    scaled = frame.resize(tile.size, Image.Resampling.BOX)
    w, h = tile.size
    box = (w * 4 // 5, h * 7 // 8, w, h)
    a = np.asarray(tile.crop(box), dtype=np.float64)
    b = np.asarray(scaled.crop(box), dtype=np.float64)
    return float(np.abs(a - b).mean())


def test_a_vidu_result_has_a_spritesheet_of_its_watermarked_copy(tmp_path: Path) -> None:
    with vidu_gateway(tmp_path) as (gateway, _emulator):
        sdk = OpenAI(base_url=f"{gateway.base_url}/v1", api_key=gateway.key, max_retries=0)
        video = sdk.videos.create_and_poll(
            model="viduq3-pro",
            prompt="A harbour at night",
            seconds="2",  # type: ignore[arg-type]  # the SDK types Sora's durations only
            size="1280x720",
            extra_body={"watermark": True, "audio": False},
            poll_interval_ms=200,
        )
        assert video.status == "completed", video
        sheet = sdk.videos.download_content(video.id, variant="spritesheet").read()
        marked = sdk.videos.download_content(video.id).read()
        plain = sdk.videos.download_content(video.id, variant="original").read()  # type: ignore[arg-type]
        link = (video.model_extra or {})["spritesheet_url"]
        assert httpx.get(link).content == sheet
    assert marked != plain
    image = open_sheet(sheet)
    assert image.image.size == (1280, 720)
    assert_tiles_show_frames(sheet, marked)
    image.image.save(tmp_path / "vidu-spritesheet.png")
    # Where the mark is, every tile is nearer the marked frame than the plain one.
    marked_frames = frames_at_tile_times(marked)
    plain_frames = frames_at_tile_times(plain)
    for i in range(TILES):
        tile = image.tile(i)
        near, far = (
            corner_difference(tile, marked_frames[i]),
            corner_difference(tile, plain_frames[i]),
        )
        assert 2 * near < far, (i, near, far)
