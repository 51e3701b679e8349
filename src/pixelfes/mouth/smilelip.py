"""A smile's lower lip given the fine relief of a real smiling lower lip (the lender's).

Opening a smile over lent teeth, the warp reads the person's lips from 0.3 of their thickness
inside (``native._OPEN_LIP_ONLY``) and draws them about 1.4x taller: the lower lip's fine texture
is stretched down it, "vertical gloss streaks" to blind raters (docs/mouth.md, "The lower lip's
goal thickness"). :func:`lend_lower_lip` replaces the lower lip's fine luminance relief (its L*
over its own low-pass within the lip, a relative high-pass) with the one of the lent smile's own
lower lip in the bank's patch, read in the lip frame (:func:`pixelfes.mouth.relief.lip_uv`: ``u``
along the mouth, ``v`` from the outer outline to the inner line), so it is laid at the real
lip's proportions; the person's own colour (a*, b*) and low-pass shading are kept.
"""

from __future__ import annotations

import cv2
import numpy as np

from .colour import lab, lab_to_srgb
from .relief import _frame, _lip_masks, _lips_box, _lowpass, lip_curves, lip_uv

__all__ = ["SIGMA", "bilinear", "fine_relief", "lender_points", "lend_lower_lip"]

#: mouth widths: the high-pass is the L* over its normalised Gaussian of this within the lower lip
#: (the streak measure's shading, :data:`pixelfes.evaluate.streaks.STREAK_SIGMA`)
SIGMA = 0.02
#: the relative relief is soft-limited (tanh) to these: the lender's gloss kept, not its peaks
_LIGHT_CAP = 0.4
_DARK_CAP = 0.3
#: v (0 outline .. 1 inner line) over which the change fades in from the outer outline and out
#: towards the inner line (the lent teeth's lower band), u over which it fades in from each corner
_FADE_OUT = 0.2
_FADE_IN = 0.2
_FADE_CORNER = 0.12
#: the lender's lower lip is read at v inside this range only (its outline and the teeth's edge
#: left out of the map)
_READ_V = (0.05, 0.9)


def _soft(rel: np.ndarray) -> np.ndarray:
    cap = np.where(rel > 0, _LIGHT_CAP, _DARK_CAP)
    return np.asarray(cap * np.tanh(rel / cap))


