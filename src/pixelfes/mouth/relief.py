"""The closed lips' broad relief (volume, vertical creases), measured on real closed lips.

A closing smile's lips keep their own fine texture (:func:`pixelfes.mouth.close.lip_grain`) but
come out with flat broad shading: "smooth, matte, painted" to blind raters. A real relaxed lip has a
lighter lower-lip centre, a darker upper lip and faint vertical creases. :func:`relief_map` measures
that shading on a photo of closed lips: each lip's L*, low-passed within the lip (no pixel noise),
over the lips' median L*, minus one, soft-limited (no specular spikes), sampled in a *lip frame*
(``u`` 0..1 from corner 48 to corner 54 in the mouth frame, ``v`` 0..1 from the lip's outer outline
to its inner line), so it can be laid on any lips. :func:`draw_relief` brings a closed mouth's own
broad shading to such a map, relative to its own lip L*: the same relative relief on every skin tone.
"""

from __future__ import annotations

import cv2
import numpy as np

from .._nomask import median
from ..mouth_regions import masked_pixels, outline_y
from .colour import lab, lab_to_srgb

__all__ = ["GRID", "TINT_GRID", "broad", "pack", "unpack", "pack_tint", "unpack_tint", "lip_curves", "lip_uv",
           "relief_map", "tint_map", "relief_layer", "draw_relief"]

#: (v rows, u columns) of a lip's map: 1/128 of the mouth width along it, for the vertical creases
#: (0.02-0.04 mouth widths apart on the London neutral photos)
GRID = (12, 128)
#: (v rows, u columns) of a lip's a*, b* map (:func:`tint_map`): its broad part only (the
#: :func:`broad` low-pass of a :data:`GRID` map, then 8 columns averaged into one), 1/16 of the bank
TINT_GRID = (12, 16)
#: a*, b* units: the tint relief is soft-limited (tanh) to this (the bank's 82 real closed lips:
#: the broad a*/b* differences from the lips' median reach about 10 at the most, 3-6 in a lower-lip centre)
_TINT_CAP = 16.0
#: the low-pass of the lips' L* the relief is made of: a Gaussian of this many mouth widths across
#: the mouth (x) and down it (y): the vertical creases are long and thin, so the pixel noise is
#: taken out along them, not across
_SIGMA = (0.004, 0.02)
#: the lips' L* is clipped at this share above their median before the low-pass (a specular spike
#: spread by the low-pass would read as a lit patch)
_SPIKE = 0.5
#: mouth widths of the lip pixels next to the outline (skin, the soft edge) the low-pass does not read
_EDGE = 0.012
#: the relative relief is soft-limited (tanh) to these: a lip's sheen, not its specular peaks
#: (the light cap is above the spike clip's 0.5 low-passed: it only bends the brightest real sheens;
#: the bank's black lower-lip centres are +0.46 of the lip L* before it, white ones +0.19; at 0.3 it
#: held the dark ones to +0.27, docs/mouth.md "lipbank v2")
_LIGHT_CAP = 0.6
_DARK_CAP = 0.4
#: (u, v) grid cells of the Gaussian that keeps a map's broad shading (:func:`broad`): about 0.06
#: mouth widths along the lip, a third of its thickness across: the volume, not the creases
_BROAD = (8.0, 2.0)
#: v (0 outline .. 1 inner line) over which the change fades in from the outer outline, and
#: fades out towards the meeting line (the crease's rows, :mod:`.crease`)
_FADE_OUT = 0.25
_FADE_LINE = 0.3
#: mouth widths: the closed lips' own broad shading taken out is their low-pass at this Gaussian
#: (about the bank maps' :func:`broad`): their finer texture (the 1:1 grain and more) stays
_OWN_SIGMA = 0.04
#: share of the closed lips' own broad shading (their low-pass minus their median) taken out where
#: the relief is laid (1: replaced by the bank's; 0: the relief added on top)
_REPLACE = 1.0
#: the same for the lips' own broad a*, b* where a tint relief is laid (:func:`draw_relief`)
_REPLACE_TINT = 1.0
#: u (0..1 along the mouth) over which it fades in from each corner
_FADE_CORNER = 0.12

