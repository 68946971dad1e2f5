"""`vidugate webhooks`, run as the real command on the database (no server): an endpoint
refused for a loopback URL, then added where loopback is allowed, listed, its empty
delivery log read, and removed; the JSON forms are the admin API's."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from gatewaylib import Gateway, cli


def run(env: dict[str, str], *args: str, status: int = 0) -> subprocess.CompletedProcess[str]:
    done = cli(env, *args)
    assert done.returncode == status, (args, done.stdout, done.stderr)
    return done


def test_endpoints_from_the_command_line(tmp_path: Path) -> None:
    env = Gateway(tmp_path / "gw").env
    run(env, "migrate")
    refused = run(env, "webhooks", "add", "tenant_default", "http://127.0.0.1:9/h", status=1)
    assert "private or loopback" in refused.stderr
    allowed = {**env, "VIDUGATE_FETCH_ALLOW_NETWORKS": '["127.0.0.0/8"]'}
    made = json.loads(
        run(
            allowed, "webhooks", "add", "tenant_default", "http://127.0.0.1:9/h",
            "--event", "video.completed", "--description", "ops", "--json",
        ).stdout
    )  # fmt: skip
    assert made["secret"].startswith("whsec_")
    assert made["events"] == ["video.completed"]
    listed = json.loads(run(env, "webhooks", "list", "--json").stdout)
    assert [e["id"] for e in listed] == [made["id"]]
    assert "secret" not in listed[0]
    assert made["id"] in run(env, "webhooks", "list").stdout
    assert json.loads(run(env, "webhooks", "deliveries", made["id"], "--json").stdout) == []
    unknown = run(env, "webhooks", "add", "tenant_nobody", "https://example.com/", status=1)
    assert "tenant_nobody" in unknown.stderr
    run(env, "webhooks", "remove", made["id"])
    assert json.loads(run(env, "webhooks", "list", "--json").stdout) == []
    run(env, "webhooks", "remove", made["id"], status=1)
