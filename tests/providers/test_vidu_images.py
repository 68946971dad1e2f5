"""Images for Vidu: inline within the body limit (shrunk, shape kept), or by signed link."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path

import pytest
from PIL import Image

from vidugate.providers.vidu.images import data_uri, upstream_images


def noisy_png(path: Path, width: int, height: int) -> Path:
    # Noise does not compress: a big file from a modest size.
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(path)
    return path


def decoded(uri: str) -> Image.Image:
    head, data = uri.split(",", 1)
    assert head.endswith(";base64")
    return Image.open(io.BytesIO(base64.b64decode(data)))


def test_a_small_image_travels_as_it_is(tmp_path: Path) -> None:
    path = noisy_png(tmp_path / "small.png", 64, 48)
    uri = data_uri(path, 1_000_000)
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]) == path.read_bytes()


def test_a_large_image_is_shrunk_to_fit_with_its_shape_kept(tmp_path: Path) -> None:
    path = noisy_png(tmp_path / "big.png", 3000, 1500)  # ~13 MB of PNG
    budget = 2_000_000
    uri = data_uri(path, budget)
    assert len(uri) <= budget
    image = decoded(uri)
    assert image.format == "JPEG"
    assert abs(image.width / image.height - 2.0) < 0.01


@pytest.mark.asyncio
async def test_with_a_public_address_images_go_by_link(tmp_path: Path) -> None:
    paths = (noisy_png(tmp_path / "a.png", 8, 8), noisy_png(tmp_path / "b.png", 8, 8))
    links = await upstream_images("video_1", paths, lambda task, n: f"https://gw/{task}/{n}")
    assert links == ["https://gw/video_1/0", "https://gw/video_1/1"]
    inline = await upstream_images("video_1", paths, None)
    assert all(item.startswith("data:image/png;base64,") for item in inline)
