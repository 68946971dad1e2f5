"""The docs say what the code does: every setting and every model is in the README."""

from __future__ import annotations

from pathlib import Path

from vidugate.domain.models import IMAGE_FRAMED, MODELS, Mode
from vidugate.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_every_setting_is_documented() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, name
        assert f"`VIDUGATE_{name.upper()}`" in README, f"VIDUGATE_{name.upper()} not in README"


SHORT = {
    Mode.TEXT: "text",
    Mode.IMAGE: "img",
    Mode.START_END: "start-end",
    Mode.REFERENCE: "reference",
}


def test_every_model_and_endpoint_is_in_the_readme_table() -> None:
    """Each model's rules on each endpoint are one row's cells: | `model` | endpoints |
    durations | resolutions | aspect ratios | prompt | audio default | no effect |."""
    rows = [line.split(" | ") for line in README.splitlines() if line.startswith("| `")]
    for model in MODELS.values():
        for mode, rules in model.rules.items():
            row = next(
                (r for r in rows if r[0] == f"| `{model.id}`" and SHORT[mode] in r[1].split(", ")),
                None,
            )
            assert row is not None, (model.id, mode)
            ratios = "the image's" if mode in IMAGE_FRAMED else ", ".join(rules.aspect_ratios)
            assert row[2:6] == [
                rules.describe_durations(),
                rules.describe_resolutions(),
                ratios,
                str(rules.max_prompt_chars),
            ], (model.id, mode)
            assert row[6] == ("on" if model.audio_default else "off"), (model.id, mode)
    listed = {row[0].removeprefix("| `").removesuffix("`") for row in rows if row[1:2]}
    assert set(MODELS) <= listed


def test_readme_starts_with_the_two_commands() -> None:
    lines = README.splitlines()
    block = lines[lines.index("```sh") + 1 : lines.index("```sh") + 3]
    assert "vidugate serve" in block[0]
    assert "./scripts/check" in block[1]
    assert "./scripts/check" in (ROOT / ".ci" / "run").read_text()
