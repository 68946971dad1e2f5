"""The sandbox renderer, checked by decoding what it wrote."""

from __future__ import annotations

import hashlib
import time
from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image, ImageDraw, ImageOps

from vidugate.media.render import RenderCancelledError, part_path, render_video
from vidugate.media.spec import FPS, RenderResult, RenderSpec

pytestmark = pytest.mark.slow

U8 = npt.NDArray[np.uint8]
PROMPT = "A lighthouse on a cliff at dusk, waves crashing below, seagulls circling"


def make_spec(**changes: object) -> RenderSpec:
    base = RenderSpec(
        width=320, height=180, duration=1, prompt=PROMPT, seed=1234, audio=False, bgm=False
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def render(tmp_path: Path, spec: RenderSpec, name: str = "out") -> RenderResult:
    return render_video(spec, tmp_path / f"{name}.mp4", tmp_path / f"{name}.jpg")


def frame_hashes(path: Path) -> list[str]:
    with av.open(str(path)) as container:
        return [
            hashlib.sha256(frame.to_ndarray().tobytes()).hexdigest()
            for frame in container.decode(video=0)
        ]


def decode_rgb(path: Path) -> list[U8]:
    with av.open(str(path)) as container:
        return [
            np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
            for frame in container.decode(video=0)
        ]


def decode_luma(path: Path, index: int = 0) -> npt.NDArray[np.float64]:
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i == index:
                return frame.to_ndarray()[: frame.height].astype(np.float64)
    raise AssertionError(f"no frame {index}")


def mad(a: npt.NDArray[np.generic], b: npt.NDArray[np.generic]) -> float:
    return float(np.mean(np.abs(a.astype(np.float64) - b.astype(np.float64))))


def split_image(path: Path, size: tuple[int, int] = (400, 300)) -> Path:
    """Red left half, blue right half, and a green square that shows zoom and pan."""
    img = Image.new("RGB", size, (220, 30, 30))
    draw = ImageDraw.Draw(img)
    draw.rectangle((size[0] // 2, 0, size[0], size[1]), fill=(30, 40, 220))
    draw.rectangle((size[0] // 8, size[1] // 8, size[0] // 3, size[1] // 3), fill=(20, 200, 60))
    img.save(path)
    return path


def fitted(path: Path, spec: RenderSpec) -> U8:
    with Image.open(path) as src:
        img = ImageOps.exif_transpose(src).convert("RGB")
    return np.asarray(ImageOps.fit(img, (spec.width, spec.height), Image.Resampling.LANCZOS))


@pytest.mark.parametrize(("width", "height", "duration"), [(320, 180, 2), (242, 138, 1)])
def test_text_video_is_real_h264_of_exact_size_and_length(
    tmp_path: Path, width: int, height: int, duration: int
) -> None:
    spec = make_spec(width=width, height=height, duration=duration)
    result = render(tmp_path, spec)

    assert result == RenderResult(
        video_path=tmp_path / "out.mp4",
        thumbnail_path=tmp_path / "out.jpg",
        frames=duration * FPS,
        has_audio=False,
    )
    with av.open(str(result.video_path)) as container:
        assert not container.streams.audio
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.width, stream.height) == (width, height)
        assert stream.duration is not None
        assert stream.time_base is not None
        assert abs(float(stream.duration * stream.time_base) - duration) <= 1 / FPS
        assert container.duration is not None
        assert abs(container.duration / 1e6 - duration) <= 1 / FPS
        frames = list(container.decode(video=0))
    assert abs(len(frames) - duration * FPS) <= 1
    assert {f.format.name for f in frames} == {"yuv420p"}
    data = result.video_path.read_bytes()
    assert 0 <= data.find(b"moov") < data.find(b"mdat")  # +faststart
    with Image.open(result.thumbnail_path) as thumb:
        assert thumb.format == "JPEG"
        assert thumb.size == (width, height)
    assert not part_path(result.video_path).exists()


def test_thumbnail_is_scaled_down_to_640(tmp_path: Path) -> None:
    result = render(tmp_path, make_spec(width=1280, height=720))
    with Image.open(result.thumbnail_path) as thumb:
        assert thumb.size == (640, 360)


@pytest.mark.parametrize(("audio", "bgm"), [(True, False), (False, True), (True, True)])
def test_audio_track_when_asked(tmp_path: Path, audio: bool, bgm: bool) -> None:
    spec = make_spec(duration=2, audio=audio, bgm=bgm)
    result = render(tmp_path, spec)

    assert result.has_audio
    with av.open(str(result.video_path)) as container:
        assert len(container.streams.audio) == 1
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "aac"
        assert stream.sample_rate in (44_100, 48_000)
        assert stream.duration is not None
        assert stream.time_base is not None
        assert abs(float(stream.duration * stream.time_base) - 2) <= 1 / FPS
        pcm = np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)
    assert abs(pcm.shape[1] / stream.sample_rate - 2) <= 1 / FPS
    rms = float(np.sqrt(np.mean(np.square(pcm, dtype=np.float64))))
    assert 0.02 < rms < 0.7


def test_same_spec_gives_identical_frames_and_seed_or_prompt_changes_them(
    tmp_path: Path,
) -> None:
    spec = make_spec(watermark=True)
    first = frame_hashes(render(tmp_path, spec, "a").video_path)
    second = frame_hashes(render(tmp_path, spec, "b").video_path)
    other_seed = frame_hashes(render(tmp_path, replace(spec, seed=1235), "c").video_path)
    other_prompt = frame_hashes(render(tmp_path, replace(spec, prompt="A cat"), "d").video_path)

    assert first == second
    assert len(first) == FPS
    assert len(set(first)) == len(first)  # it moves: no two frames alike
    assert not set(first) & set(other_seed)
    assert not set(first) & set(other_prompt)


def test_different_seeds_look_different(tmp_path: Path) -> None:
    a = decode_rgb(render(tmp_path, make_spec(), "a").video_path)[0]
    b = decode_rgb(render(tmp_path, make_spec(seed=99), "b").video_path)[0]
    assert mad(a, b) > 10  # a different palette and layout, not codec noise


@pytest.mark.parametrize("name", ["small.png", "large.jpg"])  # a big JPEG takes the draft path
def test_image_to_video_starts_on_the_image_and_then_moves(tmp_path: Path, name: str) -> None:
    size = (400, 300) if name.endswith(".png") else (2400, 1800)
    image = split_image(tmp_path / name, size)
    spec = make_spec(image_path=image, duration=1)
    frames = decode_rgb(render(tmp_path, spec).video_path)

    expected = fitted(image, spec)
    assert mad(frames[0], expected) < 6
    assert mad(frames[-1], frames[0]) > 3
    # Still recognisably the image: red on the left, blue on the right.
    last = frames[-1].astype(int)
    assert last[:, : spec.width // 5, 0].mean() > 150
    assert last[:, -spec.width // 5 :, 2].mean() > 150


def test_image_orientation_from_exif_is_honoured(tmp_path: Path) -> None:
    img = Image.new("RGB", (180, 320), (220, 30, 30))  # portrait pixels ...
    ImageDraw.Draw(img).rectangle((0, 160, 180, 320), fill=(30, 40, 220))
    exif = Image.Exif()
    exif[0x0112] = 6  # ... displayed rotated 90 degrees: landscape, red right, blue left
    img.save(tmp_path / "rotated.jpg", exif=exif, quality=95)
    spec = make_spec(image_path=tmp_path / "rotated.jpg")
    frame0 = decode_rgb(render(tmp_path, spec).video_path)[0]
    assert mad(frame0, fitted(tmp_path / "rotated.jpg", spec)) < 8
    assert frame0[:, :40, 2].mean() > 150  # blue on the left after the rotation


def test_end_image_is_the_last_frame(tmp_path: Path) -> None:
    start = split_image(tmp_path / "start.png")
    end = tmp_path / "end.jpg"
    end_img = Image.new("RGB", (300, 300), (240, 210, 40))
    ImageDraw.Draw(end_img).ellipse((100, 100, 200, 200), fill=(0, 0, 0))
    end_img.save(end)
    spec = make_spec(image_path=start, end_image_path=end, duration=2)
    frames = decode_rgb(render(tmp_path, spec).video_path)

    assert mad(frames[0], fitted(start, spec)) < 6
    assert mad(frames[-1], fitted(end, spec)) < 6
    middle = frames[len(frames) // 2]
    assert mad(middle, fitted(start, spec)) > 10
    assert mad(middle, fitted(end, spec)) > 10


def _corner(luma: npt.NDArray[np.float64], pos: int) -> npt.NDArray[np.float64]:
    h, w = luma.shape
    ys = slice(0, h // 4) if pos in (1, 2) else slice(h - h // 4, h)
    xs = slice(0, w // 4) if pos in (1, 4) else slice(w - w // 4, w)
    return luma[ys, xs]


@pytest.mark.parametrize(("position", "logo"), [(1, False), (3, False), (2, True), (4, True)])
def test_watermark_lands_in_its_corner(tmp_path: Path, position: int, logo: bool) -> None:
    logo_path = None
    if logo:
        logo_path = tmp_path / "logo.png"
        mark = Image.new("RGBA", (120, 40), (0, 0, 0, 0))
        ImageDraw.Draw(mark).rounded_rectangle((0, 0, 119, 39), 8, fill=(255, 255, 255, 220))
        mark.save(logo_path)
    spec = make_spec(image_path=split_image(tmp_path / "bg.png"))
    plain = decode_luma(render(tmp_path, spec, "plain").video_path)
    marked_spec = replace(spec, watermark=True, wm_position=position, wm_image_path=logo_path)
    marked = decode_luma(render(tmp_path, marked_spec, "marked").video_path)

    opposite = {1: 3, 2: 4, 3: 1, 4: 2}[position]
    assert mad(_corner(marked, position), _corner(plain, position)) > 4
    assert mad(_corner(marked, opposite), _corner(plain, opposite)) < 0.75


def test_text_watermark_on_a_text_video(tmp_path: Path) -> None:
    plain = decode_luma(render(tmp_path, make_spec(), "plain").video_path)
    marked = decode_luma(render(tmp_path, make_spec(watermark=True), "marked").video_path)
    assert mad(_corner(marked, 3), _corner(plain, 3)) > 2
    assert mad(_corner(marked, 1), _corner(plain, 1)) < 0.75


def test_should_stop_cancels_and_leaves_nothing(tmp_path: Path) -> None:
    calls = 0

    def should_stop() -> bool:
        nonlocal calls
        calls += 1
        return calls > 10

    video, thumb = tmp_path / "out.mp4", tmp_path / "out.jpg"
    with pytest.raises(RenderCancelledError):
        render_video(make_spec(duration=2, bgm=True), video, thumb, should_stop=should_stop)
    assert calls == 11
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_failure_mid_render_removes_the_part_file(tmp_path: Path) -> None:
    def progress(done: int, total: int) -> None:
        if done >= total // 2:
            assert part_path(tmp_path / "out.mp4").exists()
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        render_video(make_spec(), tmp_path / "out.mp4", tmp_path / "out.jpg", progress=progress)
    assert list(tmp_path.iterdir()) == []


def test_progress_is_regular_monotonic_and_complete(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    render_video(
        make_spec(duration=2),
        tmp_path / "o.mp4",
        tmp_path / "o.jpg",
        progress=lambda d, t: seen.append((d, t)),
    )
    total = 2 * FPS
    assert {t for _, t in seen} == {total}
    done = [d for d, _ in seen]
    assert done == sorted(done)
    assert done[-1] == total
    assert max(b - a for a, b in zip([0, *done], done, strict=False)) <= max(1, total // 20)


def test_pace_spreads_the_render_over_wall_time(tmp_path: Path) -> None:
    stamps: list[tuple[int, float]] = []
    started = time.monotonic()
    render_video(
        make_spec(width=160, height=90, pace=1.0),
        tmp_path / "o.mp4",
        tmp_path / "o.jpg",
        progress=lambda d, t: stamps.append((d, time.monotonic() - started)),
    )
    elapsed = time.monotonic() - started
    assert elapsed >= 0.98
    # Evenly spread: half the frames are not done before about half the time has passed.
    halfway = next(s for d, s in stamps if d >= FPS // 2)
    assert halfway >= 0.4
