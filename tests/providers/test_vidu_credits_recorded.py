"""What the upstream charged, recorded: Vidu's `credits` from the create answer (and from a
create found again after its answer was lost) on the task when it is submitted, the final
status's figure when it completes, and each account's remaining credits as read from
`GET /ent/v2/credits` in `upstream_accounts`. Exact decimals throughout; an answer whose
credits are garbage records nothing and breaks nothing. Against the emulator over real
HTTP, on the run's backend (VIDUGATE_TEST_BACKEND)."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from emulatorlib import fast_config
from vidulib import KEY_A, upstream_of, vidu_gateway, wait_until

from dblib import fresh_database_url
from gatewaylib import Gateway, wait_final
from vidugate.domain.accounts import AccountHealth, AccountState
from vidugate.domain.transitions import Completed, Failed, Submitted
from vidugate.emulator.catalog import price
from vidugate.providers.base import JobState
from vidugate.providers.vidu.credits import exact_remaining_credits
from vidugate.providers.vidu.mapping import job_status, parse_credits
from vidugate.store.accounts import AccountRepository
from vidugate.store.db import open_database

# Copied from ../shared/spec/vidu-upstream.md ("Create response", "Task status").
DOC_CREATE = """
{"task_id": "8271384765432", "state": "created", "model": "viduq3-pro",
 "prompt": "...", "images": [], "duration": 5, "seed": 1234567,
 "aspect_ratio": "16:9", "resolution": "720p", "movement_amplitude": "auto",
 "payload": "", "off_peak": false, "credits": 20,
 "created_at": "2026-01-01T15:41:31.968916Z"}
"""
DOC_STATUS = """
{"id": "8271384765432", "state": "success", "err_code": "", "credits": 20,
 "payload": "", "bgm": false, "off_peak": false,
 "creations": [{"id": "...", "url": "https://...mp4", "cover_url": "https://...jpg",
                "watermarked_url": "https://...mp4"}]}
