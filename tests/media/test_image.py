"""Image sniffing, bounded decoding (header checks, scaling down) and inline base64."""

from __future__ import annotations

import base64
import io
import os
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from imagelib import flat_png
from vidugate.errors import InvalidRequestError, PayloadTooLargeError, UnsupportedMediaError
from vidugate.media.image import (
    MAX_IMAGE_PIXELS,
    STORED_SHORT_SIDE,
    ImageInfo,
    ImageKind,
    declared_size,
    decode_base64_image,
    looks_like_base64_image,
    prepare_image,
    sniff_image_kind,
)


def _encode(size: tuple[int, int], fmt: str, noise: bool = False) -> bytes:
    width, height = size
    if noise:
        im = Image.frombytes("RGB", size, os.urandom(width * height * 3))
    else:
        im = Image.new("RGB", size, (200, 80, 40))
    buf = io.BytesIO()
    im.save(buf, format=fmt)
    return buf.getvalue()


def inspect_image(path: Path, *, param: str) -> ImageInfo:
    return prepare_image(path, path.with_name(path.name + ".reduced"), param=param).info


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _png_with_size(width: int, height: int) -> bytes:
    """A small PNG whose IHDR claims ``width`` x ``height`` (CRC fixed up)."""
    data = bytearray(_encode((8, 8), "PNG"))
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


PNG = _encode((64, 48), "PNG", noise=True)
JPEG = _encode((64, 48), "JPEG", noise=True)
WEBP = _encode((64, 48), "WEBP", noise=True)
GIF = _encode((64, 48), "GIF")


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (PNG, ImageKind.PNG),
        (JPEG, ImageKind.JPEG),
        (WEBP, ImageKind.WEBP),
        (GIF, None),
        (b"hello world, not an image", None),
        (b"", None),
        (b"RIFF\0\0\0\0WAVE", None),
    ],
)
def test_sniff_image_kind(data: bytes, kind: ImageKind | None) -> None:
    assert sniff_image_kind(data[:16]) is kind


@pytest.mark.parametrize(
    ("data", "kind"), [(PNG, ImageKind.PNG), (JPEG, ImageKind.JPEG), (WEBP, ImageKind.WEBP)]
)
def test_inspect_each_kind(tmp_path: Path, data: bytes, kind: ImageKind) -> None:
    info = inspect_image(_write(tmp_path, "img", data), param="image")
    assert info == ImageInfo(kind=kind, width=64, height=48)


def test_png_named_jpg_is_judged_by_bytes(tmp_path: Path) -> None:
    assert inspect_image(_write(tmp_path, "photo.jpg", PNG), param="image").kind is ImageKind.PNG


@pytest.mark.parametrize("data", [GIF, b"%PDF-1.7 not an image at all"])
def test_unsupported_kind(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(UnsupportedMediaError) as info:
        inspect_image(_write(tmp_path, "x.png", data), param="image")
    assert info.value.param == "image"
    assert all(kind in info.value.message for kind in ("png", "jpeg", "webp"))


@pytest.mark.parametrize(("width", "height"), [(400, 100), (100, 400), (100, 100)])
def test_ratio_within_limits(tmp_path: Path, width: int, height: int) -> None:
    info = inspect_image(_write(tmp_path, "x.png", _encode((width, height), "PNG")), param="p")
    assert (info.width, info.height) == (width, height)


@pytest.mark.parametrize(("width", "height"), [(401, 100), (100, 401)])
def test_ratio_out_of_limits(tmp_path: Path, width: int, height: int) -> None:
    with pytest.raises(InvalidRequestError) as info:
        inspect_image(_write(tmp_path, "x.png", _encode((width, height), "PNG")), param="image")
    assert info.value.code == "invalid_value"
    assert info.value.param == "image"
    assert f"{width}x{height}" in info.value.message
    assert "1:4" in info.value.message
    assert "4:1" in info.value.message


@pytest.mark.parametrize(
    ("data", "cut"), [(PNG, 0.5), (PNG, 0.9), (PNG, 0.0), (JPEG, 0.5), (WEBP, 0.5)]
)
def test_truncated_image_is_invalid(tmp_path: Path, data: bytes, cut: float) -> None:
    truncated = data[: max(24, int(len(data) * cut))]
    with pytest.raises(InvalidRequestError) as info:
        inspect_image(_write(tmp_path, "x", truncated), param="image")
    assert info.value.code == "invalid_image"
    assert info.value.param == "image"


@pytest.mark.parametrize(("width", "height"), [(9000, 9000), (10000, 9000), (20000, 20000)])
def test_pixel_bomb_refused(tmp_path: Path, width: int, height: int) -> None:
    assert width * height > MAX_IMAGE_PIXELS
    with pytest.raises(InvalidRequestError) as info:
        inspect_image(_write(tmp_path, "x.png", _png_with_size(width, height)), param="image")
    assert info.value.code == "invalid_value"
    assert "pixels" in info.value.message


def _b64_cases() -> list[tuple[str, str]]:
    std = base64.b64encode(PNG).decode()
    url = base64.urlsafe_b64encode(PNG).decode()
    assert "-" in url or "_" in url
    return [
        ("plain", std),
        ("unpadded", std.rstrip("=")),
        ("urlsafe", url),
        ("urlsafe-unpadded", url.rstrip("=")),
        ("newlines", base64.encodebytes(PNG).decode()),
        ("spaces", "  " + " ".join(std[i : i + 10] for i in range(0, len(std), 10)) + "\n"),
        ("data-uri", "data:image/png;base64," + std),
        ("data-uri-upper", "DATA:IMAGE/PNG;BASE64," + std),
        (
            "data-uri-params",
            "data:image/png;name=a.png;base64,\n" + base64.encodebytes(PNG).decode(),
        ),
    ]


@pytest.mark.parametrize(("label", "text"), _b64_cases())
def test_decode_base64_forms(tmp_path: Path, label: str, text: str) -> None:
    dest = tmp_path / f"{label}.png"
    assert decode_base64_image(text, dest, max_bytes=len(PNG), param="image") == len(PNG)
    assert dest.read_bytes() == PNG


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc$def",
        "a",
        "abcde",
        "ab=c",
        "abc===",
        "ab==c===",
        "data:image/png,iVBORw0KGgo=",  # not base64-encoded
        "data:image/png;base64",  # no comma
        "data:image/png;base64,!!!!",
    ],
)
def test_broken_base64(tmp_path: Path, text: str) -> None:
    dest = tmp_path / "x"
    with pytest.raises(InvalidRequestError) as info:
        decode_base64_image(text, dest, max_bytes=1 << 20, param="image")
    assert info.value.code == "invalid_base64"
    assert info.value.param == "image"
    assert not dest.exists()


