"""The data dir holds every tenant's prompts, images and videos: `vidugate serve` keeps it to
its owner (directories 0700, files 0600), and tightens one an older version left open."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gatewaylib import Gateway, wait_final

pytestmark = pytest.mark.process


class OwnSecretGateway(Gateway):
    """A gateway that makes its own signing secret (the shared one is given by variable)."""

    @property
    def env(self) -> dict[str, str]:
        env = super().env
        del env["VIDUGATE_SECRET"]
        return env


def modes(root: Path) -> dict[str, int]:
    """Every entry under root (the test harness's own serve logs aside) and the mode it
    should have had when seen, or its mode when that differs (read together: an entry may
    be gone by the time the test looks, e.g. a finished task's inputs)."""
    found = {}
    for path in [root, *root.rglob("*")]:
        if path.parent == root and path.name.startswith("serve-"):
            continue
        try:
            info = path.lstat()
        except FileNotFoundError:  # removed while walking
            continue
        mode = stat.S_IMODE(info.st_mode)
        wanted = 0o700 if stat.S_ISDIR(info.st_mode) else 0o600
        found[str(path.relative_to(root)) if path != root else "."] = 0 if mode == wanted else mode
    return found


def test_a_task_end_to_end_leaves_nothing_readable_by_others(
    tmp_path: Path, png_path: Path
) -> None:
    data = tmp_path / "data"
    # As an older version (or a umask of 022) left it: open to every local user.
    (data / "media" / "old").mkdir(parents=True)
    for path in (data, data / "media", data / "media" / "old"):
        path.chmod(0o755)
    old_video = data / "media" / "old" / "video.mp4"
    old_video.write_bytes(b"an older video")
    old_video.chmod(0o644)
    gw = OwnSecretGateway(data).start()
    try:
        with gw.client() as client:
            with png_path.open("rb") as image:
                response = client.post(
                    "/v1/videos",
                    data={"model": "viduq2-turbo", "prompt": "private", "duration": "1",
                          "resolution": "540p"},
                    files={"images": ("in.png", image, "image/png")},
                )  # fmt: skip
            assert response.status_code == 200, response.text
            video = wait_final(client, response.json()["id"])
            assert video["status"] == "completed", video
            assert client.get(f"/v1/videos/{video['id']}/content").status_code == 200
        found = modes(data)
    finally:
        gw.stop()
    assert (data / "secret").is_file()
    if gw.database_url.startswith("sqlite"):  # on PostgreSQL the database is elsewhere
        assert {"vidugate.db", "vidugate.db-wal", "vidugate.db-shm"} <= found.keys(), found
    assert any(name.endswith("video.mp4") and "old" not in name for name in found), found
    loose = {name: oct(mode) for name, mode in found.items() if mode}
    assert not loose, f"open to others: {loose}"


def test_the_database_of_a_sqlite_url_outside_the_data_dir_is_private(tmp_path: Path) -> None:
    database = tmp_path / "elsewhere" / "gateway.db"
    gw = Gateway(tmp_path / "data", database_url=f"sqlite+aiosqlite:///{database}").start()
    try:
        with gw.client() as client:
            assert client.get("/v1/videos").status_code == 200
        files = [p for p in database.parent.iterdir() if p.name.startswith(database.name)]
        assert database in files
        assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {
            p.name: oct(0o600) for p in files
        }
        assert stat.S_IMODE(database.parent.stat().st_mode) == 0o700
    finally:
        gw.stop()
    assert os.access(database, os.R_OK)  # still the owner's
