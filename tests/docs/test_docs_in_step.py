"""The docs say what the code does: every setting and every model is in the README."""

from __future__ import annotations

from pathlib import Path

from vidugate.domain.models import MODELS
from vidugate.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_every_setting_is_documented() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, name
        assert f"`VIDUGATE_{name.upper()}`" in README, f"VIDUGATE_{name.upper()} not in README"


def test_every_model_is_in_the_readme_table() -> None:
    for model in MODELS.values():
        row = next(line for line in README.splitlines() if line.startswith(f"| `{model.id}`"))
        assert f"{model.min_duration}–{model.max_duration} s ({model.default_duration})" in row
        assert ("on" if model.audio_default else "off") in row


def test_readme_starts_with_the_two_commands() -> None:
    lines = README.splitlines()
    block = lines[lines.index("```sh") + 1 : lines.index("```sh") + 3]
    assert "vidugate serve" in block[0]
    assert "./scripts/check" in block[1]
    assert "./scripts/check" in (ROOT / ".ci" / "run").read_text()
