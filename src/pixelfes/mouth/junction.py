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

:func:`darken_crease` (v2, ``synthesize_face(junction="crease")``) instead follows the image's
own darkest line near the corner line (:func:`trace_crease`), deepens it only where it is already
darker than the lips either side (:func:`crease_extent`, :func:`crease_plan`) with a soft profile
whose width and darkness taper to nothing toward the outer corner (:func:`crease_factor`). Neither
is adopted (docs/mouth.md, "The lips' junction beyond the opening" and its "v2").
"""

from __future__ import annotations

import numpy as np

from .._nomask import median
from .checks import check_rgb8, lip_points
from .colour import LUMINANCE, lip_ring, to_linear, to_srgb
from .ramp import smoothstep

__all__ = ["bin_gains", "crease_extent", "crease_factor", "crease_plan", "darken_crease", "darken_junction",
           "junction_gain", "junction_weight", "trace_crease"]

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


# -- v2: the output's own crease, traced and deepened (``junction="crease"``) -----------------
#
# v1's straight wedge along the goal lips' line 48 -> 60 read as a "straight, flat, hard-edged dark
# bar pasted beyond the mouth corner" (blind A/B 2 of 14): the visible meeting line of the output
# lay 5-8 px off that line (042, 126), or the line fell on pixels lighter than the lips (173).
# v2 follows the image's own darkest line near the landmark line, deepens it only where it is
# already darker than the lips either side of it, with a soft profile across, a width and
# darkness tapering to nothing toward the outer corner, and stops where the crease fades.

#: the search band's half width either side of the line inner -> outer corner, mouth widths (>= 3 px)
_BAND = 0.05
#: the flanks (the lips around the crease) sampled this far either side of it, mouth widths (>= 2 px)
_FLANK = 0.02
_OFFSET_STEP = 0.5  # px between the trace's candidate offsets across the line
_JUMP = 1  # the trace moves at most this many offset steps per 1 px step along the line
_BEND = 0.15  # the trace's cost of moving across, per px, in units of the lips' median luminance
_SMOOTH = 2.0  # px: the trace's offset and contrast smoothed along the line (Gaussian sigma)
#: the crease's contrast ``1 - centre / min(darker flank, lips' median)``: present from ``_C0``,
#: whole at ``_C1``
_C0, _C1 = 0.12, 0.30
#: the crease's contrast deepened to ``min(_DEEPEN c, _CMAX)`` (never lightened): the real smiles'
#: junction creases on the dev people traced the same way hold 0-0.62 over the inner 60 % of the
#: way (mean 0.27), the native outputs' 0-0.55 (mean 0.18)
_DEEPEN, _CMAX = 2.0, 0.55
#: the profile's sigma across the crease: ``_SIGMA_IN`` mouth widths (>= 1 px) where it is whole,
#: tapering to ``_SIGMA_OUT`` px at its outer end over ``_TAPER`` mouth widths (>= 4 px)
_SIGMA_IN, _SIGMA_OUT, _TAPER = 0.008, 0.4, 0.06
_T_FIRST = 0.0  # the trace starts this share of the way out from the inner corner
_ANCHOR = 1.0  # px: the trace's reach across the line at the inner corner


def _gauss1d(v: np.ndarray, sigma: float) -> np.ndarray:
    """``v`` smoothed by a Gaussian of ``sigma`` samples (edges reflected)."""
    r = int(np.ceil(3 * sigma))
    if r < 1 or len(v) < 2:
        return v.astype(np.float64)
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    pad = np.pad(v.astype(np.float64), r, mode="reflect" if len(v) > r else "edge")
    return np.convolve(pad, k / k.sum(), mode="valid")


def _bilinear(img: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``img`` (2-D) at the points ``x``, ``y`` (pixel centres at integers), bilinear, edges held."""
    h, w = img.shape
    x = np.clip(x, 0, w - 1)
    y = np.clip(y, 0, h - 1)
    x0 = np.minimum(np.floor(x).astype(int), w - 2) if w > 1 else np.zeros_like(x, int)
    y0 = np.minimum(np.floor(y).astype(int), h - 2) if h > 1 else np.zeros_like(y, int)
    fx, fy = x - x0, y - y0
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    return ((1 - fy) * ((1 - fx) * img[y0, x0] + fx * img[y0, x1])
            + fy * ((1 - fx) * img[y1, x0] + fx * img[y1, x1]))


