"""Streaky lips: texture drawn taller than it was, measured against the same person's real photo.

A few rows of lip stretched over many keep their changes across the lip (d/dx) and lose
their changes down it (d/dy): vertical streaks, a "combed" look. The **streak ratio** is the
energy of the horizontal over the vertical gradient of the lips' fine texture (L* minus a
Gaussian of :data:`STREAK_SIGMA` mouth widths: shading left out), central differences, over
the lips' band (:func:`lip_band`: the outer-lip polygon shrunk by :data:`STREAK_MARGIN` mouth
widths, the inner lips and the line where they meet left out). Each image on its own 68
landmarks; an output is compared with the real photo by ``|log(ratio_out / ratio_real)|``.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..mouth_regions import srgb_to_lightness

__all__ = ["LIPS", "STREAK_MARGIN", "STREAK_SIGMA", "lip_band", "streak_error", "streak_ratio"]

#: the texture: L* minus a Gaussian of this many mouth widths (the lips' shading left out)
STREAK_SIGMA = 0.02
#: mouth widths left out next to the outer outline and either side of the inner lips
STREAK_MARGIN = 0.02
_MIN_PIXELS = 50


#: the lower lip's polygon: the outer lower outline 48, 59 .. 55, 54, back along the inner lower line
#: 64, 65 .. 67, 60 (:func:`lip_band` ``lip="lower"``)
_LOWER = [48, 59, 58, 57, 56, 55, 54, 64, 65, 66, 67, 60]
#: the values of :func:`lip_band`'s ``lip``
LIPS = ("both", "lower")


def lip_band(shape: tuple[int, ...], landmarks: np.ndarray, lip: str = "both") -> np.ndarray:
    """``(H, W) bool``: the lips of ``landmarks`` (``(68, 2)``) off their edges: the outer polygon
    (48-59) shrunk by :data:`STREAK_MARGIN` mouth widths, minus the inner polygon (60-67) and its
    outline grown by as much (closed lips: the line where they meet); ``lip="lower"``: only its
    pixels inside the lower lip's polygon (outer lower outline and inner lower line)."""
    if lip not in LIPS:
        raise ValueError(f"lip: expected one of {LIPS}; got {lip!r}")
    lm = np.asarray(landmarks, dtype=np.float64)
    width = float(np.linalg.norm(lm[54] - lm[48]))
    e = max(2, int(round(STREAK_MARGIN * width)))
    h, w = shape[:2]
    poly = np.zeros((h, w), np.uint8)
    cv2.fillPoly(poly, [np.rint(lm[48:60] * 16).astype(np.int32)], 1, shift=4)
    outer: np.ndarray = cv2.erode(poly, np.ones((2 * e + 1, 2 * e + 1), np.uint8))
    lens = np.zeros((h, w), np.uint8)
    pts = np.rint(lm[60:68] * 16).astype(np.int32)
    cv2.fillPoly(lens, [pts], 1, shift=4)
    cv2.polylines(lens, [pts], True, 1, 1, shift=4)
    inner: np.ndarray = cv2.dilate(lens, np.ones((2 * e + 1, 2 * e + 1), np.uint8))
    band = (outer > 0) & (inner == 0)
    if lip == "lower":
        low = np.zeros((h, w), np.uint8)
        cv2.fillPoly(low, [np.rint(lm[_LOWER] * 16).astype(np.int32)], 1, shift=4)
        band &= low > 0
    return band


def streak_ratio(rgb: np.ndarray, landmarks: np.ndarray, lip: str = "both") -> float:
    """Horizontal over vertical gradient energy of the lips' texture in ``rgb`` (``(H, W, 3) uint8``)
    over :func:`lip_band` (of ``lip``): ``sum(gx**2) / sum(gy**2)``, central differences at band pixels whose
    four neighbours are in the band too. ``nan`` when fewer than 50 such pixels (or no gradient)."""
    lm = np.asarray(landmarks, dtype=np.float64)
    width = float(np.linalg.norm(lm[54] - lm[48]))
    band = lip_band(rgb.shape, lm, lip)
    ys, xs = np.nonzero(band)
    if len(ys) == 0:
        return float("nan")
    pad = int(math.ceil(4 * max(1.0, STREAK_SIGMA * width))) + 2
    y0, y1 = max(ys.min() - pad, 0), min(ys.max() + pad + 1, rgb.shape[0])
    x0, x1 = max(xs.min() - pad, 0), min(xs.max() + pad + 1, rgb.shape[1])
    light = srgb_to_lightness(np.ascontiguousarray(rgb[y0:y1, x0:x1])).astype(np.float32)
    texture = light - cv2.GaussianBlur(light, (0, 0), max(1.0, STREAK_SIGMA * width))
    b = band[y0:y1, x0:x1]
    core = b.copy()
    core[1:-1, 1:-1] &= b[:-2, 1:-1] & b[2:, 1:-1] & b[1:-1, :-2] & b[1:-1, 2:]
    core[[0, -1], :] = False
    core[:, [0, -1]] = False
    if core.sum() < _MIN_PIXELS:
        return float("nan")
    gx = np.zeros_like(texture)
    gy = np.zeros_like(texture)
    gx[:, 1:-1] = 0.5 * (texture[:, 2:] - texture[:, :-2])
    gy[1:-1, :] = 0.5 * (texture[2:, :] - texture[:-2, :])
    ex, ey = float(np.sum(gx[core].astype(np.float64) ** 2)), float(np.sum(gy[core].astype(np.float64) ** 2))
    return ex / ey if ey > 0 else float("nan")


def streak_error(output_ratio: float, real_ratio: float) -> float:
    """``|log(output / real)|``: how far an output's streak ratio is from the real photo's
    (0 = the same; symmetric in over- and under-streaking); ``nan`` if either is not positive."""
    if not (output_ratio > 0 and real_ratio > 0):
        return float("nan")
    return abs(math.log(output_ratio / real_ratio))


def summarise_streaks(ratios: dict[str, dict[str, float]], *, real: str = "real target") -> dict[str, dict]:
    """Per method of ``ratios`` (``{method: {identity: streak ratio}}``, with a ``real`` method):
    the median ratio, the median and mean :func:`streak_error` against the same person's real
    photo, and the people it was found on (an image whose ratio or real ratio is ``nan`` is left
    out of that method's errors, and counted in ``missing``)."""
    truth = ratios.get(real, {})
    out: dict[str, dict] = {}
    for method, per in ratios.items():
        vals = [v for v in per.values() if np.isfinite(v)]
        errs = {i: streak_error(v, truth.get(i, float("nan"))) for i, v in per.items()}
        ok = [e for e in errs.values() if np.isfinite(e)]
        out[method] = {"ratio_median": float(np.median(vals)) if vals else None,
                       "error_median": float(np.median(ok)) if ok else None,
                       "error_mean": float(np.mean(ok)) if ok else None,
                       "n": len(ok), "missing": len(per) - len(ok),
                       "errors": {i: (round(e, 4) if np.isfinite(e) else None) for i, e in sorted(errs.items())}}
    return out
