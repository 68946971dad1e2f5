"""kill -9 and the ledger: real `vidugate serve` processes with prices in force and a funded
tenant, killed at several moments (creates just accepted and queued, mid-submit to the
Vidu emulator, mid-render, while tasks complete), restarted, and let finish. After every
kill, and at the end, the books are read with SQL (moneylib.check_books): every task has
one reserve row, and once final exactly one settle or refund that matches its status; the
balance is the sum of the rows; each key's spent is its tasks' net charges.

One process on the run's backend (SQLite by default) with the sandbox; two processes on
one PostgreSQL database with the Vidu emulator, whose creates are slow (so some are under
way at the kill) and some of whose tasks fail upstream."""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from clusterlib import report
from emulatorlib import fast_config, run_emulator
from vidulib import accounts_json

from dblib import fresh_database_url, run_sync
from gatewaylib import Gateway, wait_final
from moneylib import CLIP, PRICES, Account, Books, check_books_sync, funded_tenant
from waiting import wait_until

pytestmark = [pytest.mark.process, pytest.mark.slow]

FAIL = "[sandbox:fail]"


def funded(url: str, tmp_path: Path) -> tuple[Account, dict[str, str]]:
    """A tenant with 100.00 EUR and a key, in a new database; the settings that price."""
    prices = tmp_path / "prices.toml"
    prices.write_text(PRICES)
    account = run_sync(funded_tenant(url, Decimal("100.00")))
    return account, {"VIDUGATE_PRICES_FILE": str(prices), "VIDUGATE_LEASE_SECONDS": "3"}


def statuses(gw: Gateway) -> Counter[str]:
    return Counter(row[0] for row in gw.sql("SELECT status FROM tasks"))


def books_after_kill(gw: Gateway) -> Books:
    """The books of a dead (or live) gateway: consistent whatever moment it died at."""
    return check_books_sync(gw.database_url)


# A kill -9 that lands while the sandbox's forkserver (the killed gateway's child, writing
# to the same log) is being handed a render's descriptors makes it print this as it sees
# its parent's end of the socket go: Python's own, after the kill, not the gateway's.
FORKSERVER_EOF = re.compile(
    r"Traceback \(most recent call last\):\n"
    r'  File "<string>", line 1, in <module>\n'
    r'  File "[^"]*multiprocessing/forkserver\.py", line \d+, in main\n'
    r"(?:    .*\n)*?"
    r'  File "[^"]*multiprocessing/reduction\.py", line \d+, in recvfds\n'
    r"(?:    .*\n)*?"
    r"EOFError\n"
)


def assert_clean(gw: Gateway) -> None:
    log = FORKSERVER_EOF.sub("", gw.all_logs())
    assert "api.unhandled" not in log, log
    assert "Traceback" not in log, log


def test_kill_9_one_process_charges_every_task_once(tmp_path: Path) -> None:
    data = tmp_path / "gw"
    url = fresh_database_url(data)
    account, settings = funded(url, tmp_path)
    gw = Gateway(
        data,
        database_url=url,
        key=account.token,
        settings={
            **settings,
            # A 1 s clip renders for 2 s: renders are under way at the kills, and with two
            # at a time the rest wait queued in the sandbox.
            "VIDUGATE_SANDBOX_PACE": "2",
            "VIDUGATE_SANDBOX_CONCURRENCY": "2",
        },
    ).start()
    kills = 0
    try:
        with gw.client() as client:
            clips = [
                client.post("/v1/videos", json={**CLIP, "prompt": f"clip {n}"}).json()["id"]
                for n in range(5)
            ]
            sinking = [
                client.post("/v1/videos", json={**CLIP, "prompt": f"sinks {n} {FAIL}"}).json()["id"]
                for n in range(2)
            ]
            ids = clips + sinking
        # 1. Just created: queued, or on their way to the sandbox.
        gw.kill()
        kills += 1
        books = books_after_kill(gw)
        assert sorted(books.tasks) == sorted(ids)
        gw.start()
        with gw.client() as client:
            # 2. Mid-render, with one clip cancelled once its render has begun.
            rendering = wait_until(
                lambda: [
                    row[0]
                    for row in gw.sql(
                        "SELECT id FROM tasks WHERE status = 'processing' AND progress > 0"
                    )
                    if row[0] in clips
                ],
                what="a render under way",
            )
            cancelled = client.post(f"/v1/videos/{rendering[0]}/cancel")
            assert cancelled.status_code in (200, 409), cancelled.text
        gw.kill()
        kills += 1
        books_after_kill(gw)
        gw.start()
        # 3. While tasks complete: once the first has, others are still going.
        wait_until(lambda: statuses(gw)["completed"] >= 1, what="a first completion")
        gw.kill()
        kills += 1
        books_after_kill(gw)
        gw.start()
        with gw.client() as client:
            finals = {video_id: wait_final(client, video_id, timeout=120) for video_id in ids}
        books = check_books_sync(url)
        assert_clean(gw)
    finally:
        gw.stop()
    for video_id, final in finals.items():
        expected = ("failed",) if video_id in sinking else ("completed", "cancelled")
        assert final["status"] in expected, final
        assert final["price"]["state"] != "reserved", final
    charged = sum(-sum(amount for _kind, amount in books.of_task(i)) for i in ids)
    assert books.balance(account.tenant_id) == Decimal("100.00") - Decimal(charged) / 1_000_000
    report(
        "money under kill -9 (1 process, sandbox)",
        kills=kills,
        tasks=len(ids),
        outcomes=dict(Counter(f["status"] for f in finals.values())),
        double_charges=0,
    )


