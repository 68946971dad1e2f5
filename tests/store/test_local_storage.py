"""Local storage keys cannot leave the storage root."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidugate.storage.local import LocalStorage


@pytest.mark.parametrize(
    "key", ["../x", "a/../../x", "/etc/passwd", "a//b", "a/./b", "", "a\\\\b", "x\\x00y"]
)
def test_keys_that_could_escape_are_refused(tmp_path: Path, key: str) -> None:
    storage = LocalStorage(tmp_path)
    with pytest.raises(ValueError, match="not a storage key"):
        storage._path(key)


@pytest.mark.asyncio
async def test_put_read_and_delete(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "root")
    source = tmp_path / "file"
    source.write_bytes(b"0123456789")
    assert await storage.put_file("videos/t/video.mp4", source) == 10
    assert not source.exists()
    chunks = [c async for c in storage.read_range("videos/t/video.mp4", 2, 5)]
    assert b"".join(chunks) == b"2345"
    await storage.delete_prefix("videos/t")
    assert await storage.size("videos/t/video.mp4") is None
