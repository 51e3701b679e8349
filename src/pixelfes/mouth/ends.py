"""The dark ends of a smile's opening: lent teeth shaded into the mouth corners as real ones are.

In a real open smile the teeth recede into the cheeks' shadow at both ends of the opening
(the buccal corridor): the opening's outer twentieth is a dark wedge, its mean linear luminance
about 0.04 of the opening's middle, against about 0.2 on the native smile, whose lent teeth
stay lit nearly into the corners (London, 8 open smiles looked at: 025, 034, 062, 091, 096, 099,
126, 134; docs/mouth.md, "The smile's mushy corners"). Blind raters named these "mushy corners".

:func:`shade_opening_ends` measures, at each end of the opening, the mean linear luminance of
the opening's pixels in the end band (the share ``_END`` of the inner corners' distance nearest
that end) over the median of the opening's middle (shares 0.3-0.7 of the way), and multiplies
linear RGB by a gain that is ``_GOAL / own`` at the end (never below ``_FLOOR``, never above 1: an
end already as dark as real ones' is left as it is), rising as a smoothstep to 1 at ``_REACH``.
A gain leaves the teeth's and lips' texture as it is: what
raters read as natural at a corner is a soft dark wedge, and anything smoothing it a grey smudge
(the closed smile's corner candidates, docs/mouth.md).
"""

from __future__ import annotations

import cv2
import numpy as np

from .._nomask import median
from .checks import check_rgb8, lip_points
from .colour import LUMINANCE, to_linear, to_srgb

__all__ = ["end_gain", "end_profile", "shade_opening_ends"]

_END = 0.1  # the end band: this share of the inner corners' distance from the nearer corner
#: real open smiles' end band mean linear luminance over the opening's middle (the median of
#: the 8 above: bands 0-0.05 and 0.05-0.1 at 0.035 and 0.14)
_GOAL = 0.09
_REACH = 0.2  # the shadow fades out (smoothstep) over this share from the end
_FLOOR = 0.15  # the least gain: a lent tooth at the corner stays a tooth in deep shadow
_MIDDLE = 0.3  # the opening from this share from either end (0.3-0.7 of the way) is its middle
_GROW = 0.025  # mouth widths (at least 1 px) the opening's outline is grown by, feathered over as much
_MIN_PIXELS = 8  # an end band or middle with fewer opening pixels is left as it is
# (v2, "inside": the shade kept inside the opening's outline, never darker than real corners by the
# person's lips, was not adopted and removed from main after 152500d: docs/mouth.md, "The
# opening's ends, v2")


def end_gain(own: float) -> float:
    """The gain at the very end of the opening given its end band's ``own`` mean luminance over
    the middle's (``nan`` when too small to measure): ``_GOAL / own`` clipped to ``[_FLOOR, 1]``."""
    if not np.isfinite(own) or not own > 0:
        return 1.0
    return float(np.clip(_GOAL / own, _FLOOR, 1.0))


def end_profile(share: np.ndarray, gain: float) -> np.ndarray:
    """``float32`` like ``share``: the gain at each distance ``share`` from the end, ``gain`` at
    and beyond the end (share <= 0), rising as a smoothstep to 1 at ``_REACH``."""
    u = np.clip(np.asarray(share, dtype=np.float64) / _REACH, 0.0, 1.0)
    return (gain + (1.0 - gain) * u * u * (3.0 - 2.0 * u)).astype(np.float32)


def shade_opening_ends(image: np.ndarray, lips: np.ndarray) -> int:
    """Darken both ends of a smile's opening in ``image`` **in place**; returns the pixels changed.

    ``image``: ``(H, W, 3) uint8`` RGB after the lent teeth were painted; ``lips``: the new lips'
    ``(20, 2)`` landmarks 48-67 (x, y) in that frame, whose inner outline (60-67) is the opening.
    Each pixel of the opening (grown by ``_GROW`` mouth widths, feathered) gets linear RGB times
    the gain of its end's profile (:func:`end_gain`, measured on the opening's own pixels).
    """
    check_rgb8(image)
    dst = lip_points(lips)
    width = float(np.linalg.norm(dst[6] - dst[0]))
    a, b = dst[12], dst[16]  # the inner corners 60, 64
    axis = b - a
    length2 = float(axis @ axis)
    if not width > 0 or not length2 > 0:
        return 0
    grow = max(1, int(round(_GROW * width)))
    h, w = image.shape[:2]
    inner = dst[12:]
    x0, y0 = (int(v) for v in np.maximum(0, np.floor(inner.min(0)) - 2 * grow))
    x1, y1 = (int(v) for v in np.minimum((w, h), np.ceil(inner.max(0)) + 2 * grow + 1))
    if x1 <= x0 or y1 <= y0:
        return 0
    sub = image[y0:y1, x0:x1]
    poly = np.zeros(sub.shape[:2], np.uint8)
    cv2.fillPoly(poly, [np.rint(inner - (x0, y0)).astype(np.int32)], 1)
    xs = np.arange(x0, x1, dtype=np.float64)
    ys = np.arange(y0, y1, dtype=np.float64)[:, None]
    t = ((xs - a[0]) * axis[0] + (ys - a[1]) * axis[1]) / length2
    share = np.minimum(t, 1.0 - t)
    lin = to_linear(sub)
    lum = lin @ np.asarray(LUMINANCE, dtype=np.float32)
    inside = poly.astype(bool)
    middle = inside & (share >= _MIDDLE)  # (0.3-0.7 of the way: share is at most 0.5)
    if middle.sum() < _MIN_PIXELS:
        return 0
    mid = float(median(lum[middle]))
    if not mid > 0:
        return 0
    gain = np.ones(sub.shape[:2], np.float32)
    for left in (True, False):
        side = (t < 0.5) if left else (t >= 0.5)
        band = inside & side & (share < _END)
        own = float(lum[band].mean()) / mid if band.sum() >= _MIN_PIXELS else float("nan")
        gain[side] = end_profile(share[side], end_gain(own))
    grown = cv2.dilate(poly, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2))
    weight = cv2.blur(grown.astype(np.float32), (2 * grow + 1,) * 2, borderType=cv2.BORDER_CONSTANT)
    factor = 1.0 - weight * (1.0 - gain)
    rows, cols = np.nonzero(factor < 1.0)  # (only these: the round trip is not exact everywhere)
    shaded = to_srgb(lin[rows, cols] * factor[rows, cols, None])
    changed = int(np.any(shaded != sub[rows, cols], axis=1).sum())
    sub[rows, cols] = shaded  # (sub is a view of image: written in place)
    return changed
