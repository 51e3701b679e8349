"""Bright specks at a smile's mouth corners: the neutral photo's own highlights, toned down.

A closed mouth's corners often hold a few bright pixels: wet highlights where the lips meet,
light stubble hairs, the lips' gloss. Opening the mouth into a smile carries them to the new
corners (the warp moves the corners' pixels along), where the real smiles of the same people
show almost none (London, 16 held-out people: 4.9 such pixels a face near the corners of the
neutral photos, 5.6 on the native smiles, 0.5 on the real smiles; docs/mouth.md, "The white
specks at a smile's corners"). Blind raters named "white specks in stubble by the corners" and
"white specks along the lip edge" among the giveaways of an edited smile.

:func:`clear_corner_specks` pulls each pixel near the new outer corners that stands more than
``_RISE`` L* above the median of its neighbourhood towards that median colour (L*, a*, b*), by
the share of its rise beyond ``_RISE``, so that it ends ``_RISE`` above the median; the pull
fades out with the distance from the corner, and the opening itself (inside the inner lips,
where lent teeth are painted) is never touched.
"""

from __future__ import annotations

import cv2
import numpy as np

from .._nomask import median
from .checks import check_rgb8, lip_points
from .colour import lab, lab_to_srgb

__all__ = ["clear_corner_specks", "speck_pull"]

_RADIUS = 0.15  # mouth widths around each outer corner (48, 54) where the pull is whole ...
_FADE = 0.05  # ... fading to none over this many more
_WINDOW = 0.05  # mouth widths: the side of the neighbourhood whose median a pixel is held to (odd, >= 3 px)
_RISE = 6.0  # L*: a pixel up to this far above its neighbourhood's median is left as it is
_KEEP_OUT = 0.01  # mouth widths (at least 2 px) the inner-lip outline is grown by before it is left out


def _quantised_lightness(lab_: np.ndarray) -> np.ndarray:
    """``(H, W) uint8``: L* in 0-255 steps (``rint(L* 2.55)``, clipped), what its median is taken
    of (OpenCV's median of a wide window is on 8-bit planes)."""
    return np.clip(np.rint(lab_[..., 0] * np.float32(255.0 / 100.0)), 0, 255).astype(np.uint8)


def _chroma_median(lab_: np.ndarray, rows: np.ndarray, cols: np.ndarray, k: int) -> np.ndarray:
    """``(N, 2) float32``: the median a*, b* of ``lab_`` ``(H, W, 3) float32`` over the ``k`` x ``k``
    window (``k`` odd) around the pixels ``(rows, cols)``, the border replicated, each channel
    taken ``+ 128``, rounded and clipped to 0-255 first (as :func:`_quantised_lightness`'s L*):
    :func:`cv2.medianBlur` of those planes at these pixels only (a few dozen of the box's)."""
    d = np.arange(k) - k // 2
    rr = np.clip(rows[:, None] + d, 0, lab_.shape[0] - 1)  # (the border replicated)
    cc = np.clip(cols[:, None] + d, 0, lab_.shape[1] - 1)
    win = lab_[rr[:, :, None], cc[:, None, :], 1:]
    q = np.clip(np.rint(win.reshape(len(rows), k * k, 2) + np.float32(128.0)), 0, 255)
    return median(q, axis=1).astype(np.float32) - np.float32(128.0)


def speck_pull(lightness: np.ndarray, median: np.ndarray, rise: float = _RISE) -> np.ndarray:
    """``(H, W) float32`` in [0, 1): the share of the way from each pixel's colour to its
    neighbourhood's median colour that takes its L* (``lightness``) down to ``median + rise``;
    0 where it stands no more than ``rise`` above ``median`` (darker pixels are never touched)."""
    excess = np.asarray(lightness, dtype=np.float32) - np.asarray(median, dtype=np.float32)
    over = excess > np.float32(rise)
    share = np.zeros(excess.shape, np.float32)
    share[over] = (excess[over] - np.float32(rise)) / excess[over]
    return share


