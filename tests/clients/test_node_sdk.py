"""The official openai Node SDK (npm `openai`, pinned in node/package.json and its lock file)
against a real gateway: node/sdk_check.mjs creates (multipart), loops on retrieve to
completed, downloads, pages the list, sends input_reference through toFile, deletes, and
meets an unsupported call. ./scripts/check installs it (`npm ci --prefix tests/clients/node`);
without node or the package, the test skips on a workstation and fails on CI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clientslib import paced_gateway

from gatewaylib import Gateway, assert_video

NODE_DIR = Path(__file__).parent / "node"
INSTALL = "npm ci --prefix tests/clients/node"


def node_problem() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed (Node.js 20 or newer, with npm, runs tests/clients/node)"
    if not (NODE_DIR / "node_modules" / "openai" / "package.json").is_file():
        return f"the Node SDK is not installed: run `{INSTALL}` (./scripts/check does)"
    return None


@pytest.fixture(scope="module")
def node() -> str:
    problem = node_problem()
    if problem is not None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI must run the Node SDK test: {problem}")
        pytest.skip(problem)
    path = shutil.which("node")
    assert path is not None
    return path


@pytest.fixture(scope="module")
def gateway(node: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with paced_gateway(tmp_path_factory.mktemp("node-clients")) as gw:
        yield gw


def test_node_sdk(node: str, gateway: Gateway, png_path: Path, tmp_path: Path) -> None:
    installed = json.loads((NODE_DIR / "node_modules" / "openai" / "package.json").read_text())
    pinned = json.loads((NODE_DIR / "package.json").read_text())["dependencies"]["openai"]
    assert installed["version"] == pinned, f"run `{INSTALL}`: the lock file pins {pinned}"
    env = {
        **os.environ,
        "VIDUGATE_BASE_URL": gateway.base_url,
        "VIDUGATE_API_KEY": gateway.new_key("node"),
        "IMAGE": str(png_path),
        "OUT": str(tmp_path),
    }
    run = subprocess.run(
        [node, str(NODE_DIR / "sdk_check.mjs")],
        cwd=NODE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])

    created, text = result["created"], result["text"]
    assert created["status"] == "queued"
    assert (text["status"], text["size"], text["seconds"]) == ("completed", "960x540", "1")
    # Met while being made, in the words its type declares (queued | in_progress | ...).
    assert "in_progress" in text["seen"], text
    assert set(text["seen"]) <= {"queued", "in_progress", "completed"}, text
    assert text["file"]["ftyp"] == "ftyp"
    assert text["file"]["contentType"] == "video/mp4"
    mp4 = Path(text["file"]["path"]).read_bytes()
    assert_video(mp4, width=960, height=540, seconds=1, audio=False)

    image = result["image"]
    assert image["status"] == "completed", image
    assert image["size"] == "720x540"  # the 320x240 png's 4:3, at the 540p asked for
    assert_video(
        Path(image["file"]["path"]).read_bytes(), width=720, height=540, seconds=1, audio=False
    )

    newest_first = [result["withImage"]["id"], created["id"]]
    pages = result["pages"]
    assert pages["first"] == newest_first[:1]
    assert pages["firstHasMore"] is True
    assert pages["second"] == newest_first[1:]
    assert pages["every"] == newest_first

    remix = result["remix"]
    assert remix["name"] == "BadRequestError"
    assert remix["status"] == 400
    assert "(remix) is not supported by this gateway" in remix["message"]

    assert result["deleted"] == {"id": created["id"], "object": "video.deleted", "deleted": True}
    assert result["afterDelete"]["name"] == "NotFoundError"
