"""Task rows have one writer (read from the source, as tests/docs/test_layers.py reads the
imports): a task's status is written only by `TaskRepository.apply` (a transition) and
`create` (a new task, queued), the tasks table is touched only in `store/`, and outside
`store/` only the cached writer (`services/cached_tasks.py`) calls the repository's writes,
so its cache is kept where the rows are written."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "vidugate"
WRITES = {"create", "apply", "claim_due", "release_many", "renew", "release_owners", "poke"}
WRITES |= {"purge"}
STATUS_WRITERS = {"apply", "create"}
# The ledger writes a task's charge columns (never its status), inside the transaction of
# the transition that ends it; the usage reports read tasks for upstream cost, and /metrics
# counts them (store/stats.py).
TABLE_MODULES = {"store/tasks.py", "store/leases.py", "store/listing.py", "store/ledger.py"}
TABLE_MODULES |= {"store/usage.py", "store/admission.py", "store/limits.py", "store/stats.py"}
TABLE_MODULES |= {"store/slot_use.py"}  # the accounts page: slots held and waited for
ONE_WRITER = "services/cached_tasks.py"


def _sources() -> dict[str, ast.Module]:
    return {
        path.relative_to(SRC).as_posix(): ast.parse(path.read_text())
        for path in SRC.rglob("*.py")
        if "migrations" not in path.parts
    }


def status_writes(tree: ast.Module) -> list[str]:
    """Functions that write a `status` column: `.values(status=...)`, a "status" dict key,
    or `values["status"] = ...`."""
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            keyword = (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "values"
                and any(k.arg == "status" for k in node.keywords)
            )
            key = isinstance(node, ast.Dict) and any(
                isinstance(k, ast.Constant) and k.value == "status" for k in node.keys
            )
            item = (
                isinstance(node, ast.Assign)
                and isinstance(node.targets[0], ast.Subscript)
                and isinstance(node.targets[0].slice, ast.Constant)
                and node.targets[0].slice.value == "status"
            )
            if keyword or key or item:
                found.append(function.name)
    return found


def repository_writes(tree: ast.Module) -> list[str]:
    """Calls of a repository's writes (`repo.<write>(...)`, `x.repo.<write>(...)`)."""
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        named = (isinstance(owner, ast.Name) and owner.id == "repo") or (
            isinstance(owner, ast.Attribute) and owner.attr == "repo"
        )
        if named and node.func.attr in WRITES:
            found.append(node.func.attr)
    return found


def test_a_status_is_written_only_by_a_transition_or_a_create() -> None:
    for name, tree in _sources().items():
        if not name.startswith(("store/", "services/", "workers/")):
            continue
        writers = set(status_writes(tree))
        allowed = STATUS_WRITERS if name == "store/tasks.py" else set()
        assert writers <= allowed, f"{name} writes a status in {sorted(writers - allowed)}"


def test_only_the_store_knows_the_tasks_table() -> None:
    for name, tree in _sources().items():
        names = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        if "TaskRow" in names:
            assert name in TABLE_MODULES, f"{name} uses the tasks table"


def test_outside_the_store_only_the_cached_writer_writes_task_rows() -> None:
    for name, tree in _sources().items():
        if name.startswith("store/") or name == ONE_WRITER:
            continue
        assert repository_writes(tree) == [], f"{name} writes task rows past {ONE_WRITER}"


def test_the_checks_see_each_kind_of_write() -> None:
    tree = ast.parse(
        "async def cancel(tasks):\n"
        "    await tasks.repo.apply('t', x)\n"
        "    await repo.release_many('w', [])\n"
        "    stmt = update(T).values(status='cancelled')\n"
        "def other():\n"
        "    values = {'status': 'failed'}\n"
        "    values['status'] = 'queued'\n"
    )
    assert repository_writes(tree) == ["apply", "release_many"]
    assert status_writes(tree) == ["cancel", "other", "other"]