def test_kill_9_two_processes_on_postgres_charge_every_task_once(tmp_path: Path) -> None:
    config = fast_config(result_mode="fixed")
    config.faults.latency = 3.0  # creates are under way long enough to kill the sender
    config.faults.fail_task = 0.3  # and some tasks fail upstream: refunds
    data = tmp_path / "shared-data"
    url = fresh_database_url(data, backend="postgres")
    account, settings = funded(url, tmp_path)
    with run_emulator(config) as emulator:
        settings = {
            **settings,
            "VIDUGATE_PROVIDER": "vidu",
            "VIDUGATE_VIDU_ACCOUNTS": accounts_json(emulator, {"a": "key-a"}),
            "VIDUGATE_VIDU_POLL_SECONDS": "0.3",
            "VIDUGATE_VIDU_LOOKUP_GRACE_SECONDS": "1",
            "VIDUGATE_VIDU_TIMEOUT_SECONDS": "10",
        }
        gateways = [
            Gateway(data, settings=settings, database_url=url, key=account.token).start()
            for _ in range(2)
        ]
        victim, survivor = gateways
        try:
            with victim.client() as client:
                ids = [
                    client.post(
                        "/v1/videos",
                        json={"model": "viduq3-pro", "prompt": f"v {n}", "duration": 1},
                    ).json()["id"]
                    for n in range(8)
                ]
            pid = f"%:{victim.process.pid if victim.process else 0}:%"
            # 1. Mid-submit: the victim has sent creates whose answers have not come back.
            in_flight = wait_until(
                lambda: victim.sql(
                    "SELECT id FROM tasks WHERE lease_owner LIKE $1 AND "
                    "upstream_account IS NOT NULL AND upstream_id IS NULL",
                    pid,
                ),
                what="the victim to be mid-submit",
            )
            victim.kill()
            books_after_kill(survivor)
            emulator.admin("POST", "/faults", {"latency": 0.0})
            victim.start()
            # 2. While tasks complete: one has, others are still going; the other process.
            wait_until(lambda: statuses(survivor)["completed"] >= 1, what="a first completion")
            survivor.kill()
            books_after_kill(victim)
            survivor.start()
            with survivor.client() as client:
                finals = [wait_final(client, video_id, timeout=120) for video_id in ids]
            books = check_books_sync(url)
            for gateway in gateways:
                assert_clean(gateway)
        finally:
            for gateway in gateways:
                gateway.stop()
    outcomes = Counter(f["status"] for f in finals)
    assert set(outcomes) <= {"completed", "failed"}, outcomes
    for final in finals:
        expected = {"completed": "settled", "failed": "refunded"}[final["status"]]
        assert final["price"]["state"] == expected, final
        assert books.of_task(final["id"])[0] == ("reserve", -250_000)
    report(
        "money under kill -9 (2 processes, PostgreSQL, Vidu emulator)",
        kills=2,
        killed_mid_submit=len(in_flight),
        tasks=len(ids),
        outcomes=dict(outcomes),
        double_charges=0,
    )
