"""Dependencies point one way (see ../shared/style.md and the README's Architecture):

    cli -> app -> bootstrap -> api -> services -> {domain, store, providers, media, files}
                         \\-> workers -> services

The composition root (bootstrap.py) is the one module that knows both `services` and
`workers`; only the app imports it, and only the CLI imports the app. The arrows are
checked here, on every module's imports (TYPE_CHECKING ones too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "vidugate"

# What sits above the layers: each may import what is below it, nothing imports upward.
ROOT = {"cli", "app", "bootstrap"}
# Every layer but the ground's own modules.
GROUND_UP = {"api", "services", "store", "providers", "workers", "media", "domain", "files"}
GROUND_UP |= {"settings", *ROOT}
# package (or top-level module) -> vidugate packages and modules it must not import
FORBIDDEN = {
    "domain": {"api", "services", "store", "providers", "media", "workers", "files", *ROOT},
    "store": {"api", "services", "providers", "workers", "media", *ROOT},
    "providers": {"api", "services", "store", "workers", *ROOT},
    "media": {"api", "services", "store", "providers", "workers", "domain", *ROOT},
    "files": {"api", "services", "store", "providers", "workers", "media", *ROOT},
    "net": {"api", "services", "store", "providers", "workers", "media", "domain", *ROOT},
    # The ground everything stands on: errors, time, settings (which read domain's enums).
    "errors": {"api", "services", "store", "providers", "workers", "media", "domain", *ROOT},
    "clock": {"api", "services", "store", "providers", "workers", "media", "domain", *ROOT},
    "settings": {"api", "services", "store", "providers", "workers", "media", *ROOT},
    # What any layer records into and logs through: they stand on their libraries alone.
    "metrics": {*GROUND_UP, "logs"},
    "logs": {*GROUND_UP, "metrics"},
    "services": {"api", "workers", *ROOT},
    "api": {"store", "providers", "workers", *ROOT},
    "workers": {"api", "providers", "media", *ROOT},
    "bootstrap": {"app", "cli"},
    # The app is routes and middleware over what bootstrap builds; it builds nothing itself.
    "app": {"cli", "services", "store", "providers", "workers", "media", "files"},
    # The emulator must not share the assumptions of the client it is there to test.
    "emulator": {"providers", "api", "services", "store", "workers", "domain", *ROOT},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "vidugate":
            found.update(alias.name for alias in node.names)  # from vidugate import app
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("vidugate."):
            found.add((node.module or "").split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("vidugate."):
                    found.add(alias.name.split(".")[1])
    return found


def _files(package: str) -> list[Path]:
    module = SRC / f"{package}.py"
    return [module] if module.exists() else sorted((SRC / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_point_one_way(package: str) -> None:
    files = _files(package)
    assert files, package
    for path in files:
        wrong = _imports(path) & FORBIDDEN[package]
        assert not wrong, f"{path.relative_to(SRC)} imports {sorted(wrong)}"


def test_only_the_app_imports_the_composition_root() -> None:
    importers = {
        path.relative_to(SRC).as_posix()
        for path in SRC.rglob("*.py")
        if "bootstrap" in _imports(path)
    }
    assert importers == {"app.py"}


def test_the_checker_sees_each_form_of_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import vidugate.workers.runner\n"
        "from vidugate import bootstrap\n"
        "from vidugate.services.videos import VideoService\n"
        "import os\n"
    )
    assert _imports(module) == {"workers", "bootstrap", "services"}


def _touches_environment(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv"):
            return True
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(alias.name in ("environ", "getenv", "putenv") for alias in node.names)
        ):
            return True
    return False


# prometheus-client takes its multiprocess folder from the environment only: `serve` names
# it there for the processes it starts (metrics/exposition.py), and nothing reads it back.
ENVIRONMENT_WRITERS = {"metrics/exposition.py"}


def test_nothing_reads_or_writes_the_environment_but_the_settings() -> None:
    """The environment is read once, by pydantic-settings into Settings, and the object is
    passed down from there (to each `serve --processes N` child too): no module reads it,
    nor writes it for a later reader, but the one that hands prometheus-client its folder."""
    touching = {
        path.relative_to(SRC).as_posix() for path in SRC.rglob("*.py") if _touches_environment(path)
    }
    assert touching == ENVIRONMENT_WRITERS


def test_the_environment_checker_sees_each_form(tmp_path: Path) -> None:
    forms = ["os.environ.update(A='1')", "os.getenv('A')", "from os import environ"]
    for index, line in enumerate(forms):
        module = tmp_path / f"m{index}.py"
        module.write_text(f"import os\n{line}\n")
        assert _touches_environment(module), line
