"""A gateway on the `vidu` provider, pointed at a real emulator on loopback: in the test
process, or as a real `vidugate serve` (`kind=Gateway`) for a test that kills it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from emulatorlib import KEY_A, KEY_B, RunningEmulator, fast_config, run_emulator

from gatewaylib import Gateway, free_port
from inprocess import InProcessGateway
from vidugate.emulator import EmulatorConfig
from waiting import wait_until


def accounts_json(
    emulator: RunningEmulator,
    keys: dict[str, str],
    weights: dict[str, float] | None = None,
    concurrency: int = 5,
) -> str:
    return json.dumps(
        [
            {
                "id": name,
                "api_key": key,
                "base_url": emulator.base_url,
                "weight": (weights or {}).get(name, 1.0),
                "concurrency": concurrency,
            }
            for name, key in keys.items()
        ]
    )


@contextmanager
def vidu_gateway(
    tmp_path: Path,
    *,
    config: EmulatorConfig | None = None,
    keys: dict[str, str] | None = None,
    weights: dict[str, float] | None = None,
    settings: dict[str, str] | None = None,
    port: int | None = None,
    kind: type[Gateway] = InProcessGateway,
) -> Iterator[tuple[Gateway, RunningEmulator]]:
    with run_emulator(config or fast_config(result_mode="render")) as emulator:
        gateway = kind(
            tmp_path / "gw",
            port=port or free_port(),
            settings={
                "VIDUGATE_PROVIDER": "vidu",
                "VIDUGATE_VIDU_ACCOUNTS": accounts_json(emulator, keys or {"a": KEY_A}, weights),
                "VIDUGATE_VIDU_POLL_SECONDS": "0.2",
                "VIDUGATE_VIDU_LOOKUP_GRACE_SECONDS": "1",
                "VIDUGATE_VIDU_TIMEOUT_SECONDS": "10",
                **(settings or {}),
            },
        ).start()
        try:
            yield gateway, emulator
        finally:
            gateway.stop()


def upstream_tasks(emulator: RunningEmulator) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = emulator.admin("GET", "/tasks")["tasks"]
    return tasks


def upstream_of(emulator: RunningEmulator, video_id: str) -> list[dict[str, Any]]:
    """Every upstream task made for one gateway task (found by the gateway's marker)."""
    return [t for t in upstream_tasks(emulator) if t["payload"] == f"vidugate:{video_id}"]


__all__ = ["KEY_A", "KEY_B", "upstream_of", "upstream_tasks", "vidu_gateway", "wait_until"]
