"""Frame synthesis: an animated abstract scene, or a Ken-Burns animation of input images.

Both sources hand out packed yuv420p arrays (PyAV's ``to_ndarray`` layout) at the output size.
The abstract scene is smooth by construction, so it is drawn at a reduced resolution and
swscale does the upscale and the colour conversion in one C pass; that keeps 1080p cheap.
"""

from __future__ import annotations

import colorsys
import math
from pathlib import Path
from typing import Any, Protocol, cast

import av
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps

from vidugate.media.overlay import planes

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
FAny = npt.NDArray[np.floating[Any]]

_SCENE_LONG_SIDE = 384  # working resolution of the abstract scene's long side
_MAX_ZOOM = 1.12
_LUT_SIZE = 1024


class FrameSource(Protocol):
    def frame(self, index: int) -> U8: ...


def to_yuv420p(frame: av.VideoFrame, width: int, height: int) -> U8:
    out = frame.reformat(
        width=width,
        height=height,
        format="yuv420p",
        interpolation="BILINEAR",
        dst_colorspace="ITU709",
        dst_color_range="MPEG",
    )
    return cast(U8, out.to_ndarray())


def yuv_frame(yuv: U8, width: int, height: int) -> av.VideoFrame:
    """Wrap a packed yuv420p array as a BT.709 limited-range frame."""
    # from_numpy_buffer avoids a copy but (PyAV 18.1) derives the height as rows // 6 * 4,
    # which is wrong when height % 4 == 2; from_ndarray copies and gets it right.
    if height % 4 == 0:
        frame = av.VideoFrame.from_numpy_buffer(yuv, format="yuv420p", width=width)
    else:
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
    frame.colorspace = 1  # AVCOL_SPC_BT709, what to_yuv420p produced
    frame.color_range = 1  # AVCOL_RANGE_MPEG
    return frame


def _smoothstep(t: float) -> float:
    t = min(1.0, max(0.0, t))
    return t * t * (3.0 - 2.0 * t)


def _hsv(h: float, s: float, v: float) -> F32:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, s, v), dtype=np.float32)


