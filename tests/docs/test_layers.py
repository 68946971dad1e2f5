"""Dependencies point one way (see ../shared/style.md): the arrows are checked here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "vidugate"

# package -> vidugate packages it must not import
FORBIDDEN = {
    "domain": {"api", "services", "store", "providers", "media", "workers", "cli", "files"},
    "store": {"api", "services", "providers", "workers", "cli", "media"},
    "providers": {"api", "services", "store", "workers", "cli"},
    "media": {"api", "services", "store", "providers", "workers", "cli", "domain"},
    "services": {"api", "cli"},
    "api": {"store", "providers", "cli", "workers"},
    "workers": {"api", "cli"},
    # The emulator must not share the assumptions of the client it is there to test.
    "emulator": {"providers", "api", "services", "store", "workers", "cli", "domain"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("vidugate."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("vidugate."):
                    found.add(alias.name.split(".")[1])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_point_one_way(package: str) -> None:
    for path in (SRC / package).rglob("*.py"):
        wrong = _imports(path) & FORBIDDEN[package]
        assert not wrong, f"{path.relative_to(SRC)} imports {sorted(wrong)}"
