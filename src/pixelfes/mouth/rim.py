"""The lent teeth's lower band kept no lighter and no redder than the person's own lower lip.

Between a smile's lent teeth and the person's own lower lip lies a band of the *lender's* inner
lower lip (its wet edge, its contact shadow under the teeth), recoloured by the lip-median ratio
(:func:`pixelfes.mouth.fill.interior_gains`). Blind raters like it where it carries the wet edge
and the shadow, and name it "a thin bright red/pink line along the inner lower lip under the
teeth" where it is lighter or redder than the lip under it (126's and 137's salmon strip, 134's
red line, 034's pink rim; docs/mouth.md, "The red rim under the lent teeth").

:func:`cap_lower_band` measures the person's lower lip just below the opening (median L* and
chroma C* of the output's pixels from ``_REF[0]`` to ``_REF[1]`` of the lower lip's thickness
below the inner lip line, middle half of the opening) and, for the lip-coloured pixels of the
opening's lower part, takes L* and C* down to that reference where they are above it (hue
kept): L* by the band's *level*, its median brought to the reference where above it and every
band pixel moved by the same amount (times its weight), so the band keeps its lightness texture,
the wet edge and the contact shadow raters like (a pixel-wise L* cap flattened it into a painted
strip at 3x); C* pixel by pixel (134's red line is redder than the rest of its band). A band as dark and grey as the lip is left alone. The weight is the lender's lip
likeness (:func:`pixelfes.mouth.fill.lent_lip_likeness`) times a smoothstep in the opening's
height from ``_LOW[0]`` to ``_LOW[1]``.
"""

from __future__ import annotations

import numpy as np

from .._nomask import median
from ..mouth_regions import outline_y
from .checks import check_rgb8, lip_points
from .colour import lab, lab_to_srgb
from .fill import _LIP_LIKE
from .ramp import smoothstep

__all__ = ["band_reference", "band_weight", "cap_lower_band"]

_REF = (0.1, 0.5)  # the reference strip: these shares of the lower lip's thickness below the inner line
_MIDDLE = 0.25  # ... between this share of the inner corners' distance from either corner
_LOW = (0.4, 0.6)  # the band's weight rises (smoothstep) over these shares of the opening's height
_GROW = 0.01  # mouth widths (at least 1 px) below the inner lower line the band reaches (the feather)
_MIN_PIXELS = 8  # a reference strip or band core with fewer pixels: nothing is changed
_CORE = 0.5  # the band's L* level is measured where its weight is at least this