def trace_crease(lum: np.ndarray, outer: np.ndarray, inner: np.ndarray, width: float,
                 lip_lum: float) -> dict[str, np.ndarray]:
    """The darkest line near the segment ``inner`` -> ``outer`` of ``lum`` (``(H, W)`` float, linear
    luminance, already smoothed), stepped 1 px along it from ``_T_FIRST`` of the way out.

    At each step ``s`` (px from ``inner``) the candidate offsets ``u`` across it (``_OFFSET_STEP``
    apart, within ``_BAND`` mouth widths) are scored by their luminance over ``lip_lum``; the
    path of least total score plus ``_BEND`` per px moved across (at most ``_JUMP`` steps a step)
    is found by dynamic programming, then smoothed (``_SMOOTH``). Returns ``s``, ``off`` (the
    smoothed offsets, px, along the normal ``(-a_y, a_x)`` of the unit axis ``a``), ``centre``
    (luminance on the trace), ``contrast`` (``1 - centre / min(flanks, lip_lum)``, the flanks ``_FLANK``
    mouth widths either side, smoothed), ``axis`` and ``normal``."""
    o, i = np.asarray(outer, np.float64), np.asarray(inner, np.float64)
    length = float(np.linalg.norm(o - i))
    a = (o - i) / length
    n = np.array([-a[1], a[0]])
    s = np.arange(_T_FIRST * length, length + 1e-9, 1.0)
    half = max(3.0, _BAND * width)
    u = np.arange(-np.floor(half / _OFFSET_STEP), np.floor(half / _OFFSET_STEP) + 1) * _OFFSET_STEP
    px = i[0] + s[:, None] * a[0] + u[None, :] * n[0]
    py = i[1] + s[:, None] * a[1] + u[None, :] * n[1]
    score = _bilinear(lum, px, py) / lip_lum
    # anchored at the inner corner (the opening's end, painted on these lips): the band widens
    # from ``_ANCHOR`` px there to its whole half width at the outer corner
    reach = _ANCHOR + (half - _ANCHOR) * s / length
    score = np.where(np.abs(u)[None, :] <= reach[:, None] + 1e-9, score, np.inf)
    cost = score[0].copy()
    back = np.zeros(score.shape, int)
    cols = np.arange(len(u))
    for k in range(1, len(s)):
        best = np.full(len(u), np.inf)
        arg = cols.copy()
        for dj in range(-_JUMP, _JUMP + 1):
            src = cols + dj
            ok = (src >= 0) & (src < len(u))
            c = np.full(len(u), np.inf)
            c[ok] = cost[src[ok]] + _BEND * abs(dj) * _OFFSET_STEP
            better = c < best
            best[better], arg[better] = c[better], src[better]
        cost = best + score[k]
        back[k] = arg
    path = np.zeros(len(s), int)
    path[-1] = int(np.argmin(cost))
    for k in range(len(s) - 1, 0, -1):
        path[k - 1] = back[k, path[k]]
    off = _gauss1d(u[path], _SMOOTH)
    flank = max(2.0, _FLANK * width)

    def at(d: np.ndarray) -> np.ndarray:
        return _bilinear(lum, i[0] + s * a[0] + d * n[0], i[1] + s * a[1] + d * n[1])
    centre = at(off)
    # (the lips' median too: where the lips narrow to their outer tip the flanks fall on lighter
    # skin, and the lip tip itself is no crease)
    flanks = np.minimum(np.minimum(at(off - flank), at(off + flank)), lip_lum)
    contrast = _gauss1d(1.0 - centre / np.maximum(flanks, 1e-6), _SMOOTH)
    return {"s": s, "off": off, "centre": centre, "contrast": contrast, "axis": a, "normal": n}


