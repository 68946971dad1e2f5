"""The data dir is its owner's alone.

It holds every tenant's prompts (in the database), input images and videos, and the signing
secret. So `vidugate serve` (and every command that opens the data) sets the process's
umask to 077 before it creates anything: whatever it and its children create there (the
database and its -wal/-shm, media, work and render dirs, stored results and inputs) is
0700 for directories and 0600 for files. A data dir made by an earlier version, or by hand,
is tightened at start: the dir itself always (cheap), and the gateway's own entries in it
once, when the dir was open to others (a walk of every stored file, not made at each start).
Only the gateway's own entries: a data dir may be a directory that holds other things."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600
OWN_ENTRIES = ("media", "work", "secret")
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def use_private_umask() -> None:
    """From here on, files and directories this process (and its children) creates are
    readable by their owner only."""
    os.umask(PRIVATE_UMASK)


def make_private(data_dir: Path, sqlite_file: Path | None = None) -> None:
    """Create data_dir (0700) or tighten it and the gateway's entries in it; sqlite_file is
    the database file when it is SQLite (it may live outside data_dir)."""
    data_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    was = stat.S_IMODE(data_dir.stat().st_mode)
    if was != DIR_MODE:
        os.chmod(data_dir, DIR_MODE)
    walk = bool(was & 0o077)
    for name in OWN_ENTRIES:
        _tighten(data_dir / name, walk=walk)
    if sqlite_file is not None:
        for suffix in SQLITE_SUFFIXES:
            _tighten(sqlite_file.with_name(sqlite_file.name + suffix), walk=False)


def _tighten(path: Path, *, walk: bool) -> None:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        return  # a link's target is not ours to change
    if not stat.S_ISDIR(info.st_mode):
        _chmod(path, info.st_mode, FILE_MODE)
        return
    _chmod(path, info.st_mode, DIR_MODE)
    if not walk:
        return
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            child = Path(root, name)
            with contextlib.suppress(FileNotFoundError):  # a file removed meanwhile
                mode = child.lstat().st_mode
                if not stat.S_ISLNK(mode):
                    _chmod(child, mode, DIR_MODE if stat.S_ISDIR(mode) else FILE_MODE)


def _chmod(path: Path, mode: int, wanted: int) -> None:
    if stat.S_IMODE(mode) != wanted:
        os.chmod(path, wanted)