@pytest.mark.parametrize("media", ["text/plain", "application/pdf", ""])
def test_data_uri_not_an_image(tmp_path: Path, media: str) -> None:
    text = f"data:{media};base64," + base64.b64encode(PNG).decode()
    with pytest.raises(UnsupportedMediaError) as info:
        decode_base64_image(text, tmp_path / "x", max_bytes=1 << 20, param="image")
    assert info.value.param == "image"


def test_exact_limit_and_one_below(tmp_path: Path) -> None:
    text = base64.b64encode(PNG).decode()
    assert decode_base64_image(text, tmp_path / "a", max_bytes=len(PNG), param="p") == len(PNG)
    with pytest.raises(PayloadTooLargeError):
        decode_base64_image(text, tmp_path / "b", max_bytes=len(PNG) - 1, param="p")


def test_oversize_base64_refused_without_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_decode(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("decoded an oversize payload")

    monkeypatch.setattr(base64, "b64decode", must_not_decode)
    text = "data:image/png;base64," + "A" * 4_000_000
    dest = tmp_path / "x"
    with pytest.raises(PayloadTooLargeError) as info:
        decode_base64_image(text, dest, max_bytes=1_000_000, param="image")
    assert info.value.code == "too_large"
    assert info.value.param == "image"
    assert not dest.exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (base64.b64encode(PNG).decode(), True),
        (base64.b64encode(JPEG).decode(), True),
        (base64.urlsafe_b64encode(WEBP).decode().rstrip("="), True),
        (base64.encodebytes(PNG).decode(), True),
        ("data:image/png;base64,AAAA", True),
        ("  data:text/plain;base64,AAAA", True),
        (base64.b64encode(GIF).decode(), False),
        (base64.b64encode(b"just some text that is long enough").decode(), False),
        ("https://example.com/image.png", False),
        ("http://example.com/" + "a" * 600, False),
        ("iVBORw0K", False),  # too short to carry a signature
        ("not base64 at all, but long enough to look", False),
        ("", False),
    ],
)
def test_looks_like_base64_image(text: str, expected: bool) -> None:
    assert looks_like_base64_image(text) is expected


# --- bounded decoding: the header decides before any decoder runs; big images are kept
# scaled down to what frames need.


def _save(im: Image.Image, fmt: str, **options: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **options)
    return buf.getvalue()


def _exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


@pytest.mark.parametrize(
    "data",
    [
        PNG,
        JPEG,
        WEBP,
        _save(Image.new("RGB", (300, 200)), "JPEG", progressive=True),
        _save(Image.new("RGB", (300, 200)), "JPEG", icc_profile=b"\0" * 200_000),  # 4 segments
        _save(Image.new("RGB", (300, 200)), "WEBP", lossless=True),
        _save(Image.new("RGBA", (300, 200)), "WEBP"),
        _save(Image.new("L", (300, 200)), "PNG"),
    ],
)
def test_header_size_is_the_size_pillow_decodes(tmp_path: Path, data: bytes) -> None:
    path = _write(tmp_path, "img", data)
    kind = sniff_image_kind(data[:16])
    assert kind is not None
    with Image.open(path) as im:
        assert declared_size(path, kind) == im.size


