"""The inside of a mouth the jaw opened (surprise, fear): a shaded cavity, a tongue, wet lips.

What a real open mouth shows, and a flat fill does not: a dark but not black interior,
darker at the back and under the upper teeth, lighter low in the mouth; on a wide opening
the tongue's dull pink-red mass rising from behind the lower lip; the inner edges of the
lips wet, a little lighter and pinker than the cavity; a rounded (U, not V) lower edge.
Everything is relative to the person's own lip colour in CIE L*a*b* (a fraction of its
L*), so the mouth reads the same on light and dark skin. Pure numpy/OpenCV on a box of
pixels; :mod:`pixelfes.actions.mouth` blends it into the warped face.
"""

from __future__ import annotations

import numpy as np

from ..face.align import invert_affine, transform_points
from .fill import mouth_frame
from .ramp import smoothstep

__all__ = ["DEEP", "RIM", "interior_lab", "rounded_outline", "teeth_shade", "tongue_share"]

DEEP = 0.24  # L* of the darkest cavity (at the back, under the teeth) / the lips' L*
LOW = 0.40  # L* low in the cavity (above the lower lip) / the lips' L*
RIM = 0.88  # L* of the wet inner lip edge / the lips' L*
RIM_WIDTH = 0.022  # mouth widths over which the inner lip edge turns into the cavity
TONGUE_L = 0.66  # L* of the tongue's lit top / the lips' L*
CAVITY_A = 0.48  # a* of the dark cavity / the lips' a* (London open smiles, pixels at 0.2-0.5 of the lips' L*: 0.44-0.51)
CAVITY_B = 0.56  # b* of the dark cavity / the lips' b* (the same pixels: 0.50-0.77)
ROUND = 0.7  # how far the lower edge moves from the warp's V towards a U
KEEP_LIP = 0.55  # share of the lower lip's thickness the rounder edge must leave


def rounded_outline(inner: np.ndarray, outer: np.ndarray, smooth: np.ndarray) -> np.ndarray:
    """The opening's outline ``(K, 2)`` with its lower edge rounded from a V towards a U.

    ``inner`` ``(8, 2)`` landmarks 60-67, ``outer`` ``(12, 2)`` 48-59 (any frame), ``smooth``
    ``(K, 2)`` the closed curve through ``inner`` (its first half the upper edge 60 -> 64,
    the second the lower 64 -> 60). In the mouth frame (corners at x = -0.5, 0.5), each
    lower point's depth below the corners' chord moves ``ROUND`` of the way to
    ``D (1 - s^2)^0.7`` (``D`` the deepest point's depth, ``s`` in [-1, 1] across the
    inner corners), never up and never past ``KEEP_LIP`` of the lower lip's thickness.
    """
    full = np.zeros((68, 2))
    full[48:60], full[60:68] = outer, inner
    m = mouth_frame(full)
    f = transform_points(m, np.asarray(smooth, dtype=np.float64))
    fi = transform_points(m, np.asarray(inner, dtype=np.float64))
    fo = transform_points(m, np.asarray(outer, dtype=np.float64))
    c0, c1 = fi[0], fi[4]
    half = len(f) // 2
    low = f[half:]
    chord = c0[1] + (c1[1] - c0[1]) * (low[:, 0] - c0[0]) / max(c1[0] - c0[0], 1e-9)
    depth = low[:, 1] - chord
    d_max = float(depth.max())
    if d_max <= 1e-6:
        return np.asarray(smooth, dtype=np.float64)
    s = np.clip((2.0 * low[:, 0] - (c0[0] + c1[0])) / max(c1[0] - c0[0], 1e-9), -1.0, 1.0)
    u_shape = d_max * (1.0 - s * s) ** 0.7
    new = depth + ROUND * np.maximum(u_shape - depth, 0.0)
    # the outer lower lip (54 -> 59 -> 48), as a function of x: the lip must keep its body
    lo_outer = fo[[6, 7, 8, 9, 10, 11, 0]]
    order = np.argsort(lo_outer[:, 0])
    y_out = np.interp(low[:, 0], lo_outer[order, 0], lo_outer[order, 1])
    limit = depth + (1.0 - KEEP_LIP) * np.maximum(y_out - chord - depth, 0.0)
    low = low.copy()
    low[:, 1] = chord + np.minimum(new, np.maximum(limit, depth))
    return transform_points(invert_affine(m), np.concatenate([f[:half], low]))


