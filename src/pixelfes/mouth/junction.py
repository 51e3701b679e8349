"""The dark pocket of a smile's lip junction: the lips' meeting line beyond the opening darkened.

In a real smile the dark pocket at each end of the mouth lies in the junction where the lips
meet, between the inner corner (landmark 60 / 64) and the outer one (48 / 54); the native smile
leaves that junction lighter (London, ten people looked at, dlib on each image, mean linear
luminance within 0.01 mouth widths of the corner line over the lips' median: native 0.65 of the
lips over t = 0.1-0.9 of the way from the outer corner, the real smiles 0.47; the real profile
falls from 0.71 at the outer corner to about 0.45 by 0.3-0.4 of the way, the native one stays
near 0.75 to half way; :mod:`pixelfes.evaluate.junction`, docs/mouth.md, "The lips' junction
beyond the opening"). The opening's own ends are :mod:`pixelfes.mouth.ends`' business.

:func:`darken_junction` multiplies linear RGB, on each side, over a thin band along the corner
line (:func:`junction_weight`: a wedge ``_HALF_OUTER`` mouth widths either side at the outer corner
to ``_HALF_INNER`` at the inner, a one-pixel edge, the round cap at the inner corner) kept to the lips (the outer outline filled less the inner: nothing on
skin, nothing in the opening), by a gain that is ``_GOAL / own`` (``own``: the band's mean
luminance in a bin of ``_BIN`` of the way, over the lips' median; bins from ``_FULL`` of the way
on, the gain interpolated between them; never below ``_FLOOR``, never above 1: a part already
as dark as real ones is left as it is), faded in along the line by a smoothstep from ``_START``
to ``_FULL`` of the way from the outer corner.
"""

from __future__ import annotations

import numpy as np

from .._nomask import median
from .checks import check_rgb8, lip_points
from .colour import LUMINANCE, lip_ring, to_linear, to_srgb
from .ramp import smoothstep

__all__ = ["bin_gains", "darken_junction", "junction_gain", "junction_weight"]

#: the band's half width either side of the corner line, in mouth widths (at least 1 px): a
#: wedge, narrow at the outer corner, as wide as a thin opening's end at the inner one
_HALF_OUTER, _HALF_INNER = 0.008, 0.02
#: the darkening fades in along the line from this share of the way (outer -> inner corner) ...
_START = 0.05
#: ... to whole at this share (the real profiles are near their pocket's level by 0.3-0.4)
_FULL = 0.2
#: the pocket's goal: its mean linear luminance over the lips' median (real smiles: 0.42-0.47)
_GOAL = 0.40
_FLOOR = 0.35  # the least gain: the junction's own texture stays, in shadow
_MIN_PIXELS = 3  # a bin with fewer band pixels to measure (or lips with fewer than 20) is left alone
#: the junction is measured in bins of this share of the way, centred from ``_FULL`` on: each
#: bin's own level sets its gain (the part nearest the opening is often dark already: the
#: opening's ends' shade, :mod:`pixelfes.mouth.ends`, reaches past its outline)
_BIN = 0.1
_CENTRES = np.arange(_FULL + _BIN / 2, 1.0, _BIN)
#: (outer, inner) corner of each side in the (20, 2) lips 48-67: 48 -> 60 and 54 -> 64
_SIDES = ((0, 12), (6, 16))


def junction_gain(own: float, goal: float | None = None) -> float:
    """The gain of a part whose band's mean luminance over the lips' median is ``own`` (``nan``:
    not measured): ``goal / own`` (``goal`` default ``_GOAL``) clipped to ``[_FLOOR, 1]``, 1 when
    ``own`` is not finite or positive."""
    goal = _GOAL if goal is None else goal
    if not np.isfinite(own) or not own > 0:
        return 1.0
    return float(np.clip(goal / own, _FLOOR, 1.0))


def junction_weight(xs: np.ndarray, ys: np.ndarray, outer: np.ndarray, inner: np.ndarray,
                    half_outer: float, half_inner: float) -> tuple[np.ndarray, np.ndarray]:
    """``(weight, t)``, ``float64`` like ``xs`` / ``ys`` (pixel centres, broadcast): ``t`` the
    place of each pixel's projection on the line ``outer`` -> ``inner`` (0 at ``outer``, 1 at
    ``inner``, unclipped), ``weight`` the band's cross-section times its fade along the line:
    ``clip(half + 0.5 - d, 0, 1)`` for ``d`` the distance to the segment and ``half`` the half
    width at the nearest point of it (``half_outer + (half_inner - half_outer) clip(t, 0, 1)``: a
    wedge, a one-pixel edge, a round cap past ``inner``), times ``smoothstep((t - _START) / (_FULL - _START))``, 0 for
    ``t < 0`` (nothing before the outer corner)."""
    o = np.asarray(outer, dtype=np.float64)
    axis = np.asarray(inner, dtype=np.float64) - o
    length2 = float(axis @ axis)
    dx, dy = xs - o[0], ys - o[1]
    t = (dx * axis[0] + dy * axis[1]) / length2
    tc = np.clip(t, 0.0, 1.0)
    d = np.hypot(dx - tc * axis[0], dy - tc * axis[1])
    half = half_outer + (half_inner - half_outer) * tc
    across = np.clip(half + 0.5 - d, 0.0, 1.0)
    along = smoothstep((t - _START) / (_FULL - _START))
    return np.where(t < 0.0, 0.0, across * along), t