"""
# The documented example's task: viduq3-pro, 5 s, 720p, 20 credits (the emulator's table
# is chosen so that it costs the same).
DOC_TASK = {"model": "viduq3-pro", "prompt": "a kite", "duration": 5, "resolution": "720p"}
MICROS = 1_000_000


def test_vidus_documented_answers_say_20_credits() -> None:
    assert parse_credits(json.loads(DOC_CREATE)["credits"]) == Decimal(20)
    status = job_status(json.loads(DOC_STATUS), None, 60.0, now=0.0)
    assert status.state is JobState.SUCCEEDED
    assert status.credits == Decimal(20)
    assert price("viduq3-pro", 5, "720p", off_peak=False, is_rec=False) == 20


@pytest.mark.parametrize(
    ("given", "read"),
    [
        (20, Decimal(20)),
        ("20", Decimal(20)),
        ("12.5", Decimal("12.5")),
        (Decimal("0.25"), Decimal("0.25")),
        # JSON's 7.5 and 0.1 arrive as floats: read as the text Vidu wrote, not as binary.
        (json.loads("7.5"), Decimal("7.5")),
        (json.loads("0.1"), Decimal("0.1")),
        (0, Decimal(0)),
    ],
)
def test_credits_are_read_exactly(given: Any, read: Decimal) -> None:
    assert parse_credits(given) == read
    assert str(parse_credits(given)) == str(read)


@pytest.mark.parametrize(
    "garbage",
    [
        True,
        False,
        None,
        "lots",
        "",
        "NaN",
        "Infinity",
        -3,
        "-1",
        "0.0000001",
        "1e400",
        json.loads("1e400"),
        float("nan"),
        [20],
        {"credits": 20},
    ],
)
def test_garbage_credits_are_ignored_without_a_crash(garbage: Any) -> None:
    assert parse_credits(garbage) is None
    doc = {**json.loads(DOC_STATUS), "credits": garbage}
    status = job_status(doc, None, 60.0, now=0.0)
    assert status.state is JobState.SUCCEEDED
    assert status.credits is None


def test_the_credits_answer_sums_exactly() -> None:
    doc = {"remains": [{"credit_remain": 0.1}, {"credit_remain": 0.2}, {"credit_remain": True}]}
    assert exact_remaining_credits(doc) == Decimal("0.3")  # 0.1 + 0.2 in binary is not 0.3
    assert exact_remaining_credits({"remains": [{"credit_remain": "lots"}]}) is None


def test_submitted_and_completed_write_the_credits_only_when_known() -> None:
    assert "upstream_credits_micros" not in Submitted("1", "a").writes(0.0)
    assert Submitted("1", "a", Decimal("20")).writes(0.0)["upstream_credits_micros"] == 20 * MICROS
    done = Completed("v", None, None, None, False, 640, 360, 60.0)
    assert "upstream_credits_micros" not in done.writes(0.0)
    charged = Completed("v", None, None, None, False, 640, 360, 60.0, credits=Decimal("19.5"))
    assert charged.writes(0.0)["upstream_credits_micros"] == 19_500_000
    # Vidu gives a failed task's credits back: its last answer's 0 replaces the create's.
    assert "upstream_credits_micros" not in Failed("timeout", "late").writes(0.0)
    assert Failed("x", "failed upstream", Decimal(0)).writes(0.0)["upstream_credits_micros"] == 0


def _task_credits(gateway: Gateway, video_id: str) -> int | None:
    rows = gateway.sql("SELECT upstream_credits_micros FROM tasks WHERE id = $1", video_id)
    return rows[0][0] if rows else None


def _submitted(gateway: Gateway, video_id: str) -> bool:
    rows = gateway.sql("SELECT upstream_id FROM tasks WHERE id = $1", video_id)
    return bool(rows and rows[0][0])


@pytest.mark.slow
def test_a_vidu_task_records_what_the_upstream_charged_and_the_account_balance(
    tmp_path: Path,
) -> None:
    # A fractional balance: the credits answer carries it as a JSON float.
    config = fast_config(result_mode="fixed", accounts={KEY_A: 1234.5})
    with vidu_gateway(tmp_path, config=config) as (gateway, emulator):
        with gateway.client() as client:
            created = client.post("/v1/videos", json=DOC_TASK)
            assert created.status_code == 200, created.text
            video_id = created.json()["id"]
            assert wait_final(client, video_id)["status"] == "completed"
        (upstream,) = upstream_of(emulator, video_id)
        assert upstream["credits"] == 20
        assert _task_credits(gateway, video_id) == 20 * MICROS
        # Read before the create was sent: the balance then, exactly, and the health as it was.
        rows = gateway.sql(
            "SELECT credits_micros, credits_read_at, state FROM upstream_accounts WHERE id = $1",
            "a",
        )
        assert rows == [(1_234_500_000, rows[0][1], "active")]
        assert rows[0][1] is not None
        assert rows[0][1] <= time.time()


@pytest.mark.slow
def test_the_credits_are_recorded_when_the_upstream_accepts_the_task(tmp_path: Path) -> None:
    # A long render: the task stays processing, so what is on it came from the create.
    config = fast_config(result_mode="fixed", process_seconds=3600)
    with vidu_gateway(tmp_path, config=config) as (gateway, emulator):
        with gateway.client() as client:
            video_id = client.post("/v1/videos", json=DOC_TASK).json()["id"]
            wait_until(lambda: _submitted(gateway, video_id), what="the create's answer")
            assert _task_credits(gateway, video_id) == 20 * MICROS
            assert client.get(f"/v1/videos/{video_id}").json()["status"] == "processing"
        assert len(upstream_of(emulator, video_id)) == 1


@pytest.mark.slow
def test_a_create_found_after_its_answer_was_lost_still_records_its_credits(
    tmp_path: Path,
) -> None:
    config = fast_config(result_mode="fixed", process_seconds=3600)
    config.faults.lost_create = 1.0
    with vidu_gateway(tmp_path, config=config) as (gateway, emulator):
        with gateway.client() as client:
            video_id = client.post("/v1/videos", json=DOC_TASK).json()["id"]
            wait_until(lambda: emulator.stats()["creates_lost"] >= 1, what="a lost create")
            emulator.admin("POST", "/faults", {"lost_create": 0.0})
            wait_until(lambda: _submitted(gateway, video_id), what="the create found")
            assert _task_credits(gateway, video_id) == 20 * MICROS
        assert len(upstream_of(emulator, video_id)) == 1
        assert "task.create_recovered" in gateway.all_logs()


@pytest.mark.asyncio
async def test_saving_credits_leaves_the_health_and_saving_health_leaves_the_credits(
    tmp_path: Path,
) -> None:
    async with open_database(fresh_database_url(tmp_path)) as database:
        accounts = AccountRepository(database)
        await accounts.save_credits("fresh", "vidu", Decimal("12.5"), now=100.0)
        resting = AccountState("busy", "vidu", AccountHealth.THROTTLED, "429", 500.0, 90.0)
        await accounts.save(resting)
        await accounts.save_credits("busy", "vidu", Decimal("7"), now=101.0)
        assert await accounts.all("vidu") == [
            resting,
            AccountState("fresh", "vidu", AccountHealth.ACTIVE, "", None, 100.0),
        ]
        await accounts.save(AccountState("busy", "vidu", AccountHealth.ACTIVE, "", None, 102.0))
        await accounts.save_credits("fresh", "vidu", Decimal("0.000001"), now=103.0)
        async with database.read() as conn:
            rows = (
                await conn.exec_driver_sql(
                    "SELECT id, credits_micros, credits_read_at FROM upstream_accounts ORDER BY id"
                )
            ).all()
        assert [tuple(row) for row in rows] == [("busy", 7 * MICROS, 101.0), ("fresh", 1, 103.0)]
