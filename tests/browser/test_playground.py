"""The playground in a real browser, over real HTTP, on the sandbox: a video made and played,
images checked and uploaded for a start-end video, an API error shown next to its field,
the history's cancel and delete (the 402: test_money.py)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from pagelib import Shot, choose, generate, picture
from waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def played(video: Locator) -> float:
    """The duration the browser decoded from the file (the page's CSP forbids the eval
    Playwright's wait_for_function needs, so the test polls the element itself)."""
    wait_until(lambda: video.evaluate("v => v.readyState >= 1"), what="the video's metadata")
    return float(video.evaluate("v => v.duration"))


def test_a_video_is_made_watched_and_played(page: Page, screenshot: Shot) -> None:
    expect(page.get_by_test_id("quote")).not_to_have_text("…")
    screenshot(page, "playground")
    choose(page)
    expect(page.get_by_test_id("quote")).to_have_text("free (no price table)")
    watch = generate(page, "a red kite over the sea")
    expect(watch).to_have_attribute("data-status", "completed")
    video = watch.locator("video")
    expect(video).to_be_visible()
    # The browser itself decoded the file: its duration is the clip's, and it plays.
    duration = played(video)
    assert abs(duration - 1.0) < 0.1, duration
    video.evaluate("v => { v.muted = true; return v.play(); }")
    wait_until(lambda: video.evaluate("v => v.currentTime") > 0.2, what="the video to play")
    download = watch.get_by_role("link", name="Download MP4")
    assert (download.get_attribute("href") or "").startswith(page.url.rstrip("/") + "/v1/videos/")
    row = page.locator(f"li.video[data-video='{watch.get_attribute('data-video')}']")
    expect(row).to_have_attribute("data-status", "completed")
    expect(row.locator("img")).to_be_visible()  # the thumbnail, from the signed link
    assert row.locator("img").evaluate("i => i.naturalWidth") > 0
    row.locator("button.thumb").hover()  # the spritesheet's frames, while hovered
    expect(row.locator("button.thumb.scrubbing")).to_be_visible()
    sheet = row.locator("button.thumb").evaluate("b => getComputedStyle(b).backgroundImage")
    assert "variant=spritesheet" in sheet, sheet
    page.mouse.move(0, 0)  # off the thumbnail: the picture, loaded, is what is shown
    expect(row.locator("img")).to_be_visible()
    wait_until(lambda: row.locator("img").evaluate("i => i.complete"), what="the thumbnail")
    screenshot(page, "playground-result")


def test_images_are_checked_then_uploaded_for_a_start_end_video(
    page: Page, tmp_path: Path, screenshot: Shot
) -> None:
    choose(page, mode="Start–end")
    picker = page.locator("input[type=file]")
    # Checked before upload: 5:1 is outside 1:4..4:1, and text is no image.
    (tmp_path / "notes.png").write_bytes(b"not an image at all")
    picker.set_input_files([picture(tmp_path / "strip.png", 1000, 200), tmp_path / "notes.png"])
    error = page.locator("#error-images")
    expect(error).to_contain_text("strip.png: 1000x200; width:height must lie within 1:4 and 4:1")
    expect(error).to_contain_text("notes.png: not a png, jpeg or webp image")
    expect(page.locator(".previews li")).to_have_count(0)
    first = picture(tmp_path / "first.png", 480, 270, "orange")
    picker.set_input_files([first, picture(tmp_path / "last.jpg", 480, 270, "midnightblue")])
    expect(page.locator(".previews img")).to_have_count(2)
    expect(error).to_have_count(0)
    assert page.locator(".previews img").first.evaluate("i => i.naturalWidth") == 480
    screenshot(page, "playground-start-end")
    watch = generate(page, "day turns to night")
    expect(watch).to_have_attribute("data-status", "completed")
    expect(watch.locator("video")).to_be_visible()
    assert abs(played(watch.locator("video")) - 1.0) < 0.1


def test_an_error_from_vidus_route_is_shown_next_to_its_field(page: Page, tmp_path: Path) -> None:
    """Start-end videos go to Vidu's route, whose envelope names the field in its metadata."""
    choose(page, mode="Start–end")
    page.locator("input[type=file]").set_input_files(
        [picture(tmp_path / f"frame{i}.png", 480, 270) for i in (1, 2)]
    )
    expect(page.locator(".previews img")).to_have_count(2)
    page.get_by_label("Seed").fill("12345678901")
    page.get_by_label("Prompt").fill("a door opens")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#field-seed .field-error")).to_contain_text(
        re.compile(r"seed", re.IGNORECASE)
    )
    expect(page.locator("#error-form")).to_have_count(0)
    expect(page.locator("li.video")).to_have_count(0)


