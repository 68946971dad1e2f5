"""What the browser tests (tests/browser) do on the playground's page, as a person would:
sign in with a key, choose a model and its fields, submit a prompt."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PIL import Image
from playwright.sync_api import Locator, Page, expect

Shot = Callable[[Page, str], None]  # the `screenshot` fixture: (page, name)


def sign_in(page: Page, key: str) -> None:
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Use key").click()
    expect(page.get_by_role("button", name="Generate")).to_be_visible()


def choose(page: Page, *, model: str = "viduq2-turbo", duration: str = "1", mode: str = "") -> None:
    """A short, small clip: the sandbox renders it in about a second."""
    page.get_by_label("Model").select_option(model)
    if mode:
        page.get_by_label(mode, exact=True).check()
    page.get_by_label("Duration (s)").select_option(duration)
    page.get_by_label("Resolution").select_option("540p")


def generate(page: Page, prompt: str) -> Locator:
    """Submits the form; answers the result panel of the video it made."""
    page.get_by_label("Prompt").fill(prompt)
    page.get_by_role("button", name="Generate").click()
    watch = page.locator("section.watch[data-video]")
    expect(watch).to_be_visible()
    return watch


def picture(path: Path, width: int, height: int, colour: str = "skyblue") -> Path:
    """An image file to pick in the page (its format from the suffix)."""
    Image.new("RGB", (width, height), colour).save(path)
    return path
