"""A PostgreSQL server of the test's own (initdb into a temporary directory, its own
port), so a test can stop and start the database under a running gateway without touching
the machine's shared server."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gatewaylib import free_port


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _as_postgres(*cmd: str) -> list[str]:
    # The server refuses to run as root; CI and sessions here run as root.
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else list(cmd)


@dataclass
class PrivateServer:
    directory: Path
    port: int
    bindir: Path

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/vidugate"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres(str(self.bindir / "pg_ctl"), "-D", str(self.directory / "data"), *args),
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        self._ctl("-o", options, "-l", str(self.directory / "server.log"), "-w", "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already down
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def private_server() -> PrivateServer | None:
    """A fresh, started server; None where PostgreSQL's programs are not installed."""
    bindir = _bindir()
    if bindir is None:
        return None
    directory = Path(tempfile.mkdtemp(prefix="vidugate-pg-"))
    os.chmod(directory, 0o755)
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    subprocess.run(
        _as_postgres(
            str(bindir / "initdb"), "-D", str(directory / "data"), "-U", "postgres", "-A", "trust"
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
    server = PrivateServer(directory, free_port(), bindir)
    server.start()
    return server
