"""The lips' junction beyond a smile's opening: its luminance profile from outer to inner corner.

In a real smile the dark pocket at each end of the mouth lies in the junction where the lips meet
between the inner corner (landmark 60 / 64) and the outer one (48 / 54); the native smile leaves
it lighter (issue 11; docs/mouth.md, "The lips' junction beyond the opening"). The **junction
profile** samples, at :data:`SAMPLES` evenly spaced points ``t`` of the way from the outer corner
(``t = 0``) to the inner one (``t = 1``), the mean linear luminance of the pixels within
:data:`RADIUS` mouth widths (at least 1 px) of the point, over the median linear luminance of the
lips (the outer outline 48-59 filled less the inner 60-67:
:func:`pixelfes.mouth.colour.lip_ring`). Each image is read on its own 68 landmarks (found on it),
so an output is compared with the same person's real smile as the rest of the mouth measure is.

Two numbers per image (both sides' mean): the **level**, the profile's mean over
``t`` in [:data:`LEVEL_FROM`, :data:`LEVEL_TO`] (the junction's own pixels: the corners' ends
left out), and the **onset**, the first ``t`` from the outer corner whose value is at most
:data:`DARK` (1 when none: no dark pocket).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from ..mouth.colour import LUMINANCE, lip_ring, to_linear

__all__ = ["DARK", "LEVEL_FROM", "LEVEL_TO", "RADIUS", "SAMPLES", "junction_gaps", "junction_numbers",
           "junction_profile"]

#: points along each side's outer -> inner corner line (t = 0, 1/(SAMPLES-1), ..., 1)
SAMPLES = 21
#: the disc each point averages over, in mouth widths (48 -> 54), at least 1 px
RADIUS = 0.01
#: the junction's level: the profile's mean over this share of the way (corners' ends left out)
LEVEL_FROM, LEVEL_TO = 0.1, 0.9
#: a point this dark (of the lips' median luminance) or darker is in the pocket
DARK = 0.5
_MIN_LIP_PIXELS = 20
#: (outer, inner) corner landmark of each side: the image's left (48, 60) and right (54, 64)
_SIDES = ((48, 60), (54, 64))


def junction_profile(rgb: np.ndarray, landmarks: np.ndarray, samples: int = SAMPLES) -> np.ndarray:
    """``(2, samples) float64``: each side's (left 48 -> 60, right 54 -> 64) junction profile in
    ``rgb`` (``(H, W, 3) uint8``) on its ``(68, 2)`` landmarks (x, y): the mean linear luminance of
    the pixels within :data:`RADIUS` mouth widths of each point over the lips' median; ``nan``
    where a disc holds no pixel of the image, all ``nan`` when the lips have fewer than 20 pixels."""
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.shape != (68, 2):
        raise ValueError(f"landmarks must be (68, 2); got {lm.shape}")
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"rgb must be an (H, W, 3) uint8 array; got {getattr(rgb, 'shape', type(rgb).__name__)}")
    out = np.full((2, samples), np.nan)
    width = float(np.linalg.norm(lm[54] - lm[48]))
    if not width > 0:
        return out
    h, w = rgb.shape[:2]
    mouth = lm[48:68]
    x0, y0 = (int(v) for v in np.maximum(0, np.floor(mouth.min(0)) - 2))
    x1, y1 = (int(v) for v in np.minimum((w, h), np.ceil(mouth.max(0)) + 3))
    if x1 <= x0 or y1 <= y0:
        return out
    sub = rgb[y0:y1, x0:x1]
    ring = lip_ring(sub.shape, mouth[:12] - (x0, y0), mouth[12:] - (x0, y0)).astype(bool)
    if ring.sum() < _MIN_LIP_PIXELS:
        return out
    lum = to_linear(sub).astype(np.float64) @ LUMINANCE.astype(np.float64)
    lips = float(np.median(lum[ring]))
    if not lips > 0:
        return out
    r = max(1.0, RADIUS * width)
    ys, xs = np.mgrid[y0:y1, x0:x1]
    t = np.linspace(0.0, 1.0, samples)
    for s, (o, i) in enumerate(_SIDES):
        for k, tk in enumerate(t):
            p = lm[o] + tk * (lm[i] - lm[o])
            disc = (xs - p[0]) ** 2 + (ys - p[1]) ** 2 <= r * r
            if disc.any():
                out[s, k] = float(lum[disc].mean()) / lips
    return out


def junction_numbers(profile: np.ndarray) -> dict[str, float]:
    """``{"level", "onset"}`` of a ``(2, n)`` :func:`junction_profile` (both sides' mean; ``nan``
    when a side cannot be read): the mean over t in [LEVEL_FROM, LEVEL_TO], and the first t (outer
    -> inner) at or below :data:`DARK` (1.0 for a side with none)."""
    prof = np.asarray(profile, dtype=np.float64)
    t = np.linspace(0.0, 1.0, prof.shape[1])
    mid = (t >= LEVEL_FROM - 1e-9) & (t <= LEVEL_TO + 1e-9)
    if not np.all(np.isfinite(prof[:, mid])):
        return {"level": float("nan"), "onset": float("nan")}
    onsets = []
    for side in prof:
        dark = np.flatnonzero(np.nan_to_num(side, nan=np.inf) <= DARK)
        onsets.append(float(t[dark[0]]) if len(dark) else 1.0)
    return {"level": float(prof[:, mid].mean()), "onset": float(np.mean(onsets))}


def junction_gaps(numbers: Mapping[str, Mapping[str, Mapping[str, float]]], method: str,
                  real: str = "real target", groups: Mapping[str, str] | None = None,
                  only: Iterable[str] | None = None) -> dict[str, dict[str, float]]:
    """Paired gaps of ``method`` against ``real`` over people: ``numbers[method][identity]`` is a
    :func:`junction_numbers` dict. For ``level`` and ``onset``: ``n``, the method's and the real
    photos' means, the mean of (method - real) per person and its se (sd / sqrt(n), ddof 1), over
    the people both can be read on (``only``: these identities); with ``groups`` (identity -> group)
    the same by group, keys ``"<number>@<group>"``."""
    keep = None if only is None else set(only)
    ids = sorted(i for i in numbers.get(method, {}) if i in numbers.get(real, {})
                 and (keep is None or i in keep))
    out: dict[str, dict[str, float]] = {}

    def one(key: str, name: str, people: list[str]) -> None:
        pairs = [(numbers[method][i][name], numbers[real][i][name]) for i in people]
        pairs = [(a, b) for a, b in pairs if np.isfinite(a) and np.isfinite(b)]
        if not pairs:
            return
        a, b = np.array(pairs).T
        d = a - b
        se = float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else float("nan")
        out[key] = {"n": float(len(d)), "method": float(a.mean()), "real": float(b.mean()),
                    "gap": float(d.mean()), "se": se}

    for name in ("level", "onset"):
        one(name, name, ids)
        if groups:
            for g in sorted({groups[i] for i in ids if i in groups}):
                one(f"{name}@{g}", name, [i for i in ids if groups.get(i) == g])
    return out