class TextScene:
    """A drifting three-stop gradient with soft glowing orbs and a few crisp discs."""

    def __init__(self, width: int, height: int, total: int, rng: np.random.Generator) -> None:
        self._width, self._height, self._total = width, height, max(1, total)
        scale = min(1.0, _SCENE_LONG_SIDE / max(width, height))
        self._lw = max(2, round(width * scale))
        self._lh = max(2, round(height * scale))
        aspect = self._lh / self._lw
        self._u = (np.arange(self._lw, dtype=np.float32) + 0.5) / self._lw - 0.5
        self._v = ((np.arange(self._lh, dtype=np.float32) + 0.5) / self._lh - 0.5) * aspect
        self._aspect = aspect

        hue = float(rng.random())
        spread = float(rng.choice([0.08, 0.17, 0.33, 0.5]))
        self._stops = np.stack(
            [
                _hsv(hue, 0.75, 0.22),
                _hsv(hue + spread, 0.65, 0.55),
                _hsv(hue + 2 * spread, 0.55, 0.85),
            ]
        )
        self._angle = float(rng.uniform(0.0, 2.0 * np.pi))
        self._spin = float(rng.uniform(-0.5, 0.5))  # radians over the whole video
        self._wave = (float(rng.uniform(1.0, 3.0)), float(rng.uniform(0.0, 2.0 * np.pi)))

        n_orbs = int(rng.integers(3, 6))
        self._orbs = [
            (
                rng.uniform(0.25, 0.75, 2),  # centre
                rng.uniform(0.12, 0.3, 2),  # amplitude
                rng.uniform(0.15, 0.6, 2) * rng.choice([-1.0, 1.0], 2),  # cycles per video
                rng.uniform(0.0, 2.0 * np.pi, 2),  # phase
                float(rng.uniform(0.07, 0.18)),  # radius
                _hsv(hue + float(rng.uniform(-0.2, 0.6)), 0.6, 1.0),
                float(rng.uniform(0.45, 0.8)),  # strength
            )
            for _ in range(n_orbs)
        ]
        n_discs = int(rng.integers(2, 4))
        self._discs = [
            (
                rng.uniform(0.15, 0.85, 2),
                rng.uniform(-0.25, 0.25, 2),  # drift over the video
                float(rng.uniform(0.03, 0.08)),
                _hsv(hue + 0.5 + float(rng.uniform(-0.1, 0.1)), 0.35, 0.97),
                float(rng.uniform(0.35, 0.6)),
            )
            for _ in range(n_discs)
        ]
        uu, vv = self._u[None, :], self._v[:, None]
        vignette = 1.0 - 0.45 * (uu * uu + vv * vv) * 2.2
        self._vignette = (vignette * 255.0).astype(np.float32)  # also scales to [0, 255)
        # The background is a function of one scalar field, so a colour lookup table replaces
        # per-channel interpolation; 1024 steps is far below visible banding.
        ramp = np.linspace(0.0, 1.0, _LUT_SIZE, dtype=np.float32)[None, :]
        lo, mid, hi = (c[:, None] for c in self._stops)
        self._lut = np.where(
            ramp < 0.5, lo + (mid - lo) * (2.0 * ramp), mid + (hi - mid) * (2.0 * ramp - 1.0)
        ).astype(np.float32)

    def _background(self, t: float) -> F32:
        angle = self._angle + self._spin * t
        wave_f, wave_p = self._wave
        ripple = 0.07 * np.sin(2.0 * np.pi * (self._v * wave_f + 0.35 * t) + wave_p)
        shift = 0.5 + 0.08 * math.sin(2.0 * math.pi * t)
        scale = 1.1 * (_LUT_SIZE - 1)
        col = (math.cos(angle) * self._u) * scale
        row = (math.sin(angle) * self._v + ripple + shift / 1.1) * scale
        idx = np.add.outer(row, col)
        np.clip(idx, 0.0, float(_LUT_SIZE - 1), out=idx)  # float bounds: int ones hit a slow path
        flat = idx.astype(np.intp)
        # Channel-first planes: numpy's inner loops then run along rows, not over 3 channels.
        return np.stack([np.take(lut, flat) for lut in self._lut])

    def _render(self, t: float) -> F32:
        img = self._background(t)
        tmp = np.empty_like(img)
        for centre, amp, cycles, phase, radius, colour, strength in self._orbs:
            # Python floats stay "weak" under NEP 50 and keep the arrays float32.
            cx, cy = (float(c) for c in centre + amp * np.sin(2.0 * np.pi * cycles * t + phase))
            cy = (cy - 0.5) * self._aspect
            # A Gaussian is separable: an outer product of two 1-D profiles. Rows and columns
            # where it has faded out are skipped.
            gx = np.exp(-(((self._u + 0.5 - cx) / radius) ** 2))
            gy = np.exp(-(((self._v - cy) / radius) ** 2)) * strength
            self._blend(img, tmp, gy, gx, colour)
        edge = 1.5 / self._lw  # about one working pixel of anti-aliasing
        for start, drift, radius, colour, opacity in self._discs:
            cx, cy = (float(c) for c in start + drift * _smoothstep(t))
            cy = (cy - 0.5) * self._aspect
            # Only the disc's bounding box is touched.
            dx2 = (self._u + 0.5 - cx) ** 2
            dy2 = (self._v - cy) ** 2
            rows = np.flatnonzero(dy2 < (radius + edge) ** 2)
            cols = np.flatnonzero(dx2 < (radius + edge) ** 2)
            if rows.size == 0 or cols.size == 0:
                continue
            r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
            d = np.sqrt(np.add.outer(dy2[r0:r1], dx2[c0:c1]))
            alpha = np.clip((radius - d) * (opacity / edge), 0.0, opacity)
            for ch in range(3):
                box = img[ch, r0:r1, c0:c1]
                box += alpha * (float(colour[ch]) - box)
        return img

    @staticmethod
    def _blend(img: F32, tmp: F32, gy: FAny, gx: FAny, colour: F32) -> None:
        rows = np.flatnonzero(gy > 1e-3)
        cols = np.flatnonzero(gx > 1e-3)
        if rows.size == 0 or cols.size == 0:
            return
        r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        alpha = np.multiply.outer(gy[r0:r1], gx[c0:c1])
        for ch in range(3):
            box, work = img[ch, r0:r1, c0:c1], tmp[ch, r0:r1, c0:c1]
            np.subtract(float(colour[ch]), box, out=work)
            work *= alpha
            box += work

    def frame(self, index: int) -> U8:
        img = self._render(index / max(1, self._total - 1))
        small = av.VideoFrame(self._lw, self._lh, "gbrp")
        # Write straight into the frame's planes (G, B, R order): no interleaving pass.
        for plane, channel in zip(small.planes, (1, 2, 0), strict=True):
            rows = np.frombuffer(memoryview(plane), dtype=np.uint8).reshape(
                self._lh, plane.line_size
            )
            np.multiply(img[channel], self._vignette, out=rows[:, : self._lw], casting="unsafe")
        return to_yuv420p(small, self._width, self._height)