_UPPER_OUTER = [0, 1, 2, 3, 4, 5, 6]
_UPPER_INNER = [0, 12, 13, 14, 15, 16, 6]
_LOWER_OUTER = [6, 7, 8, 9, 10, 11, 0]
_LOWER_INNER = [0, 12, 19, 18, 17, 16, 6]


def _frame(lips: np.ndarray) -> np.ndarray:
    """``(2, 3)`` similarity into the mouth frame (corners 48, 54 at ``(-0.5, 0)``, ``(0.5, 0)``)."""
    from .fill import mouth_frame

    return mouth_frame(lips)


def lip_curves(frame_lips: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """At mouth-frame columns ``xs``: the upper lip's outer and inner line, the lower lip's outer
    and inner line (``frame_lips`` ``(20, 2)`` in the mouth frame); each ``xs.shape``."""
    p = np.asarray(frame_lips, dtype=np.float64)
    return (outline_y(p[_UPPER_OUTER], xs), outline_y(p[_UPPER_INNER], xs),
            outline_y(p[_LOWER_OUTER], xs), outline_y(p[_LOWER_INNER], xs))


#: the last :func:`lip_uv` asked for: ``(key, arrays)``, the key the shape and the lips' bytes, the
#: arrays read only. Closing a smile asks twice for the same region's frame, the relief
#: (:func:`draw_relief`) and then the red wedge's calming (:func:`pixelfes.mouth.wedge.calm_line`):
#: ~1 ms a closing. One entry, replaced whole (threads see an old or a new pair, both right)
_UV_LAST: list[tuple[tuple[object, ...], tuple[np.ndarray, np.ndarray, np.ndarray]] | None] = [None]


#: frame units (mouth widths) past the lip points' y range still searched for lip pixels
#: (:func:`_lip_uv`): the lines' interpolation rounds by ~1e-16
_UV_SLACK = 1e-6


def lip_uv(shape: tuple[int, ...], lips: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lip frame coordinates of every pixel of an image ``shape`` with lips ``(20, 2)`` (48-67):
    ``(u, v, which)``, ``(H, W) float64`` and ``(H, W) int8`` (0 upper lip, 1 lower, -1 neither),
    read only.

    ``u = x_f + 0.5`` (``x_f`` the pixel centre's mouth-frame x); ``v`` from 0 at the lip's outer
    line to 1 at its inner line, read column by column in the mouth frame; a pixel is in a lip
    where ``0 <= u <= 1`` and ``0 <= v <= 1`` (upper lip first where they overlap). The same shape
    and lips as the call before (byte for byte) give that call's arrays (:data:`_UV_LAST`)."""
    pts = np.ascontiguousarray(lips, dtype=np.float64)
    key = (tuple(int(n) for n in shape[:2]), pts.shape, pts.tobytes())
    last = _UV_LAST[0]
    if last is not None and last[0] == key:
        return last[1]
    got = _lip_uv(shape, pts)
    for a in got:
        a.flags.writeable = False
    _UV_LAST[0] = (key, got)
    return got


def _lip_uv(shape: tuple[int, ...], lips: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`lip_uv` made afresh (no memo)."""
    h, w = shape[:2]
    m = _frame(lips)
    # (a row and a column broadcast: the same sums, pixel by pixel, as over a grid of both)
    xx, yy = np.arange(w, dtype=np.float64)[None], np.arange(h, dtype=np.float64)[:, None]
    xf = m[0, 0] * xx + m[0, 1] * yy + m[0, 2]
    yf = m[1, 0] * xx + m[1, 1] * yy + m[1, 2]
    f = np.asarray(lips, dtype=np.float64) @ m[:, :2].T + m[:, 2]
    u = xf + 0.5
    # (the four lines are read only where a lip can be: 0 <= u <= 1 and the frame's y within the lip
    # points' range, which their linear interpolation cannot leave (1e-6 for its rounding); ~60 % of
    # the box: the same values there, pixel by pixel, and no lip outside)
    lo_y, hi_y = float(f[:, 1].min()) - _UV_SLACK, float(f[:, 1].max()) + _UV_SLACK
    at = np.flatnonzero((u >= 0) & (u <= 1) & (yf >= lo_y) & (yf <= hi_y))
    xa, ya = xf.ravel()[at], yf.ravel()[at]
    uo, ui, lo, li = lip_curves(f, xa)
    with np.errstate(divide="ignore", invalid="ignore"):
        vu = (ya - uo) / (ui - uo)
        vl = (lo - ya) / (lo - li)
    up = (ui - uo > 1e-9) & (vu >= 0) & (vu <= 1)
    low = ~up & (lo - li > 1e-9) & (vl >= 0) & (vl <= 1)
    which = np.full((h, w), -1, np.int8)
    which.ravel()[at[low]] = 1
    which.ravel()[at[up]] = 0
    v = np.zeros((h, w))
    v.ravel()[at] = np.nan_to_num(np.where(up, vu, np.where(low, vl, 0.0)))
    return u, v, which


def _grid_points(frame_lips: np.ndarray) -> np.ndarray:
    """``(2, V, U, 2)`` mouth-frame points of each lip's grid cells' centres."""
    nv, nu = GRID
    u = (np.arange(nu) + 0.5) / nu
    v = (np.arange(nv) + 0.5) / nv
    xs = u - 0.5
    uo, ui, lo, li = lip_curves(frame_lips, xs)
    upper = uo[None] + v[:, None] * (ui - uo)[None]
    lower = lo[None] + v[:, None] * (li - lo)[None]
    x = np.broadcast_to(xs[None], (nv, nu))
    return np.stack([np.dstack([x, upper]), np.dstack([x, lower])])


def _soft(rel: np.ndarray) -> np.ndarray:
    cap = np.where(rel > 0, _LIGHT_CAP, _DARK_CAP)
    return np.asarray(cap * np.tanh(rel / cap))


def _lip_masks(shape: tuple[int, ...], lips: np.ndarray, width: float,
               uv: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Upper and lower lip pixels clear of the outline (``_EDGE``), and both lips (for the median);
    ``uv``: :func:`lip_uv`'s, if already made."""
    _, v, which = lip_uv(shape, lips) if uv is None else uv
    outer = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(outer, [np.rint(np.asarray(lips[:12]) * 16).astype(np.int32)], 1, shift=4)
    k = max(1, int(round(_EDGE * width)))
    clear = cv2.erode(outer, np.ones((2 * k + 1, 2 * k + 1), np.uint8)) > 0
    inner = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(inner, [np.rint(np.asarray(lips[12:20]) * 16).astype(np.int32)], 1, shift=4)
    clear &= inner == 0
    return clear & (which == 0), clear & (which == 1), clear


def _lowpass(light: np.ndarray, use: np.ndarray, sigma: float, sigma_y: float | None = None) -> np.ndarray:
    """Normalised Gaussian (``sigma`` px across, ``sigma_y`` down, default the same) of ``light``
    over the ``use`` pixels (``nan`` where none is near)."""
    wt = use.astype(np.float32)
    sy = sigma if sigma_y is None else sigma_y
    num = cv2.GaussianBlur(light.astype(np.float32) * wt, (0, 0), sigma, sigmaY=sy, borderType=cv2.BORDER_CONSTANT)
    den = cv2.GaussianBlur(wt, (0, 0), sigma, sigmaY=sy, borderType=cv2.BORDER_CONSTANT)
    return np.where(den > 1e-3, num / np.maximum(den, 1e-6), np.nan).astype(np.float32)


def _lips_box(shape: tuple[int, ...], landmarks: np.ndarray
              ) -> tuple[tuple[slice, slice], np.ndarray, float] | None:
    """The lips' box in an image of ``shape`` (padded by 4 px + 5 % of the mouth width), the lips'
    landmarks 48-67 in it and the mouth width; ``None`` when the box or the mouth is under 4 px."""
    lips = np.asarray(landmarks, dtype=np.float64)[48:68]
    width = float(np.linalg.norm(lips[6] - lips[0]))
    pad = 4 + int(0.05 * width)
    h, w = shape[:2]
    x0, y0 = np.maximum(np.floor(lips.min(0)).astype(int) - pad, 0)
    x1, y1 = np.minimum(np.ceil(lips.max(0)).astype(int) + pad + 1, (w, h))
    if x1 - x0 < 4 or y1 - y0 < 4 or width < 4:
        return None
    return (slice(int(y0), int(y1)), slice(int(x0), int(x1))), lips - (x0, y0), width


def relief_map(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """``(2, V, U) float32`` relief of the (closed) lips of ``rgb`` (``(H, W, 3) uint8``, landmarks
    ``(68, 2)``): per lip (upper, lower), its L* (clipped at ``_SPIKE`` above the median) low-passed
    within the lip (``_SIGMA``, the outline's ``_EDGE`` left out) over the lips' median L*, minus one, soft-limited (``_LIGHT_CAP``,
    ``_DARK_CAP``), at the lip frame's grid (:data:`GRID`). ``nan`` when the lips have no pixels."""
    out = np.full((2,) + GRID, np.nan, np.float32)
    found = _lips_box(rgb.shape, landmarks)
    if found is None:
        return out
    box, local, width = found
    light = lab(rgb[box])[..., 0]
    up, low, both = _lip_masks(light.shape, local, width)
    if not both.any():
        return out
    med = float(median(light[both]))
    if med <= 1.0:
        return out
    m = _frame(local)
    inv = cv2.invertAffineTransform(m)
    pts = _grid_points(local @ m[:, :2].T + m[:, 2])
    sx, sy = (max(0.7, s * width) for s in _SIGMA)
    light = np.minimum(light, med * (1.0 + _SPIKE))
    for j, use in enumerate((up, low)):
        if not use.any():
            continue
        smooth = _lowpass(light, use, sx, sy)
        px = pts[j] @ inv[:, :2].T + inv[:, 2]
        s = cv2.remap(smooth, px[..., 0].astype(np.float32), px[..., 1].astype(np.float32), cv2.INTER_LINEAR,
                      borderMode=cv2.BORDER_CONSTANT, borderValue=np.nan)
        out[j] = _soft(s / med - 1.0)
    return out


def tint_map(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """``(2, 2, V, U) float32`` broad a*, b* relief of the (closed) lips of ``rgb`` (channel, lip,
    :data:`TINT_GRID`): per lip, its a* and b* low-passed within the lip as :func:`relief_map`'s L*
    (the specular pixels, L* above ``_SPIKE`` over the median, left out: they are grey) minus the
    lips' median a*, b* (absolute units), its :func:`broad` part, 8 columns averaged into one,
    soft-limited (``_TINT_CAP``). All ``nan`` when the lips have no pixels."""
    out = np.full((2, 2) + TINT_GRID, np.nan, np.float32)
    found = _lips_box(rgb.shape, landmarks)
    if found is None:
        return out
    box, local, width = found
    c = lab(rgb[box])
    up, low, both = _lip_masks(c.shape, local, width)
    if not both.any():
        return out
    med = float(median(c[..., 0][both]))
    if med <= 1.0:
        return out
    lit = c[..., 0] <= med * (1.0 + _SPIKE)
    m = _frame(local)
    inv = cv2.invertAffineTransform(m)
    pts = _grid_points(local @ m[:, :2].T + m[:, 2])
    sx, sy = (max(0.7, s * width) for s in _SIGMA)
    fine = np.full((2, 2) + GRID, np.nan, np.float32)
    for ch in (0, 1):
        chan = c[..., 1 + ch]
        centre = float(median(chan[both & lit])) if (both & lit).any() else float(median(chan[both]))
        for j, use in enumerate((up, low)):
            use = use & lit
            if not use.any():
                continue
            smooth = _lowpass(chan, use, sx, sy)
            px = pts[j] @ inv[:, :2].T + inv[:, 2]
            fine[ch, j] = cv2.remap(smooth, px[..., 0].astype(np.float32), px[..., 1].astype(np.float32),
                                    cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=np.nan) - centre
    if not np.isfinite(fine).any():
        return out
    k = GRID[1] // TINT_GRID[1]
    soft = broad(fine).reshape((2, 2, GRID[0], TINT_GRID[1], k)).mean(axis=-1)
    return np.asarray(_TINT_CAP * np.tanh(soft / _TINT_CAP), dtype=np.float32)


def pack_tint(maps: np.ndarray) -> np.ndarray:
    """Tint maps (:func:`tint_map`) as ``uint8``: ``-_TINT_CAP .. _TINT_CAP`` in 254 steps (0.126 a*
    units), 255 for ``nan``."""
    a = np.asarray(maps, dtype=np.float64)
    code = np.rint((np.clip(a, -_TINT_CAP, _TINT_CAP) + _TINT_CAP) / (2 * _TINT_CAP) * 254.0)
    return np.where(np.isfinite(a), np.nan_to_num(code), 255).astype(np.uint8)


def unpack_tint(codes: np.ndarray) -> np.ndarray:
    """:func:`pack_tint`'s inverse, ``float32``."""
    c = np.asarray(codes)
    val = c.astype(np.float64) / 254.0 * (2 * _TINT_CAP) - _TINT_CAP
    return np.where(c == 255, np.nan, val).astype(np.float32)


def pack(maps: np.ndarray) -> np.ndarray:
    """Relief maps as ``uint8`` (what the bank stores): ``-_DARK_CAP .. _LIGHT_CAP`` in 254 steps
    (0.0039 of the lip L*), 255 for ``nan``."""
    a = np.asarray(maps, dtype=np.float64)
    code = np.rint((np.clip(a, -_DARK_CAP, _LIGHT_CAP) + _DARK_CAP) / (_LIGHT_CAP + _DARK_CAP) * 254.0)
    return np.where(np.isfinite(a), np.nan_to_num(code), 255).astype(np.uint8)


def unpack(codes: np.ndarray) -> np.ndarray:
    """:func:`pack`'s inverse, ``float32``."""
    c = np.asarray(codes)
    val = c.astype(np.float64) / 254.0 * (_LIGHT_CAP + _DARK_CAP) - _DARK_CAP
    return np.where(c == 255, np.nan, val).astype(np.float32)


def _fill_nan(grid: np.ndarray) -> np.ndarray:
    """``grid`` ``(V, U)`` with ``nan`` cells set to their row's mean (0 for an empty row)."""
    g = np.array(grid, dtype=np.float64)
    bad = ~np.isfinite(g)
    if bad.any():
        with np.errstate(invalid="ignore"), __import__("warnings").catch_warnings():
            __import__("warnings").simplefilter("ignore", RuntimeWarning)
            rows = np.nanmean(g, axis=1, keepdims=True)
        g = np.where(bad, np.nan_to_num(np.broadcast_to(rows, g.shape)), g)
    return g


def broad(maps: np.ndarray) -> np.ndarray:
    """``maps`` (``(..., 2, V, U)``) with only their broad shading: a Gaussian of ``_BROAD`` grid
    cells (u, v) of each lip's map, its ``nan`` cells first set to their row's mean."""
    a = np.asarray(maps, dtype=np.float64)
    flat = a.reshape((-1,) + GRID)
    out = np.stack([cv2.GaussianBlur(_fill_nan(g).astype(np.float32), (0, 0), _BROAD[0], sigmaY=_BROAD[1],
                                     borderType=cv2.BORDER_REPLICATE) for g in flat])
    return out.reshape(a.shape).astype(np.float64)


def _read_grid(grid: np.ndarray, u: np.ndarray, v: np.ndarray, which: np.ndarray) -> np.ndarray:
    """A lip map ``grid`` ``(..., 2, V, U)`` (any grid; leading axes e.g. a*, b*) at lip-frame points
    ``(u, v)`` of lip ``which`` (each ``(K,)``): bilinear between cell centres, held at the edges,
    ``nan`` cells first set to their row's mean; ``(..., K) float64``."""
    nv, nu = grid.shape[-2:]
    gx = np.clip(u * nu - 0.5, 0, nu - 1)
    gy = np.clip(v * nv - 0.5, 0, nv - 1)
    x0 = np.minimum(np.floor(gx).astype(np.intp), nu - 2)
    y0 = np.minimum(np.floor(gy).astype(np.intp), nv - 2)
    fx, fy = gx - x0, gy - y0
    flat = np.asarray(grid, dtype=np.float64).reshape((-1, nv, nu))
    g = np.stack([_fill_nan(m) for m in flat]).reshape(grid.shape[:-3] + (-1,))  # (..., 2 V U)
    at = (which.astype(np.intp) * nv + y0) * nu + x0  # (flat cell indices: take is cheaper than a 3-index gather)
    # (bilinear in float64: cv2.remap's weights are quantised to 1/32)
    top = g.take(at, axis=-1) * (1 - fx) + g.take(at + 1, axis=-1) * fx
    bot = g.take(at + nu, axis=-1) * (1 - fx) + g.take(at + nu + 1, axis=-1) * fx
    return np.asarray(top * (1 - fy) + bot * fy)


def relief_layer(shape: tuple[int, ...], lips: np.ndarray, goal: np.ndarray,
                 uv: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(rel, weight)``, ``(H, W) float32``: the map ``goal`` ``(2, V, U)`` read at every pixel's lip
    frame coordinates (:func:`lip_uv`, bilinear between cell centres, held at the edges) and the
    weight the change gets there: faded in from the outer outline (``_FADE_OUT``), out towards the
    meeting line (``_FADE_LINE``) and at the corners (``_FADE_CORNER``); 0 outside the lips.
    ``uv``: :func:`lip_uv`'s, if already made."""
    u, v, which = lip_uv(shape, lips) if uv is None else uv
    rel = np.zeros(shape[:2], np.float32)
    at = which >= 0
    idx = np.flatnonzero(at)  # (the lips' pixels: the map and the ramp are worked out there only)
    ua, va = u.ravel()[idx], v.ravel()[idx]
    rel.ravel()[idx] = _read_grid(goal, ua, va, which.ravel()[idx])
    ramp = np.clip(va / _FADE_OUT, 0, 1) * np.clip((1.0 - va) / _FADE_LINE, 0, 1) \
        * np.clip(np.minimum(ua, 1.0 - ua) / _FADE_CORNER, 0, 1)
    weight = np.zeros(shape[:2], np.float32)
    weight.ravel()[idx] = (ramp * ramp * (3 - 2 * ramp)).astype(np.float32)
    return rel, weight


def draw_relief(region: np.ndarray, local: np.ndarray, goal: np.ndarray, gain: float = 1.0,
                tint: np.ndarray | None = None) -> None:
    """Bring the broad shading of the closed lips in ``region`` (``uint8`` RGB, **in place**) to the
    relief ``goal`` (``(2, V, U)``, :func:`relief_map`): L* gains
    ``weight * (med * gain * rel - _REPLACE * (own - med))`` (:func:`relief_layer`'s ``rel`` and
    ``weight``), where ``own`` is each lip's own broad shading (its L* low-passed within the lip,
    a Gaussian of ``_OWN_SIGMA`` mouth widths) and ``med`` the lips' median L*: their finer
    texture is kept, the relief is relative to the person's own lip L*. ``tint`` (``(2, 2, V, U)``,
    :func:`tint_map`'s a*, b*): a* and b* are brought to it the same way, absolute (``weight * (tint -
    _REPLACE_TINT * (own - med))`` with the own a*, b* low-passed and their lips' median: real lips' broad
    colour differences, e.g. a redder lower-lip centre), else they are kept; pixels of no weight keep
    their bytes."""
    lips = np.asarray(local, dtype=np.float64)
    width = float(np.linalg.norm(lips[6] - lips[0]))
    if width < 4 or not np.isfinite(goal).any():
        return
    c = lab(region)
    light = c[..., 0]
    uv = lip_uv(light.shape, lips)
    up, low, both = _lip_masks(light.shape, lips, width, uv)
    if not both.any():
        return
    px = masked_pixels(c, both)  # (the lips' L*a*b*, gathered once for their medians)
    med = float(median(px[:, 0]))
    rel, weight = relief_layer(light.shape, lips, goal, uv)
    which = uv[2]
    sigma = max(0.7, _OWN_SIGMA * width)
    # (both lips' normalised low-passes in one 4-channel blur, only over the box of the weighted
    # pixels and the kernel's reach: the same sums, the lips' masks are zero outside it)
    w0, w1 = up.astype(np.float32), low.astype(np.float32)
    ys, xs = np.nonzero((weight > 0) | both)
    reach = int(np.ceil(4 * sigma)) + 2
    box = np.s_[max(int(ys.min()) - reach, 0):int(ys.max()) + reach + 1,
                max(int(xs.min()) - reach, 0):int(xs.max()) + reach + 1]
    at = np.flatnonzero(weight > 0)
    if at.size == 0:
        return
    lb, b0, b1 = light[box], w0[box], w1[box]
    # (the low-passes are read at the weighted pixels only: the same values, no whole-box planes)
    yy, xx = np.divmod(at, light.shape[1])
    iy, ix = yy - box[0].start, xx - box[1].start
    low_l = cv2.GaussianBlur(np.dstack([lb * b0, b0, lb * b1, b1]), (0, 0), sigma,
                             borderType=cv2.BORDER_CONSTANT)[iy, ix]  # (K, 4)
    wa = which.ravel()[at]
    low_at = wa == 1
    num_at, den_at = np.where(wa == 0, low_l[:, 0], low_l[:, 2]), np.where(wa == 0, low_l[:, 1], low_l[:, 3])
    own = np.where((wa >= 0) & (den_at > 1e-3), num_at / np.maximum(den_at, 1e-6), med).astype(np.float32)
    sub = c.reshape(-1, 3)[at]
    sub[:, 0] += weight.ravel()[at] * (med * gain * rel.ravel()[at] - _REPLACE * (own - med))
    if tint is not None and np.isfinite(tint).any():
        ua, va = uv[0].ravel()[at], uv[1].ravel()[at]
        wt = weight.ravel()[at].astype(np.float64)
        # (the own broad a*, b* as the L*: one more 4-channel blur over the box, read at the weighted
        # pixels only)
        cb = c[box]
        hue = cv2.GaussianBlur(np.dstack([cb[..., 1] * b0, cb[..., 2] * b0, cb[..., 1] * b1, cb[..., 2] * b1]),
                               (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)[iy, ix]  # (K, 4)
        d = np.maximum(den_at, 1e-6).astype(np.float64)
        goal_ab = _read_grid(np.asarray(tint, dtype=np.float64), ua, va, wa)
        for ch in (0, 1):
            mid = float(median(px[:, 1 + ch]))
            own_ab = np.where(low_at, hue[:, 2 + ch], hue[:, ch]) / d
            own_ab = np.where(den_at > 1e-3, own_ab, mid)
            sub[:, 1 + ch] += (wt * (goal_ab[ch] - _REPLACE_TINT * (own_ab - mid))).astype(np.float32)
    flat = np.ascontiguousarray(region).reshape(-1, 3).copy()
    flat[at] = np.clip(np.rint(lab_to_srgb(sub)), 0, 255).astype(np.uint8)
    region[...] = flat.reshape(region.shape)