def tongue_share(gap: float) -> float:
    """How much of the opening's height the tongue fills, by the gap (mouth widths): none
    below 0.18 (the tongue lies behind the lower teeth), 0.42 from 0.35 (a dropped jaw)."""
    return float(0.42 * smoothstep(np.asarray((gap - 0.18) / 0.17)))


def _uv(shape: tuple[int, int], offset: np.ndarray, outline: np.ndarray, m: np.ndarray
        ) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel of a box: ``u`` across the mouth (-1 .. 1 between the outline's ends) and
    ``v`` down the opening (0 at its upper edge, 1 at its lower), from the outline in the
    mouth frame ``m`` (a similarity); NaN-free (clipped)."""
    h, w = shape
    f = transform_points(m, outline)
    half = len(f) // 2
    up, lo = f[: half + 1], np.concatenate([f[half:], f[:1]])
    up = up[np.argsort(up[:, 0])]
    lo = lo[np.argsort(lo[:, 0])]
    # the pixel centres as broadcast rows and columns (the same float32 values as a float32
    # mgrid plus the offset, without mgrid's two int64 (H, W) arrays and their conversion)
    xs = np.arange(w, dtype=np.float32) + np.float32(offset[0])
    ys = np.arange(h, dtype=np.float32) + np.float32(offset[1])
    px = np.stack(np.broadcast_arrays(xs[None, :], ys[:, None]), axis=-1)
    fx = px @ m[:, :2].T.astype(np.float32) + m[:, 2].astype(np.float32)
    x0, x1 = float(f[:, 0].min()), float(f[:, 0].max())
    y_up = np.interp(fx[..., 0], up[:, 0], up[:, 1]).astype(np.float32)
    y_lo = np.interp(fx[..., 0], lo[:, 0], lo[:, 1]).astype(np.float32)
    v = (fx[..., 1] - y_up) / np.maximum(y_lo - y_up, np.float32(1e-3))
    u = (2.0 * fx[..., 0] - (x0 + x1)) / max(x1 - x0, 1e-6)
    return np.clip(u, -1.0, 1.0).astype(np.float32), np.clip(v, 0.0, 1.0).astype(np.float32)


def interior_lab(shape: tuple[int, int], offset: np.ndarray, outline: np.ndarray,
                 frame: np.ndarray, gap: float, lips_lab: np.ndarray, edge_px: np.ndarray) -> np.ndarray:
    """``(H, W, 3) float32`` CIE L*a*b* of an open mouth's interior over a box of pixels.

    ``shape`` the box's (H, W), ``offset`` its (x, y) in the frame of ``outline`` ``(K, 2)``
    (:func:`rounded_outline`); ``frame`` the ``(2, 3)`` similarity into the mouth frame
    (:func:`pixelfes.mouth.mouth_frame` of the landmarks: its scale is 1 / mouth width) and
    ``gap`` the inner-lip opening in mouth widths (:func:`pixelfes.mouth.inner_gap`);
    ``lips_lab`` the person's lip colour ``(3,)``; ``edge_px`` ``(H, W)`` each pixel's
    distance to the outline (0 outside).
    L* is a fraction of the lips' L*: ``DEEP`` at the back (under the teeth, and towards
    the cheeks), ``LOW`` just above the lower lip, ``RIM`` at the wet inner lip edge
    (over ``RIM_WIDTH`` mouth widths), the tongue's ``TONGUE_L`` on its lit top; a*, b*
    follow the lips' at the edge (a* the lips', b* 0.7 of theirs) and turn duller deeper in
    (``CAVITY_A``, ``CAVITY_B`` of the lips': measured on real open mouths).
    """
    m = np.asarray(frame, dtype=np.float64)
    width = 1.0 / max(float(np.hypot(m[0, 0], m[0, 1])), 1e-12)
    u, v = _uv(shape, offset, outline, m)
    # the cavity: darkest at the back under the upper teeth (v ~ 0.2-0.4) and towards the
    # cheeks, lighter low in the mouth where the floor and the tongue catch the light
    depth_f = np.float32(DEEP) + np.float32(LOW - DEEP) * smoothstep((v - 0.35) / 0.65)
    u2 = u * u  # (u**4 by two products: 100x faster than the power, to an ulp)
    depth_f = depth_f * (np.float32(1.0) - np.float32(0.2) * (u2 * u2))
    # a*, b* as shares of the lips': the dark cavity as measured on real open mouths (at 0.8
    # of the lips' a* for every depth, a cavity at 0.24 of their L* had 3x their chromaticity:
    # the dark magenta band over a raised upper lip), the lips' own at the rim and tongue
    chroma_a = np.full(shape, CAVITY_A, np.float32)
    chroma_b = np.full(shape, CAVITY_B, np.float32)
    # the tongue: a mound rising from behind the lower lip in the middle, its top lit and
    # falling into shade towards the sides and down behind the lip, redder than the cavity
    t_share = tongue_share(gap)
    if t_share > 0:
        top = np.float32(1.0 - t_share) + np.float32(t_share) * (u / np.float32(0.6)) ** 2
        tongue = smoothstep((v - top) / np.float32(0.16) + 0.5)
        lit = (np.float32(TONGUE_L) - np.float32(0.14) * smoothstep((v - top) / max(t_share, 1e-3))) \
            * (np.float32(1.0) - np.float32(0.35) * (u / np.float32(0.6)) ** 2)
        depth_f = depth_f * (1 - tongue) + lit * tongue
        chroma_a = chroma_a * (1 - tongue) + np.float32(1.0) * tongue
        chroma_b = chroma_b * (1 - tongue) + np.float32(0.7) * tongue
    # the wet inner lip edge: lighter and as pink as the lips, turning into the cavity
    rim = np.exp(-edge_px / np.float32(max(RIM_WIDTH * width, 0.5))).astype(np.float32)
    depth_f = depth_f * (1 - rim) + np.float32(RIM) * rim
    chroma_a = chroma_a * (1 - rim) + np.float32(1.0) * rim
    chroma_b = chroma_b * (1 - rim) + np.float32(0.7) * rim
    lab = np.empty((*shape, 3), np.float32)
    lab[..., 0] = np.float32(lips_lab[0]) * depth_f
    lab[..., 1] = np.float32(lips_lab[1]) * chroma_a
    lab[..., 2] = np.float32(lips_lab[2]) * chroma_b
    return lab


def teeth_shade(shape: tuple[int, int], offset: np.ndarray, outline: np.ndarray,
                frame: np.ndarray, gap: float, visible: float, lit: float = 0.0) -> np.ndarray:
    """``(H, W) float32`` linear-light gain on an open mouth's upper teeth, in (0, 1].

    Teeth under a relaxed upper lip are in its shadow and the arch turns away into the
    mouth towards the corners: the gain rises from 0.55 at the upper lip to 1 at the
    tooth edges ``visible`` mouth widths below it, times ``1 - 0.6 u^2`` across the mouth
    (``frame``, ``gap``: as for :func:`interior_lab`); ``lit`` in [0, 1] lifts the shadow
    (an upper lip raised off the teeth, disgust's AU10, casts none: 1 at the lip too).
    """
    u, v = _uv(shape, offset, outline, np.asarray(frame, dtype=np.float64))
    gap = max(float(gap), 1e-6)
    below = v * np.float32(gap / max(visible, 1e-6))  # 1 at the tooth edges
    base = np.float32(0.55 + 0.45 * float(np.clip(lit, 0.0, 1.0)))
    g = (base + (np.float32(1.0) - base) * smoothstep(below)) * (np.float32(1.0) - np.float32(0.6) * u * u)
    return g.astype(np.float32)