def bin_gains(lum: np.ndarray, t: np.ndarray, full: np.ndarray, lip_lum: float,
              goal: float | None = None) -> np.ndarray:
    """``(len(_CENTRES),) float64``: each bin's gain (:func:`junction_gain` of the mean of ``lum``
    over the pixels ``full`` whose ``t`` lies within ``_BIN / 2`` of the bin's centre, over
    ``lip_lum``; ``nan`` for a bin with fewer than ``_MIN_PIXELS``: its gain is interpolated from
    the others'). ``lum``, ``t``, ``full``: the same shape (linear luminance, place along the
    line, bool)."""
    out = np.full(len(_CENTRES), np.nan)
    for k, c in enumerate(_CENTRES):
        sel = full & (np.abs(t - c) <= _BIN / 2)
        if sel.sum() >= _MIN_PIXELS:
            out[k] = junction_gain(float(lum[sel].mean()) / lip_lum, goal)
    return out


def darken_junction(image: np.ndarray, lips: np.ndarray) -> int:
    """Darken both sides' lip junction of a smile in ``image`` **in place**; returns the pixels changed.

    ``image``: ``(H, W, 3) uint8`` RGB (the smile made, its opening painted); ``lips``: the new
    lips' ``(20, 2)`` landmarks 48-67 (x, y) in that frame. On each side, the lips' pixels (the
    outer outline filled less the inner, :func:`~pixelfes.mouth.colour.lip_ring`) get linear RGB
    times ``1 - weight (1 - gain(t))``: ``weight`` and ``t`` of :func:`junction_weight` with
    ``_HALF_OUTER`` / ``_HALF_INNER`` mouth widths (at least 1 px); ``gain(t)`` interpolated
    linearly (held flat past the ends) between the measured bins' :func:`bin_gains` at ``_CENTRES``
    (a side with none measured is left alone), measured
    on ``image`` before any change, on the side's pixels of weight 1 and the lips' median luminance.
    """
    check_rgb8(image)
    dst = lip_points(lips)
    width = float(np.linalg.norm(dst[6] - dst[0]))
    if not width > 0:
        return 0
    half_outer, half_inner = max(1.0, _HALF_OUTER * width), max(1.0, _HALF_INNER * width)
    h, w = image.shape[:2]
    pad = int(np.ceil(half_inner)) + 2
    x0, y0 = (int(v) for v in np.maximum(0, np.floor(dst.min(0)) - pad))
    x1, y1 = (int(v) for v in np.minimum((w, h), np.ceil(dst.max(0)) + pad + 1))
    if x1 <= x0 or y1 <= y0:
        return 0
    sub = image[y0:y1, x0:x1]
    ring = lip_ring(sub.shape, dst[:12] - (x0, y0), dst[12:] - (x0, y0)).astype(bool)
    if ring.sum() < 20:
        return 0
    lin = to_linear(sub)
    lum = lin @ LUMINANCE
    lip_lum = float(median(lum[ring]))
    if not lip_lum > 0:
        return 0
    xs = np.arange(x0, x1, dtype=np.float64)[None, :]
    ys = np.arange(y0, y1, dtype=np.float64)[:, None]
    factor = np.ones(sub.shape[:2], np.float64)
    for o, i in _SIDES:
        if not np.linalg.norm(dst[i] - dst[o]) > 0:
            continue
        weight, t = junction_weight(xs, ys, dst[o], dst[i], half_outer, half_inner)
        weight = np.where(ring, weight, 0.0)
        gains = bin_gains(lum, t, weight >= 1.0, lip_lum)
        ok = np.isfinite(gains)
        if ok.any():  # (a bin too small to measure takes its neighbours' gain)
            factor *= 1.0 - weight * (1.0 - np.interp(t, _CENTRES[ok], gains[ok]))
    rows, cols = np.nonzero(factor < 1.0)  # (only these: the round trip is not exact everywhere)
    if len(rows) == 0:
        return 0
    shaded = to_srgb(lin[rows, cols] * factor[rows, cols, None].astype(np.float32))
    changed = int(np.any(shaded != sub[rows, cols], axis=1).sum())
    sub[rows, cols] = shaded  # (sub is a view of image: written in place)
    return changed
