"""Audio synthesis: a gentle melody (bgm) and speech-like babble (audio), deterministic per seed.

Everything is generated up front as one float32 stereo buffer; a 16 s clip is ~6 MB, which is
cheaper than streaming synthesis and lets the encoder loop slice it in step with the video.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

SAMPLE_RATE = 48_000

_PENTATONIC = (0, 2, 4, 7, 9, 12, 14, 16, 19, 21)
# (F1, F2, F3) in Hz for a, e, i, o, u: enough spectral variety to read as vowels.
_VOWELS = (
    (730, 1090, 2440),
    (530, 1840, 2480),
    (270, 2290, 3010),
    (570, 840, 2410),
    (300, 870, 2240),
)


def _midi_hz(note: float) -> float:
    return 440.0 * math.pow(2.0, (note - 69.0) / 12.0)


def _envelope(n: int, attack: int, release: int) -> F64:
    env = np.ones(n)
    a, r = min(attack, n // 2), min(release, n // 2)
    if a:
        env[:a] = 0.5 - 0.5 * np.cos(np.linspace(0.0, math.pi, a))
    if r:
        env[n - r :] = 0.5 + 0.5 * np.cos(np.linspace(0.0, math.pi, r))
    return env


def _music(n: int, rng: np.random.Generator) -> F64:
    out = np.zeros((2, n))
    sr = SAMPLE_RATE
    root = int(rng.integers(55, 65))
    beat = 60.0 / float(rng.uniform(72.0, 100.0))
    t_all = np.arange(n) / sr
    # A quiet root+fifth pad with slow tremolo gives the melody something to sit on.
    pad = sum(np.sin(2 * math.pi * _midi_hz(root - 12 + k) * t_all) for k in (0, 7, 12))
    pad = pad * (0.5 + 0.5 * np.sin(2 * math.pi * 0.2 * t_all)) * 0.06
    out += pad[None, :]
    step = int(rng.integers(2, 6))
    t = 0.0
    while t < n / sr:
        step = int(np.clip(step + rng.choice([-2, -1, 1, 2]), 0, len(_PENTATONIC) - 1))
        length = beat * float(rng.choice([0.5, 1.0, 1.0, 2.0]))
        start = round(t * sr)
        ring = min(n - start, round((length + 0.6) * sr))
        tt = np.arange(ring) / sr
        f = _midi_hz(root + _PENTATONIC[step])
        tone = np.sin(2 * math.pi * f * tt) + 0.3 * np.sin(4 * math.pi * f * tt)
        tone += 0.1 * np.sin(6 * math.pi * f * tt)
        env = np.exp(-tt * float(rng.uniform(2.0, 3.5))) * _envelope(ring, sr // 100, sr // 20)
        pan = float(rng.uniform(0.25, 0.75))
        note = tone * env * 0.28
        out[0, start : start + ring] += note * (1.0 - pan)
        out[1, start : start + ring] += note * pan
        t += length
    return out


def _formant_gain(freqs: F64, formants: tuple[int, int, int]) -> F64:
    gain = np.zeros_like(freqs)
    for k, centre in enumerate(formants):
        width = 80.0 + 40.0 * k
        gain += (0.9**k) / (1.0 + ((freqs - centre) / width) ** 2)
    return gain / (1.0 + freqs / 600.0)  # glottal source spectral tilt


def _syllable(n: int, f0: float, bend: float, rng: np.random.Generator) -> F64:
    sr = SAMPLE_RATE
    contour = f0 * (1.0 + bend * np.linspace(-0.5, 0.5, n))
    phase = 2 * math.pi * np.cumsum(contour) / sr
    formants = _VOWELS[int(rng.integers(len(_VOWELS)))]
    harmonics = np.arange(1, max(2, int(3800.0 / f0)))
    gains = _formant_gain((harmonics * f0).astype(np.float64), formants)
    voiced: F64 = gains @ np.sin(np.outer(harmonics, phase))
    voiced *= _envelope(n, sr // 60, sr // 25)
    # A short high-passed noise burst at the onset reads as a consonant.
    burst_n = min(n, round(sr * float(rng.uniform(0.015, 0.05))))
    noise = np.diff(rng.standard_normal(burst_n + 1)) * np.linspace(1.0, 0.0, burst_n)
    voiced[:burst_n] += noise * float(rng.uniform(0.05, 0.25)) * float(np.max(np.abs(gains)))
    return voiced


def _speech(n: int, rng: np.random.Generator) -> F64:
    sr = SAMPLE_RATE
    out = np.zeros(n)
    base = float(rng.uniform(105.0, 220.0))  # speaker pitch
    t = float(rng.uniform(0.15, 0.4))
    while t < n / sr - 0.2:
        phrase = float(rng.uniform(1.2, 3.0))
        p_start = t
        while t < min(p_start + phrase, n / sr - 0.2):
            for _ in range(int(rng.integers(1, 4))):  # syllables in a word
                length = float(rng.uniform(0.11, 0.26))
                start, count = round(t * sr), min(n - round(t * sr), round(length * sr))
                if count <= 0:
                    break
                decline = 1.0 - 0.15 * (t - p_start) / phrase  # pitch falls through a phrase
                f0 = base * decline * float(rng.uniform(0.9, 1.15))
                bend = float(rng.uniform(-0.25, 0.25))
                out[start : start + count] += _syllable(count, f0, bend, rng)
                t += length
            t += float(rng.uniform(0.04, 0.12))
        t += float(rng.uniform(0.3, 0.7))
    peak = float(np.max(np.abs(out))) or 1.0
    return out / peak


def synthesize(duration_s: int, speech: bool, music: bool, rng: np.random.Generator) -> F32:
    """Stereo float32 of shape (2, duration_s * SAMPLE_RATE), peak about -3 dBFS."""
    n = duration_s * SAMPLE_RATE
    mix = np.zeros((2, n))
    if music:
        mix += _music(n, np.random.default_rng(rng.integers(2**63))) * (0.45 if speech else 1.0)
    if speech:
        mix += _speech(n, np.random.default_rng(rng.integers(2**63)))[None, :] * 0.8
    peak = float(np.max(np.abs(mix)))
    if peak > 0.0:
        mix *= 0.7 / peak
    return mix.astype(np.float32)
