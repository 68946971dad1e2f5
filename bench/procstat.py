"""What processes are doing, read from Linux's /proc: CPU seconds, children, and which
process holds which TCP connection. Reading /proc disturbs nothing being measured."""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
TICK = os.sysconf("SC_CLK_TCK")
ESTABLISHED = "01"


def _stat_fields(pid: int) -> list[str]:
    text = (PROC / str(pid) / "stat").read_text()
    return text[text.rindex(")") + 2 :].split()  # after "pid (comm) "; field 3 is [0]


def cpu_seconds(pid: int, *, reaped: bool = False) -> float:
    """User + system CPU seconds the process has used (0 once it is gone); with `reaped`,
    plus those of its children that have ended and been waited for."""
    try:
        fields = _stat_fields(pid)
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICK


def _comm(pid: int) -> str:
    return (PROC / str(pid) / "comm").read_text().strip()


def server_cpu_seconds(name: str) -> float:
    """CPU seconds of a forking server (e.g. "postgres") and every process it has forked,
    including the ones already gone (their time is in the server's reaped-children
    counters): the server's whole cost, whatever its connections come and go."""
    total = 0.0
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            if _comm(pid) != name:
                continue
            parent = int(_stat_fields(pid)[1])
            is_root = parent <= 1 or _comm(parent) != name
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += cpu_seconds(pid, reaped=is_root)
    return total


def children(pid: int) -> list[int]:
    """Direct children of pid, by their parent field."""
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat_fields(int(entry.name))[1]) == pid:
                    found.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
    return sorted(found)


def every_process() -> dict[int, tuple[str, float]]:
    """Every process now: pid -> (command name, CPU seconds so far)."""
    found = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            pid = int(entry.name)
            try:
                found[pid] = (_comm(pid), cpu_seconds(pid))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return found


def machine_busy_seconds() -> float:
    """Busy CPU seconds summed over all cores since boot, from /proc/stat."""
    values = [int(v) for v in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return (user + nice + system + irq + softirq + steal) / TICK


def connections_by_pid(pids: list[int], port: int) -> dict[int, int]:
    """How many established TCP connections to local `port` each process holds."""
    inodes: set[str] = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (PROC / "net" / table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            cols = line.split()
            if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == ESTABLISHED:
                inodes.add(cols[9])
    counts = {}
    for pid in pids:
        held = 0
        try:
            for fd in (PROC / str(pid) / "fd").iterdir():
                try:
                    target = os.readlink(fd)
                except OSError:
                    continue
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    held += 1
        except (FileNotFoundError, PermissionError):
            pass
        counts[pid] = held
    return counts
