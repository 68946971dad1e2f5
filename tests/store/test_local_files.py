"""Local file-store keys cannot leave the store's root."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidugate.files.local import LocalFileStore


@pytest.mark.parametrize(
    "key", ["../x", "a/../../x", "/etc/passwd", "a//b", "a/./b", "", "a\\\\b", "x\\x00y"]
)
def test_keys_that_could_escape_are_refused(tmp_path: Path, key: str) -> None:
    files = LocalFileStore(tmp_path)
    with pytest.raises(ValueError, match="not a file-store key"):
        files._path(key)


@pytest.mark.asyncio
async def test_put_read_and_delete(tmp_path: Path) -> None:
    files = LocalFileStore(tmp_path / "root")
    source = tmp_path / "file"
    source.write_bytes(b"0123456789")
    assert await files.put_file("videos/t/video.mp4", source) == 10
    assert not source.exists()
    chunks = [c async for c in files.read_range("videos/t/video.mp4", 2, 5)]
    assert b"".join(chunks) == b"2345"
    await files.delete_prefix("videos/t")
    assert await files.size("videos/t/video.mp4") is None