def test_an_image_dropped_on_the_form_is_checked_and_used(page: Page, tmp_path: Path) -> None:
    choose(page, mode="Image")
    png = base64.b64encode(picture(tmp_path / "dropped.png", 320, 240).read_bytes()).decode()
    # The drop a person makes: a DataTransfer holding the file, dropped on the zone.
    transfer = page.evaluate_handle(
        """b64 => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "dropped.png", { type: "image/png" }));
            return transfer;
        }""",
        png,
    )
    page.locator("label.drop").dispatch_event("drop", {"dataTransfer": transfer})
    expect(page.locator(".previews li")).to_contain_text("320×240")
    watch = generate(page, "the dropped picture moves")
    expect(watch).to_have_attribute("data-status", "completed")
    expect(watch).to_contain_text("720x540")  # the dropped image gave the frame its 4:3


def test_an_image_video_uploads_its_image_as_a_file(page: Page, tmp_path: Path) -> None:
    choose(page, mode="Image")
    expect(page.get_by_label("Aspect ratio")).to_have_count(0)  # the image gives the frame
    page.locator("input[type=file]").set_input_files(picture(tmp_path / "tall.webp", 270, 480))
    expect(page.locator(".previews li")).to_contain_text("270×480")
    watch = generate(page, "the sky moves")
    expect(watch).to_have_attribute("data-status", "completed")
    expect(watch).to_contain_text("540x960")  # the video took the image's shape
    assert abs(played(watch.locator("video")) - 1.0) < 0.1


def test_an_api_error_is_shown_next_to_the_field_it_names(page: Page, screenshot: Shot) -> None:
    choose(page)
    page.get_by_label("Seed").fill("12345678901")
    page.get_by_label("Prompt").fill("a kite")
    page.get_by_role("button", name="Generate").click()
    error = page.locator("#field-seed .field-error")
    # The API's own words (its param is "seed"), under the seed input.
    expect(error).to_contain_text(re.compile(r"seed", re.IGNORECASE))
    expect(page.locator("#error-form")).to_have_count(0)
    expect(page.locator("li.video")).to_have_count(0)
    expect(page.get_by_test_id("quote")).to_have_text("free (no price table)")
    screenshot(page, "playground-error")
    page.get_by_label("Seed").fill("7")  # editing the field clears its error
    expect(error).to_have_count(0)


def test_history_cancels_and_deletes(page: Page, screenshot: Shot) -> None:
    choose(page, duration="10")  # rendered at pace 1: ten seconds to cancel it in
    expect(page.get_by_test_id("quote")).to_have_text("free (no price table)")
    long = generate(page, "a very long sunset").get_attribute("data-video")
    row = page.locator(f"li.video[data-video='{long}']")
    expect(row.get_by_role("button", name="cancel")).to_be_visible()
    screenshot(page, "playground-history")
    row.get_by_role("button", name="cancel").click()
    expect(row).to_have_attribute("data-status", "cancelled")
    expect(page.locator("section.watch")).to_have_attribute("data-status", "cancelled")
    row.get_by_role("button", name="delete").click()
    expect(row).to_have_count(0)
    expect(page.get_by_text("No videos yet for this key.")).to_be_visible()


def test_a_reference_video_is_made_from_named_subjects(page: Page, tmp_path: Path) -> None:
    choose(page, model="viduq2", mode="Reference")
    expect(page.get_by_label("Aspect ratio")).to_be_visible()  # reference frames by ratio
    cats = [picture(tmp_path / f"cat{i}.png", 400, 400, "tan") for i in (1, 2)]
    page.locator("input[type=file]").set_input_files(
        [*cats, picture(tmp_path / "hat.png", 300, 300)]
    )
    subjects = page.get_by_placeholder("subject (optional)")
    expect(subjects).to_have_count(3)
    subjects.nth(0).fill("cat")
    subjects.nth(1).fill("cat")
    subjects.nth(2).fill("hat")
    watch = generate(page, "@cat wears the @hat")
    expect(watch).to_have_attribute("data-status", "completed")
    assert abs(played(watch.locator("video")) - 1.0) < 0.1