def load_rgb(path: Path, at_least: int = 0) -> Image.Image:
    """Open an image upright in RGB; JPEGs are decoded at a reduced scale when that still
    leaves at least `at_least` pixels on both sides (much faster for camera photos)."""
    with Image.open(path) as src:
        if at_least:
            src.draft("RGB", (at_least, at_least))
        return ImageOps.exif_transpose(src).convert("RGB")


def _even(x: float, multiple: int = 2) -> int:
    return max(multiple, multiple * round(x / multiple))


class _KenBurns:
    """One image covering the frame, zooming between 1 and _MAX_ZOOM while drifting."""

    def __init__(self, path: Path, width: int, height: int, rng: np.random.Generator) -> None:
        self._width, self._height = width, height
        # Scale to cover at the maximum zoom, so the tightest crop still has native detail.
        self._sw, self._sh = _even(width * _MAX_ZOOM), _even(height * _MAX_ZOOM, 4)
        image = load_rgb(path, max(self._sw, self._sh))
        cover = ImageOps.fit(image, (self._sw, self._sh), Image.Resampling.LANCZOS)
        rgb = np.asarray(cover, dtype=np.uint8)
        self._src = to_yuv420p(av.VideoFrame.from_ndarray(rgb, format="rgb24"), self._sw, self._sh)
        self._direction = rng.uniform(-1.0, 1.0, 2)  # fraction of the free margin to drift

    def frame(self, amount: float) -> U8:
        """amount 0: the whole cover image; 1: fully zoomed and drifted."""
        zoom = 1.0 + (_MAX_ZOOM - 1.0) * amount
        cw = min(self._sw, _even(self._sw / zoom))
        ch = min(self._sh, _even(self._sh / zoom, 4))  # see yuv_frame
        cx = (self._sw - cw) / 2.0 * (1.0 + self._direction[0] * amount)
        cy = (self._sh - ch) / 2.0 * (1.0 + self._direction[1] * amount)
        x0 = min(self._sw - cw, max(0, 2 * round(cx / 2.0)))
        y0 = min(self._sh - ch, max(0, 2 * round(cy / 2.0)))
        sy, su, sv = planes(self._src, self._sw, self._sh)
        crop = np.empty((ch * 3 // 2, cw), dtype=np.uint8)
        dy, du, dv = planes(crop, cw, ch)
        dy[...] = sy[y0 : y0 + ch, x0 : x0 + cw]
        du[...] = su[y0 // 2 : (y0 + ch) // 2, x0 // 2 : (x0 + cw) // 2]
        dv[...] = sv[y0 // 2 : (y0 + ch) // 2, x0 // 2 : (x0 + cw) // 2]
        # Tagged BT.709 so swscale only scales and does not convert the matrix.
        return to_yuv420p(yuv_frame(crop, cw, ch), self._width, self._height)


class ImageScene:
    """Animates the start image; with an end image, crossfades into it (last frame exact)."""

    def __init__(
        self,
        width: int,
        height: int,
        total: int,
        start: Path,
        end: Path | None,
        rng: np.random.Generator,
    ) -> None:
        self._total = max(1, total)
        self._start = _KenBurns(start, width, height, rng)
        self._end = _KenBurns(end, width, height, rng) if end is not None else None

    def frame(self, index: int) -> U8:
        t = index / max(1, self._total - 1)
        if self._end is None:
            return self._start.frame(_smoothstep(t))
        # Hold each image briefly at its end of the clip; the end image zooms out to rest.
        w = round(256 * _smoothstep((t - 0.1) / 0.8))
        if w >= 256:
            return self._end.frame(1.0 - t)
        a = self._start.frame(_smoothstep(t))
        if w <= 0:
            return a
        b = self._end.frame(1.0 - t)
        acc = np.multiply(a, np.uint16(256 - w), dtype=np.uint16)
        acc += np.multiply(b, np.uint16(w), dtype=np.uint16)
        acc += np.uint16(128)
        acc >>= np.uint16(8)
        return acc.astype(np.uint8)
