"""The closed lips' red wedge: redness along the meeting line above what real closed lips have there.

When :func:`pixelfes.mouth.close.close_mouth` closes a smile, the smile's wet inner lower lip
(more saturated red) is stretched up to the meeting line, and towards the corners the relief's
tint (:func:`pixelfes.mouth.relief.draw_relief`) fades out, so a hard-edged red wedge or streak
stays just under the line (docs/mouth.md, "The closed lips' red wedge"). :func:`calm_line` takes
out only the share of a* above the **real closed lips' tint at that place** (the bank's
:meth:`~pixelfes.mouth.MouthBank.tint_goal`, the map the relief reads, over the lips' median a*):
real closed lips *are* redder at the line than their outer lip (the bank: the lower lip's row
next to the line +1.2 a* over the lips' median, its outer rows -2), so the goal is theirs, not
the outer lip's colour (that first candidate overshot the held-out tint). The goal is never below
the line's own level (the median a* of the closed lips within ``_ZONE`` of the line): only what
stands out of the line is taken out, pixels above that median stay above it (the goal alone,
``calm="goal"``, was not adopted and removed from main after 152500d).
"""

from __future__ import annotations

import cv2
import numpy as np

from .._nomask import median
from ..mouth_regions import masked_pixels
from .colour import lab, lab_to_srgb
from .relief import _lip_masks, _read_grid, lip_uv

__all__ = ["calm_line", "calm_share"]

#: share of each lip's thickness, from the meeting line, where the redness is calmed ...
_ZONE = 0.6
#: ... faded in over this much more of it (smoothstep), towards the outer outline
_ZONE_FADE = 0.15
#: a* above the goal kept as it is (the lips' fine texture, the goal's own error) ...
_SLACK = 2.0
#: ... and above it by this much the excess is taken out fully (a linear ramp between)
_FULL = 6.0
#: mouth widths: the Gaussian the pull's share is feathered by (no new hard edge where it stops)
_FEATHER = 0.012


def calm_share(excess: np.ndarray, v: np.ndarray, which: np.ndarray, width: float) -> np.ndarray:
    """``(H, W) float32`` share of each pixel's excess a* (``excess``, a* minus the goal) taken
    out: 0 up to ``_SLACK``, 1 from ``_FULL`` on (linear), within ``_ZONE`` of the lip thickness
    from the meeting line (``v`` 1 there, :func:`pixelfes.mouth.relief.lip_uv`; smoothstep over
    ``_ZONE_FADE`` more), on lip pixels (``which >= 0``) only, then feathered by a Gaussian of
    ``_FEATHER`` mouth widths (zero outside) and kept to the lips."""
    lip = which >= 0
    ramp = np.clip((np.asarray(excess, np.float64) - _SLACK) / (_FULL - _SLACK), 0.0, 1.0)
    t = np.clip((v - (1.0 - _ZONE - _ZONE_FADE)) / _ZONE_FADE, 0.0, 1.0)
    zone = t * t * (3.0 - 2.0 * t)
    raw = np.where(lip, ramp * zone, 0.0).astype(np.float32)
    sigma = max(0.7, _FEATHER * width)
    soft = cv2.GaussianBlur(raw, (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
    return np.where(lip, np.clip(soft, 0.0, 1.0), 0.0).astype(np.float32)


def calm_line(region: np.ndarray, local: np.ndarray, tint: np.ndarray) -> None:
    """Take the redness above real closed lips' out of the closed lips in ``region`` (``(H, W, 3)
    uint8`` RGB, **in place**) near their meeting line.

    ``local``: the closed lips' ``(20, 2)`` landmarks 48-67 in ``region`` pixels; ``tint``: real
    closed lips' broad a*, b* over their median (``(2, 2, V, U)``,
    :func:`pixelfes.mouth.relief.tint_map`, e.g. :meth:`~pixelfes.mouth.MouthBank.tint_goal`).
    Each lip pixel's goal is the closed lips' median a* plus ``tint``'s a* at its lip-frame place
    (bilinear, as the relief reads it); a* loses :func:`calm_share` of its excess over the goal
    (never made redder, never below the goal); L* and b* are kept; pixels it does not move keep
    their bytes. The goal is at least the median a* of the lip pixels within ``_ZONE`` of the
    meeting line (the line's own level: the held-out line band's median a* is kept)."""
    lips = np.asarray(local, dtype=np.float64)
    width = float(np.linalg.norm(lips[6] - lips[0]))
    if width < 4 or not np.isfinite(tint).any():
        return
    c = lab(region)
    uv = lip_uv(c.shape, lips)
    _, _, both = _lip_masks(c.shape, lips, width, uv)
    if not both.any():
        return
    u, v, which = uv
    med = float(median(masked_pixels(c, both)[:, 1]))
    at = np.flatnonzero(which >= 0)
    goal = np.full(c.shape[:2], np.inf, np.float64)
    goal.ravel()[at] = med + _read_grid(np.asarray(tint, np.float64)[0], u.ravel()[at], v.ravel()[at],
                                        which.ravel()[at])
    near = np.flatnonzero((which >= 0) & (v >= 1.0 - _ZONE))
    if near.size:
        goal = np.maximum(goal, float(median(c.reshape(-1, 3)[near, 1])))
    excess = np.where(which >= 0, c[..., 1] - goal, 0.0)
    share = calm_share(excess, v, which, width)
    move = np.flatnonzero((share > 0) & (excess > 0))
    if move.size == 0:
        return
    sub = c.reshape(-1, 3)[move]
    sub[:, 1] -= (share.ravel()[move] * excess.ravel()[move]).astype(np.float32)
    flat = np.ascontiguousarray(region).reshape(-1, 3).copy()
    flat[move] = np.clip(np.rint(lab_to_srgb(sub)), 0, 255).astype(np.uint8)
    region[...] = flat.reshape(region.shape)
