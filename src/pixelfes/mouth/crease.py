"""The crease where closed lips meet: measured on real closed mouths, drawn relative to the person.

Closed lips roll inward where they meet: a dark line, about half the lips' luminance on light
skin. :func:`crease_profile` measures it on a photo of a closed mouth as a profile across the
line, each sample the luminance (linear light) over the lips' median; :func:`draw_crease` darkens
a closed mouth's meeting line, multiplicatively, until its own profile is that one: the same
relative darkening on every skin tone and exposure, the lips' texture kept.
"""

from __future__ import annotations

import cv2
import numpy as np

from .._nomask import median
from ..mouth_regions import outline_y
from .colour import LUMINANCE, lab, lab_to_srgb, to_linear

__all__ = ["OFFSETS", "crease_profile", "crease_gain", "draw_crease", "luminance"]

#: signed distances across the meeting line (mouth widths, + down) the profile is sampled at
OFFSETS = np.linspace(-0.06, 0.06, 13)
_SEARCH = 0.03  # mouth widths either side of the landmarks' line searched for the darkest row
_FEATHER = 0.05  # mouth widths along the line over which the crease fades out at the corners


def luminance(rgb: np.ndarray) -> np.ndarray:
    """``(H, W) float32`` relative luminance (linear light) of sRGB ``uint8`` ``rgb``."""
    return np.asarray(to_linear(rgb) @ LUMINANCE, dtype=np.float32)


def _lip_median(y: np.ndarray, lm: np.ndarray) -> float:
    outer = np.zeros(y.shape, np.uint8)
    cv2.fillPoly(outer, [np.rint(lm[48:60] * 16).astype(np.int32)], 1, shift=4)
    inner = np.zeros_like(outer)
    cv2.fillPoly(inner, [np.rint(lm[60:68] * 16).astype(np.int32)], 1, shift=4)
    m = (cv2.erode(outer, np.ones((3, 3), np.uint8)) > 0) & (inner == 0)
    return float(median(y[m])) if m.any() else float("nan")


def _line(xs: np.ndarray, lm: np.ndarray) -> np.ndarray:
    return 0.5 * (outline_y(lm[[60, 61, 62, 63, 64]], xs) + outline_y(lm[[60, 67, 66, 65, 64]], xs))


def _sample_rows(y: np.ndarray, rows: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """``y`` at fractional ``rows`` ``(K, C)`` of integer columns ``xs`` ``(C,)`` (linear in y)."""
    r = np.clip(rows, 0, y.shape[0] - 1)
    r0 = np.minimum(np.floor(r).astype(int), y.shape[0] - 2) if y.shape[0] > 1 else np.zeros_like(r, int)
    f = r - r0
    r1 = np.minimum(r0 + 1, y.shape[0] - 1)
    return np.asarray(y[r0, xs[None]] * (1 - f) + y[r1, xs[None]] * f)


def crease_profile(rgb: np.ndarray, landmarks: np.ndarray, *, darkest: bool = True) -> np.ndarray:
    """``(len(OFFSETS),)`` luminance across the lip line over the lips' median luminance.

    Per column between the inner corners (60, 64) the profile is sampled at ``OFFSETS`` mouth
    widths from the darkest row within ``_SEARCH`` of the inner lips' mid line (``darkest``;
    dlib's inner points of closed lips sit a pixel or two off the crease) or from that line
    itself; the median over the columns. ``nan`` when there are no columns or no lip pixels.
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    y = luminance(rgb)
    width = float(np.linalg.norm(lm[54] - lm[48]))
    xs = np.arange(int(np.ceil(lm[60, 0])), int(np.floor(lm[64, 0])) + 1)
    xs = xs[(xs >= 0) & (xs < y.shape[1])]
    lip = _lip_median(y, lm)
    if xs.size == 0 or not np.isfinite(lip) or lip <= 0:
        return np.full(len(OFFSETS), np.nan)
    centre = _line(xs, lm)
    if darkest:
        r = max(1, int(round(_SEARCH * width)))
        cand = np.rint(centre).astype(int)[None] + np.arange(-r, r + 1)[:, None]
        vals = y[np.clip(cand, 0, y.shape[0] - 1), xs[None]]
        centre = cand[np.argmin(vals, axis=0), np.arange(xs.size)].astype(np.float64)
    rows = centre[None] + OFFSETS[:, None] * width
    return np.asarray(median(_sample_rows(y, rows, xs), axis=1) / lip, dtype=np.float64)


def crease_gain(goal: np.ndarray, own: np.ndarray) -> np.ndarray:
    """``(len(OFFSETS),)`` factor on luminance that brings the profile ``own`` to ``goal``: their
    ratio, never above 1 (darkening only), faded to 1 at the ends by a cosine-squared window."""
    g, o = np.asarray(goal, dtype=np.float64), np.asarray(own, dtype=np.float64)
    ratio = np.minimum(g / o, 1.0)
    window = np.cos(0.5 * np.pi * OFFSETS / OFFSETS[-1]) ** 2
    return np.asarray(1.0 - (1.0 - np.nan_to_num(ratio, nan=1.0)) * window)


def draw_crease(region: np.ndarray, local: np.ndarray, width: float, goal: np.ndarray) -> None:
    """Darken the meeting line of the closed lips in ``region`` (``uint8`` RGB, **in place**) so
    its profile (:func:`crease_profile` on the line itself) becomes ``goal``.

    ``local``: the lips' ``(20, 2)`` landmarks 48-67 in ``region`` pixels (inner lips meeting).
    Each pixel's luminance is multiplied by :func:`crease_gain` at its vertical distance from
    the line (mouth widths), faded to nothing over ``_FEATHER`` at the inner corners, in L*
    only: a* and b* are kept (a darkening in linear RGB takes the lips' chroma with it).
    """
    lm = np.zeros((68, 2))
    lm[48:68] = local
    own = crease_profile(region, lm, darkest=False)
    gain = crease_gain(goal, own)
    if not np.isfinite(own).all() or np.all(gain >= 1.0):
        return
    h, w = region.shape[:2]
    xs = np.arange(w, dtype=np.float64)
    x_l, x_r = sorted((float(local[12, 0]), float(local[16, 0])))
    along = np.clip(np.minimum(xs - x_l, x_r - xs) / max(_FEATHER * width, 1e-6), 0.0, 1.0)
    d = (np.arange(h, dtype=np.float64)[:, None] - _line(xs, lm)[None]) / width
    factor = 1.0 - (1.0 - np.interp(d, OFFSETS, gain)) * along[None]
    c = lab(region)
    light = c[..., 0].astype(np.float64)
    y = np.where(light > 8.0, ((light + 16.0) / 116.0) ** 3, light / 903.3) * factor
    c[..., 0] = np.where(y > 0.008856, 116.0 * np.cbrt(y) - 16.0, 903.3 * y)
    region[...] = np.clip(np.rint(lab_to_srgb(c)), 0, 255).astype(np.uint8)