def _corner_weight(shape: tuple[int, int], origin: tuple[int, int], corners: np.ndarray,
                   width: float) -> np.ndarray:
    """``(h, w) float32``: 1 within ``_RADIUS`` mouth widths of the nearest corner, falling
    linearly to 0 over ``_FADE`` more; pixel centres at integer coordinates, box at ``origin``."""
    xs = np.arange(shape[1], dtype=np.float32) + np.float32(origin[0])
    ys = (np.arange(shape[0], dtype=np.float32) + np.float32(origin[1]))[:, None]
    d = np.min([np.hypot(xs - np.float32(c[0]), ys - np.float32(c[1])) for c in corners], axis=0)
    outer = (_RADIUS + _FADE) * width
    return np.clip((np.float32(outer) - d) / np.float32(_FADE * width), 0.0, 1.0).astype(np.float32)


def clear_corner_specks(image: np.ndarray, lips: np.ndarray) -> int:
    """Tone down the bright specks around the outer mouth corners of ``image`` **in place**.

    ``image``: ``(H, W, 3) uint8`` RGB, after the face was warped (and the interior painted);
    ``lips``: the new lips' ``(20, 2)`` landmarks 48-67 (x, y) in that frame. Near the corners
    (48, 54), outside the inner-lip outline grown by ``_KEEP_OUT``, each pixel's L*, a*, b* moves
    towards the median over its ``_WINDOW`` neighbourhood by :func:`speck_pull`'s share times the
    corner weight (1 within ``_RADIUS`` mouth widths, to 0 over ``_FADE`` more). Returns the
    number of pixels changed.
    """
    check_rgb8(image)
    dst = lip_points(lips)
    width = float(np.linalg.norm(dst[6] - dst[0]))
    if not width > 0:
        return 0
    k = max(3, int(round(_WINDOW * width)) | 1)
    reach = (_RADIUS + _FADE) * width
    h, w = image.shape[:2]
    grow = max(2, int(round(_KEEP_OUT * width)))
    changed = 0
    corners = dst[[0, 6]]
    for c in corners:
        # the box the pull can reach, plus the median's half window read around it
        bx0, by0 = int(np.floor(c[0] - reach)), int(np.floor(c[1] - reach))
        bx1, by1 = int(np.ceil(c[0] + reach)) + 1, int(np.ceil(c[1] + reach)) + 1
        x0, y0, x1, y1 = max(0, bx0 - k // 2), max(0, by0 - k // 2), min(w, bx1 + k // 2), min(h, by1 + k // 2)
        if x1 <= x0 or y1 <= y0:
            continue
        sub = image[y0:y1, x0:x1]
        own = lab(sub)
        # the median of L* over the box; of a*, b* only where a pixel is pulled (a few dozen)
        med_l = cv2.medianBlur(_quantised_lightness(own), k).astype(np.float32) * np.float32(100.0 / 255.0)
        weight = _corner_weight(sub.shape[:2], (x0, y0), corners, width)
        inner = np.zeros(sub.shape[:2], np.uint8)
        cv2.fillPoly(inner, [np.rint(dst[12:] - (x0, y0)).astype(np.int32)], 1)
        grown = cv2.dilate(inner, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2))
        weight[np.asarray(grown).astype(bool)] = 0.0
        share = speck_pull(own[..., 0], med_l) * weight
        idx = np.flatnonzero(share > 0)
        if not len(idx):
            continue
        rows, cols = np.divmod(idx, sub.shape[1])
        med = np.empty((len(idx), 3), np.float32)
        med[:, 0] = med_l.reshape(-1)[idx]
        med[:, 1:] = _chroma_median(own, rows, cols, k)
        flat = own.reshape(-1, 3)[idx]
        moved = flat + share.reshape(-1)[idx, None] * (med - flat)
        rgb = np.clip(np.rint(lab_to_srgb(moved)), 0, 255).astype(np.uint8)
        before = sub[rows, cols]
        sub[rows, cols] = rgb  # (sub is a view of image: written in place)
        changed += int(np.any(before != rgb, axis=1).sum())
    return changed