def fine_relief(light: np.ndarray, use: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """``(fine, low)``, ``(H, W) float32``: ``light`` (L*) over its normalised Gaussian of
    :data:`SIGMA` x ``width`` px within ``use`` (``(H, W) bool``), minus one, soft-limited, 0 off
    ``use``; and that low-pass (``nan`` where no ``use`` pixel is near)."""
    low = _lowpass(light, use, max(0.7, SIGMA * width))
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(use & (low > 1.0), light / low - 1.0, 0.0)
    return _soft(np.nan_to_num(rel)).astype(np.float32), low


def lender_points(u: np.ndarray, v: np.ndarray, lips: np.ndarray) -> np.ndarray:
    """``(K, 2)`` pixel points of lip-frame lower-lip points ``(u, v)`` (each ``(K,)``) on lips
    ``(20, 2)`` (landmarks 48-67 in that image): ``x_f = u - 0.5``, ``y_f`` the lower outline's
    plus ``v`` of the way to the lower inner line (mouth frame), back into the image."""
    m = _frame(lips)
    f = np.asarray(lips, dtype=np.float64) @ m[:, :2].T + m[:, 2]
    xs = np.asarray(u, dtype=np.float64) - 0.5
    _, _, lo, li = lip_curves(f, xs)
    ys = lo + np.asarray(v, dtype=np.float64) * (li - lo)
    inv = cv2.invertAffineTransform(m)
    pts = np.stack([xs, ys], axis=-1)
    return np.asarray(pts @ inv[:, :2].T + inv[:, 2])


def bilinear(img: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """``img`` ``(h, w)`` at pixel points ``pts`` ``(K, 2)`` (x, y), bilinear, 0 outside; ``(K,) float64``."""
    a = np.pad(np.asarray(img, dtype=np.float64), 1)
    x = np.asarray(pts[:, 0], dtype=np.float64) + 1.0
    y = np.asarray(pts[:, 1], dtype=np.float64) + 1.0
    inside = (x >= 0) & (y >= 0) & (x <= a.shape[1] - 1) & (y <= a.shape[0] - 1)
    x, y = np.clip(x, 0, a.shape[1] - 1), np.clip(y, 0, a.shape[0] - 1)
    x0 = np.minimum(np.floor(x).astype(np.intp), a.shape[1] - 2)
    y0 = np.minimum(np.floor(y).astype(np.intp), a.shape[0] - 2)
    fx, fy = x - x0, y - y0
    top = a[y0, x0] * (1 - fx) + a[y0, x0 + 1] * fx
    bot = a[y0 + 1, x0] * (1 - fx) + a[y0 + 1, x0 + 1] * fx
    return np.where(inside, top * (1 - fy) + bot * fy, 0.0)


def _lender_map(patch: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The lender's lower lip's :func:`fine_relief` over ``patch`` and the mask it was read on."""
    lips = np.asarray(points, dtype=np.float64)
    width = float(np.linalg.norm(lips[6] - lips[0]))
    if width < 4:
        return None
    light = lab(patch)[..., 0]
    uv = lip_uv(light.shape, lips)
    _, low, _ = _lip_masks(light.shape, lips, width, uv)
    use = low & (uv[1] >= _READ_V[0]) & (uv[1] <= _READ_V[1])
    if use.sum() < 20:
        return None
    fine, _ = fine_relief(light, use, width)
    return fine, use.astype(np.float32)


def lend_lower_lip(image: np.ndarray, landmarks: np.ndarray, patch: np.ndarray, patch_points: np.ndarray) -> bool:
    """Give the lower lip of ``image`` (``(H, W, 3) uint8`` RGB, **in place**; its lips
    ``landmarks`` ``(68, 2)`` or ``(20, 2)`` 48-67) the fine relief of the lower lip of ``patch``
    (``(h, w, 3) uint8``, lips ``patch_points`` ``(20, 2)`` in its pixels): at each lower-lip pixel
    (lip frame ``(u, v)``), L* becomes ``low * (1 + fine)``, blended by a weight faded in from the
    outline, the inner line and the corners: ``low`` the lip's own L* low-passed within the lower
    lip (:func:`fine_relief`), ``fine`` the patch's at the same ``(u, v)`` (bilinear); a*, b* are
    kept, pixels of no weight keep their bytes. Returns whether anything was changed."""
    lm = np.asarray(landmarks, dtype=np.float64)
    full = lm if len(lm) == 68 else np.vstack([np.zeros((48, 2)), lm])
    found = _lips_box(image.shape, full)
    lender = _lender_map(patch, patch_points)
    if found is None or lender is None:
        return False
    box, local, width = found
    region = image[box]
    c = lab(region)
    light = c[..., 0]
    uv = lip_uv(light.shape, local)
    _, low, _ = _lip_masks(light.shape, local, width, uv)
    u, v, which = uv
    at = np.flatnonzero(which.ravel() == 1)
    if at.size == 0 or not low.any():
        return False
    ua, va = u.ravel()[at], v.ravel()[at]
    ramp = np.clip(va / _FADE_OUT, 0, 1) * np.clip((1.0 - va) / _FADE_IN, 0, 1) \
        * np.clip(np.minimum(ua, 1.0 - ua) / _FADE_CORNER, 0, 1)
    weight = ramp * ramp * (3 - 2 * ramp)
    px = lender_points(ua, va, patch_points).astype(np.float32)
    fine, cover = lender
    got = bilinear(fine * cover, px)
    share = bilinear(cover, px)
    rel = np.where(share > 1e-3, got / np.maximum(share, 1e-3), 0.0)
    weight = weight * np.clip(share, 0, 1)
    _, own_low = fine_relief(light, low, width)
    own = own_low.ravel()[at]
    ok = np.isfinite(own) & (weight > 0)
    at, weight, rel, own = at[ok], weight[ok], rel[ok], own[ok]
    if at.size == 0:
        return False
    sub = c.reshape(-1, 3)[at]
    sub[:, 0] += (weight * (own * (1.0 + rel) - sub[:, 0])).astype(np.float32)
    flat = np.ascontiguousarray(region).reshape(-1, 3).copy()
    flat[at] = np.clip(np.rint(lab_to_srgb(sub)), 0, 255).astype(np.uint8)
    region[...] = flat.reshape(region.shape)
    return True
