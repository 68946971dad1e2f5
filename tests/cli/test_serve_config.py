"""`vidugate serve` checks the whole configuration before it creates anything: a setting that
cannot work is one line on stderr and a non-zero exit, with no data dir, database, secret
or key made. Run as a user runs it, as a process, on a fresh data dir each time."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gatewaylib import free_port

pytestmark = pytest.mark.process


def serve(tmp_path: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDUGATE_")}
    env["VIDUGATE_DATA_DIR"] = str(tmp_path / "data")
    env["VIDUGATE_PORT"] = str(free_port())
    env.update({f"VIDUGATE_{name.upper()}": value for name, value in settings.items()})
    return subprocess.run(
        [sys.executable, "-m", "vidugate", "serve"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_refused(result: subprocess.CompletedProcess[str], *words: str, code: int = 2) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr  # one line: no traceback, no banner
    assert lines[0].startswith("vidugate: "), lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    assert result.returncode == code, (result.returncode, lines[0])
    assert result.stdout == ""  # no key
    return lines[0]


def test_vidu_without_an_account_is_refused_before_anything_is_made(tmp_path: Path) -> None:
    result = serve(tmp_path, provider="vidu")
    assert_refused(result, "VIDUGATE_PROVIDER=vidu", "VIDUGATE_VIDU_API_KEY")
    assert not (tmp_path / "data").exists()  # no database, secret or key


BAD_SETTINGS = {
    "unknown provider": ({"provider": "nope"}, ["VIDUGATE_PROVIDER", "sandbox, vidu"]),
    "not a database URL": ({"database_url": "not a url"}, ["VIDUGATE_DATABASE_URL"]),
    "unsupported driver": (
        {"database_url": "mysql://root@127.0.0.1/db"},
        ["VIDUGATE_DATABASE_URL", "'mysql'", "sqlite+aiosqlite"],
    ),
    "synchronous driver": ({"database_url": "sqlite:///x.db"}, ["'sqlite'"]),
    "port not a number": ({"port": "eighty"}, ["VIDUGATE_PORT", "'eighty'"]),
    "port out of range": ({"port": "70000"}, ["VIDUGATE_PORT"]),
    "role not a role": ({"role": "boss"}, ["VIDUGATE_ROLE", "'boss'"]),
    "accounts not JSON": ({"vidu_accounts": "[{"}, ["VIDUGATE_VIDU_ACCOUNTS", "JSON"]),
    "account without a key": (
        {"provider": "vidu", "vidu_accounts": '[{"id": "a"}]'},
        ["VIDUGATE_VIDU_ACCOUNTS[0].api_key", "required"],
    ),
    "account base URL": (
        {"provider": "vidu", "vidu_api_key": "k", "vidu_base_url": "api.vidu.com"},
        ["base_url", "'api.vidu.com'"],
    ),
    "public base URL": ({"public_base_url": "gateway:8000"}, ["VIDUGATE_PUBLIC_BASE_URL"]),
}


@pytest.mark.parametrize("case", list(BAD_SETTINGS))
def test_a_setting_that_cannot_work_is_one_line(tmp_path: Path, case: str) -> None:
    settings, words = BAD_SETTINGS[case]
    assert_refused(serve(tmp_path, **settings), *words)
    assert not (tmp_path / "data").exists()


def test_secrets_are_not_echoed(tmp_path: Path) -> None:
    # A database URL with a password, refused: the password is not in the message.
    line = assert_refused(serve(tmp_path, database_url="mysql://root:hunter2@db/x"))
    assert "hunter2" not in line


def test_an_accounts_file_that_cannot_be_used(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    line = assert_refused(serve(tmp_path, provider="vidu", vidu_accounts_file=str(missing)))
    assert "VIDUGATE_VIDU_ACCOUNTS_FILE" in line
    assert "No such file" in line
    # A directory where the file should be (unreadable as a file, whoever runs the test).
    line = assert_refused(serve(tmp_path, vidu_accounts_file=str(tmp_path)))
    assert "cannot read" in line
    broken = tmp_path / "accounts.toml"
    broken.write_text("[[accounts]\nid = ")
    assert "TOML" in assert_refused(serve(tmp_path, vidu_accounts_file=str(broken)))
    keyless = tmp_path / "accounts.json"
    keyless.write_text(json.dumps({"accounts": [{"id": "a"}]}))
    line = assert_refused(serve(tmp_path, provider="vidu", vidu_accounts_file=str(keyless)))
    assert "api_key" in line
    twice = tmp_path / "twice.json"
    twice.write_text(json.dumps([{"id": "a", "api_key": "x"}, {"id": "a", "api_key": "y"}]))
    assert "twice" in assert_refused(serve(tmp_path, vidu_accounts_file=str(twice)))
    assert not (tmp_path / "data").exists()


def test_a_data_dir_that_cannot_be_made(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    line = assert_refused(serve(tmp_path, data_dir=str(blocker / "data")))
    assert "VIDUGATE_DATA_DIR" in line
    assert "not a directory" in line


def test_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        assert_refused(serve(tmp_path, port=port), "VIDUGATE_PORT", port)
    assert not (tmp_path / "data").exists()


def test_a_database_that_cannot_be_reached_is_one_line_and_no_key(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://postgres:hunter2@127.0.0.1:{free_port()}/vidugate"
    line = assert_refused(serve(tmp_path, database_url=url), "cannot open the database", code=1)
    assert "hunter2" not in line
    assert not (tmp_path / "data" / "secret").exists()