def _curves(lips: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(upper inner, lower inner, outer lower) lip lines' y at ``xs``; ``lips`` ``(20, 2)`` 48-67."""
    upper = outline_y(lips[[12, 13, 14, 15, 16]], xs)
    lower = outline_y(lips[[12, 19, 18, 17, 16]], xs)
    outer = outline_y(lips[[0, 11, 10, 9, 8, 7, 6]], xs)
    return upper, lower, outer


def band_reference(lab_image: np.ndarray, lips: np.ndarray) -> tuple[float, float, float] | None:
    """(L*, C*, a*) medians of the lower lip just below the opening, ``None`` if too few pixels.

    ``lab_image`` ``(H, W, 3) float32`` L*a*b*; ``lips`` ``(20, 2)`` (x, y) in its pixels. A pixel
    counts when its column lies in the middle of the inner corners (``_MIDDLE``) and it lies
    from ``_REF[0]`` to ``_REF[1]`` of the way from the inner lower line down to the outer one.
    """
    h, w = lab_image.shape[:2]
    xs = np.arange(w, dtype=np.float64)
    ys = np.arange(h, dtype=np.float64)[:, None]
    _, lower, outer = _curves(lips, xs)
    left, right = sorted((float(lips[12, 0]), float(lips[16, 0])))
    span = right - left
    cols = (xs >= left + _MIDDLE * span) & (xs <= right - _MIDDLE * span)
    thick = outer - lower
    v = (ys - lower) / np.where(thick > 0, thick, np.inf)
    strip = cols & (thick > 0) & (v >= _REF[0]) & (v <= _REF[1])
    if int(strip.sum()) < _MIN_PIXELS:
        return None
    px = lab_image[strip]
    chroma = np.hypot(px[:, 1], px[:, 2])
    return float(median(px[:, 0])), float(median(chroma)), float(median(px[:, 1]))


def band_weight(lab_image: np.ndarray, lips: np.ndarray, lip_a: float,
                likeness: np.ndarray | None = None) -> np.ndarray:
    """``(H, W) float32`` in [0, 1]: how much each pixel is the band under the teeth.

    Lip likeness times a smoothstep in ``v``, the share of the opening's height at that column
    (0 at the upper inner line, 1 at the lower), from ``_LOW[0]`` to ``_LOW[1]``; 0 outside the
    inner corners' columns and more than ``_GROW`` mouth widths below the lower inner line.
    ``likeness`` ``(H, W)`` in [0, 1]: the lender's own (:func:`pixelfes.mouth.fill.lent_lip_likeness`);
    default from the image, a* from ``_LIP_LIKE[0]`` to ``_LIP_LIKE[1]`` of ``lip_a`` (the
    reference's; on dark, greyish lips that ramp takes warm teeth for lip, so the engine passes
    the lender's).
    """
    h, w = lab_image.shape[:2]
    xs = np.arange(w, dtype=np.float64)
    ys = np.arange(h, dtype=np.float64)[:, None]
    upper, lower, _ = _curves(lips, xs)
    left, right = sorted((float(lips[12, 0]), float(lips[16, 0])))
    width = float(np.linalg.norm(lips[6] - lips[0]))
    grow = max(1.0, _GROW * width)
    height = lower - upper
    v = (ys - upper) / np.where(height > 0, height, np.inf)
    place = smoothstep((v - _LOW[0]) / (_LOW[1] - _LOW[0]))
    place = place * ((xs >= left) & (xs <= right) & (height > 0) & (ys <= lower + grow))
    if likeness is None:
        a_lip = max(lip_a, 1.0)
        lo, hi = _LIP_LIKE[0] * a_lip, _LIP_LIKE[1] * a_lip
        likeness = np.clip((lab_image[..., 1] - lo) / (hi - lo), 0.0, 1.0)
    return (place * likeness).astype(np.float32)


def cap_lower_band(image: np.ndarray, lips: np.ndarray,
                   lent: tuple[tuple[int, int, int, int], np.ndarray] | None = None) -> int:
    """Take the band under a smile's lent teeth down to the lower lip's L* and C*, **in place**.

    ``image``: ``(H, W, 3) uint8`` RGB after the lent teeth were painted; ``lips``: the new lips'
    ``(20, 2)`` landmarks 48-67 (x, y) in that frame; ``lent``: the lender's lip likeness in a box
    of that frame (:func:`pixelfes.mouth.fill.lent_lip_likeness`), default read off the image. The
    band's level is measured where its weight ``w`` (:func:`band_weight`) is at least
    ``_CORE``, its median L* ``L_b``; each pixel then gets ``L - w max(0, L_b - L_ref)`` (the level:
    its lightness texture, the wet edge and the contact shadow, kept) and ``C - w max(0, C - C_ref)``
    (each pixel's redness capped; a*, b* scaled together: the hue kept), the reference
    :func:`band_reference`'s. A band as dark and grey as the lip is left alone. Returns the pixels
    changed.
    """
    check_rgb8(image)
    dst = lip_points(lips)
    width = float(np.linalg.norm(dst[6] - dst[0]))
    if not width > 0:
        return 0
    h, w = image.shape[:2]
    pad = 2 + int(np.ceil(0.02 * width))
    x0, y0 = (int(v) for v in np.maximum(0, np.floor(dst.min(0)) - pad))
    x1, y1 = (int(v) for v in np.minimum((w, h), np.ceil(dst.max(0)) + pad + 1))
    if x1 <= x0 or y1 <= y0:
        return 0
    sub = image[y0:y1, x0:x1]
    local = dst - (x0, y0)
    colour = lab(sub)
    ref = band_reference(colour, local)
    if ref is None:
        return 0
    l_ref, c_ref, a_ref = ref
    likeness = None
    if lent is not None:
        (bx0, by0, bx1, by1), like = lent
        likeness = np.zeros(sub.shape[:2], np.float32)
        ix0, iy0, ix1, iy1 = max(bx0, x0), max(by0, y0), min(bx1, x1), min(by1, y1)
        if ix1 > ix0 and iy1 > iy0:
            likeness[iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0] = like[iy0 - by0:iy1 - by0, ix0 - bx0:ix1 - bx0]
    weight = band_weight(colour, local, a_ref, likeness)
    chroma = np.hypot(colour[..., 1], colour[..., 2])
    core = weight >= _CORE
    if int(core.sum()) < _MIN_PIXELS:
        return 0
    drop = max(0.0, float(median(colour[..., 0][core])) - l_ref)
    rows, cols = np.nonzero((weight > 0) & ((chroma > c_ref) | (drop > 0)))
    if len(rows) == 0:
        return 0
    px = colour[rows, cols]
    wt = weight[rows, cols]
    c = chroma[rows, cols]
    new_c = c - wt * np.maximum(0.0, c - c_ref)
    scale = np.where(c > 0, new_c / np.where(c > 0, c, 1.0), 1.0)
    capped = np.stack([px[:, 0] - wt * drop, px[:, 1] * scale, px[:, 2] * scale], axis=1).astype(np.float32)
    rgb = np.clip(np.rint(lab_to_srgb(capped)), 0, 255).astype(np.uint8)
    changed = int(np.any(rgb != sub[rows, cols], axis=1).sum())
    sub[rows, cols] = rgb  # (sub is a view of image: written in place)
    return changed