def test_the_bomb_png_is_refused_from_its_header(tmp_path: Path) -> None:
    # The bomb: 233 KB declaring 8944x8944 (80 MP, 240 MB decoded), once accepted.
    data = flat_png(8944, 8944)
    assert len(data) < 300_000
    with pytest.raises(InvalidRequestError) as info:
        inspect_image(_write(tmp_path, "bomb.png", data), param="images")
    assert info.value.param == "images"
    assert "8944x8944" in info.value.message
    assert f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels" in info.value.message


def test_a_webp_canvas_over_the_cap_is_refused_before_its_decoder_allocates(
    tmp_path: Path,
) -> None:
    # libwebp allocates the whole canvas when a file is opened: the header must decide.
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x10\0\0\0"
    vp8x += (10_000 - 1).to_bytes(3, "little") + (10_000 - 1).to_bytes(3, "little")
    data = b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x
    with pytest.raises(InvalidRequestError) as info:
        inspect_image(_write(tmp_path, "x.webp", data), param="images")
    assert "10000x10000" in info.value.message
    assert info.value.code == "invalid_value"


def test_a_jpeg_with_a_second_larger_frame_header_is_refused(tmp_path: Path) -> None:
    # Pillow takes the last frame header; the check takes the largest of them.
    small = _save(Image.new("RGB", (64, 48)), "JPEG")
    sof = small.index(b"\xff\xc0")
    length = struct.unpack(">H", small[sof + 2 : sof + 4])[0]
    fake = bytearray(small[sof : sof + 2 + length])
    fake[5:9] = struct.pack(">HH", 9000, 9000)
    data = small[: sof + 2 + length] + bytes(fake) + small[sof + 2 + length :]
    with pytest.raises(InvalidRequestError) as info:
        inspect_image(_write(tmp_path, "x.jpg", data), param="images")
    assert "megapixels" in info.value.message


def test_pillow_guard_is_set_to_the_documented_cap() -> None:
    assert Image.MAX_IMAGE_PIXELS == MAX_IMAGE_PIXELS == 40_000_000


def test_a_small_image_is_kept_as_it_came(tmp_path: Path) -> None:
    path = _write(tmp_path, "x.png", PNG)
    prepared = prepare_image(path, tmp_path / "out", param="images")
    assert not prepared.reduced
    assert prepared.path == path
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("size", "fmt", "mode", "expected"),
    [
        ((4000, 3000), "JPEG", "RGB", (1920, 1440)),
        ((3000, 4000), "WEBP", "RGBA", (1440, 1920)),
        ((6000, 1500), "PNG", "RGBA", (5760, 1440)),
        ((3000, 3000), "PNG", "P", (1440, 1440)),
        ((3000, 2000), "PNG", "I;16", (2160, 1440)),
    ],
)
def test_a_big_image_is_kept_scaled_down_in_its_own_format(
    tmp_path: Path, size: tuple[int, int], fmt: str, mode: str, expected: tuple[int, int]
) -> None:
    assert min(expected) == STORED_SHORT_SIDE
    colour: object = {"RGB": (200, 80, 40), "RGBA": (200, 80, 40, 128), "P": 7}.get(mode, 40000)
    im = Image.new(mode, size, colour)  # type: ignore[arg-type]
    path = _write(tmp_path, "big", _save(im, fmt))
    prepared = prepare_image(path, tmp_path / "small", param="images")
    assert prepared.reduced
    assert prepared.path == tmp_path / "small"
    assert (prepared.info.width, prepared.info.height) == expected
    with Image.open(prepared.path) as small:
        assert small.format == fmt
        assert small.size == expected
        small.load()
        if mode == "RGBA":
            assert small.mode == "RGBA"
            assert abs(small.getpixel((10, 10))[3] - 128) <= 2  # type: ignore[index]
        elif mode == "RGB":
            red, green, blue = small.getpixel((10, 10))  # type: ignore[misc]
            assert max(abs(red - 200), abs(green - 80), abs(blue - 40)) <= 3


def test_a_big_rotated_photo_is_kept_upright(tmp_path: Path) -> None:
    im = Image.new("RGB", (4000, 3000), (0, 0, 255))
    im.paste((255, 0, 0), (0, 0, 2000, 3000))  # left half red as stored
    path = _write(tmp_path, "photo.jpg", _save(im, "JPEG", exif=_exif(6)))
    prepared = prepare_image(path, tmp_path / "small", param="images")
    assert (prepared.info.width, prepared.info.height) == (1440, 1920)
    with Image.open(prepared.path) as small:
        assert small.size == (1440, 1920)
        assert small.getexif().get(0x0112) is None
        # Orientation 6 turns the picture clockwise: the stored left half is now on top.
        top, bottom = small.getpixel((720, 100)), small.getpixel((720, 1800))
    assert top[0] > 200 > top[2]  # type: ignore[index]
    assert bottom[2] > 200 > bottom[0]  # type: ignore[index]


def test_a_small_rotated_photo_reports_its_upright_size(tmp_path: Path) -> None:
    path = _write(tmp_path, "photo.jpg", _save(Image.new("RGB", (400, 300)), "JPEG", exif=_exif(6)))
    prepared = prepare_image(path, tmp_path / "small", param="images")
    assert not prepared.reduced
    assert (prepared.info.width, prepared.info.height) == (300, 400)