def crease_extent(contrast: np.ndarray) -> tuple[int, int]:
    """``(first, stop)``: the run of steps whose ``contrast`` is at least ``_C0`` that starts
    nearest the inner corner (within the first third of the steps), ``(0, 0)`` if none: the
    crease is deepened only there, and ends where it fades."""
    on = contrast >= _C0
    lead = max(1, len(on) // 3)
    starts = np.nonzero(on[:lead])[0]
    if len(starts) == 0:
        return 0, 0
    first = int(starts[0])
    off = np.nonzero(~on[first:])[0]
    return first, first + (int(off[0]) if len(off) else len(on) - first)


def crease_plan(trace: dict[str, np.ndarray], width: float) -> dict[str, np.ndarray]:
    """Per step of ``trace``: ``loss`` (``1 - gain`` at the crease's centre: 0 off its extent) and
    ``sigma`` (px, the profile across). The gain deepens the contrast ``c`` to ``min(_DEEPEN c,
    _CMAX)`` (``(1 - c') / (1 - c)``, never above 1),
    weighted by the crease's presence (``smoothstep((c - _C0) / (_C1 - _C0))``) and its taper:
    ``smoothstep`` over the last ``_TAPER`` mouth widths (>= 4 px) before its outer end and over
    3 px after its inner start."""
    c = trace["contrast"]
    k = np.arange(len(c), dtype=np.float64)
    first, stop = crease_extent(c)
    loss = np.zeros(len(c))
    sigma = np.full(len(c), _SIGMA_OUT)
    if stop <= first:
        return {"loss": loss, "sigma": sigma}
    taper_px = max(4.0, _TAPER * width)
    taper = smoothstep((stop - 1 - k) / taper_px) * smoothstep((k - first + 1) / 3.0)
    taper = np.where((k >= first) & (k < stop), taper, 0.0)
    cc = np.clip(c, 0.0, 0.99)
    gain = np.minimum((1.0 - np.minimum(_DEEPEN * cc, _CMAX)) / (1.0 - cc), 1.0)
    presence = smoothstep((c - _C0) / (_C1 - _C0))
    loss = taper * presence * (1.0 - gain)
    sigma = _SIGMA_OUT + (max(1.0, _SIGMA_IN * width) - _SIGMA_OUT) * taper
    return {"loss": loss, "sigma": sigma}


def crease_factor(xs: np.ndarray, ys: np.ndarray, inner: np.ndarray, trace: dict[str, np.ndarray],
                  plan: dict[str, np.ndarray]) -> np.ndarray:
    """The multiplier of linear RGB at the pixel centres ``xs``, ``ys`` (broadcast): ``1 - loss
    exp(-d^2 / (2 sigma^2))`` within ``3 sigma`` of the trace (``d`` the pixel's offset across the
    axis less the trace's there; ``loss``, ``sigma`` and the trace's offset interpolated at the
    pixel's place along it), 1 elsewhere and off the trace's steps."""
    a, n = trace["axis"], trace["normal"]
    dx, dy = xs - inner[0], ys - inner[1]
    s = dx * a[0] + dy * a[1]
    u = dx * n[0] + dy * n[1]
    st = trace["s"]
    loss = np.interp(s, st, plan["loss"], left=0.0, right=0.0)
    sig = np.interp(s, st, plan["sigma"])
    d = u - np.interp(s, st, trace["off"])
    prof = np.where(np.abs(d) <= 3 * sig, np.exp(-0.5 * (d / sig) ** 2), 0.0)
    return 1.0 - loss * prof


def darken_crease(image: np.ndarray, lips: np.ndarray, info: list | None = None) -> int:
    """Deepen both sides' own lip-junction crease of a smile in ``image`` **in place**; returns the
    pixels changed (v2 of :func:`darken_junction`).

    ``image``: ``(H, W, 3) uint8`` RGB (the smile made); ``lips``: its ``(20, 2)`` landmarks 48-67.
    On each side :func:`trace_crease` follows the darkest line near inner -> outer corner (on the
    linear luminance smoothed by a Gaussian of 1 px), :func:`crease_plan` sets how much and how
    wide to deepen it, and :func:`crease_factor` multiplies linear RGB; the opening (the inner
    outline filled) is never changed. ``info``: if given, each side's ``(trace, plan)`` is appended.
    """
    import cv2

    check_rgb8(image)
    dst = lip_points(lips)
    width = float(np.linalg.norm(dst[6] - dst[0]))
    if not width > 0:
        return 0
    h, w = image.shape[:2]
    pad = int(np.ceil(max(3.0, _BAND * width) + max(2.0, _FLANK * width) + 3 * max(1.0, _SIGMA_IN * width))) + 3
    x0, y0 = (int(v) for v in np.maximum(0, np.floor(dst.min(0)) - pad))
    x1, y1 = (int(v) for v in np.minimum((w, h), np.ceil(dst.max(0)) + pad + 1))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return 0
    sub = image[y0:y1, x0:x1]
    local = dst - (x0, y0)
    ring = lip_ring(sub.shape, local[:12], local[12:]).astype(bool)
    if ring.sum() < 20:
        return 0
    lin = to_linear(sub)
    lum = (lin @ LUMINANCE).astype(np.float64)
    lip_lum = float(np.median(lum[ring]))
    if not lip_lum > 0:
        return 0
    smooth = cv2.GaussianBlur(lum, (0, 0), 1.0, borderType=cv2.BORDER_REFLECT)
    opening = np.zeros(sub.shape[:2], np.uint8)
    cv2.fillPoly(opening, [np.rint(local[12:] * 16).astype(np.int32)], 1, shift=4)
    xs = np.arange(sub.shape[1], dtype=np.float64)[None, :]
    ys = np.arange(sub.shape[0], dtype=np.float64)[:, None]
    factor = np.ones(sub.shape[:2], np.float64)
    for o, i in _SIDES:
        if not np.linalg.norm(local[i] - local[o]) >= 2.0:
            continue
        trace = trace_crease(smooth, local[o], local[i], width, lip_lum)
        plan = crease_plan(trace, width)
        if info is not None:
            info.append((trace, plan))
        factor *= crease_factor(xs, ys, local[i], trace, plan)
    factor[opening.astype(bool)] = 1.0
    rows, cols = np.nonzero(factor < 1.0)
    if len(rows) == 0:
        return 0
    shaded = to_srgb(lin[rows, cols] * factor[rows, cols, None].astype(np.float32))
    changed = int(np.any(shaded != sub[rows, cols], axis=1).sum())
    sub[rows, cols] = shaded
    return changed
