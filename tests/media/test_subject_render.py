"""The sandbox's subjects video, rendered in process and checked by decoding it: every
subject's images are in every frame, each in its own labelled panel, and the turn frame
visits the panels in order."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from vidugate.media.render import render_video
from vidugate.media.spec import RenderSpec, SubjectPanel
from vidugate.media.subjects import Box, grid

pytestmark = pytest.mark.slow

U8 = npt.NDArray[np.uint8]
SEVEN = [(230, 30, 30), (30, 200, 60), (40, 60, 230), (30, 200, 220), (220, 40, 220),
         (250, 140, 20), (120, 40, 200)]  # fmt: skip
TURN = (255, 214, 64)


def near(frame: U8, colour: tuple[int, int, int], within: int = 60) -> npt.NDArray[np.bool_]:
    distance = np.abs(frame.astype(np.int16) - np.array(colour, dtype=np.int16)).sum(axis=2)
    return np.asarray(distance < within)


@pytest.mark.parametrize(("width", "height"), [(640, 360), (360, 640), (360, 360)])
def test_seven_subjects_each_in_its_panel_in_every_frame(
    tmp_path: Path, width: int, height: int
) -> None:
    panels = []
    for index, colour in enumerate(SEVEN):
        path = tmp_path / f"{index}.png"
        Image.new("RGB", (200 + 40 * index, 200), colour).save(path)
        panels.append(SubjectPanel(f"subject_{index}_with_a_rather_long_id", (path,)))
    spec = RenderSpec(
        width=width, height=height, duration=1, prompt="seven", seed=3, audio=False, bgm=False,
        subjects=tuple(panels),
    )  # fmt: skip
    render_video(spec, tmp_path / "v.mp4", tmp_path / "v.jpg")
    with av.open(str(tmp_path / "v.mp4")) as container:
        frames = [
            np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
            for frame in container.decode(video=0)
        ]
    assert len(frames) == 24
    boxes = grid(7, width, height)
    for index in (0, 11, 23):
        frame = frames[index]
        turn = min(6, index * 7 // 24)
        for number, (colour, box) in enumerate(zip(SEVEN, boxes, strict=True)):
            inside = frame[box.y : box.y + box.height, box.x : box.x + box.width]
            assert near(inside, colour).mean() > 0.05, (index, number)
            # ... and nowhere else (but for a blended pixel on an edge).
            outside = near(frame, colour, 30).sum() - near(inside, colour, 30).sum()
            assert outside <= 0.01 * near(inside, colour, 30).sum(), (index, number)
            edge = inside[:2].reshape(-1, 3)[None]
            assert bool(near(edge, TURN, 40).mean() > 0.5) is (number == turn), (index, number)
            # The label band: black with white text.
            band = inside[box.height // 30 + 3 : box.height // 30 + 12]
            assert near(band, (255, 255, 255)).any(), (index, number)


def test_the_grid_fills_the_frame_with_panels_as_large_as_can_be() -> None:
    assert grid(1, 640, 360) == [Box(0, 0, 640, 360)]
    assert [(b.width, b.height) for b in grid(3, 960, 540)] == [(320, 540)] * 3
    assert [(b.width, b.height) for b in grid(2, 360, 640)] == [(360, 320)] * 2
    for count in range(1, 8):
        for width, height in ((640, 360), (360, 640), (1080, 1080)):
            boxes = grid(count, width, height)
            area = sum(b.width * b.height for b in boxes)
            assert len(boxes) == count
            assert all(b.x + b.width <= width and b.y + b.height <= height for b in boxes)
            # At most one row short of full: no panel is wasted on an empty row.
            assert area >= width * height * (count / (count + 2)), (count, width, height)
