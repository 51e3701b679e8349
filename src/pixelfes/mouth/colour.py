"""The person's own colours the mouth is matched to: cheek skin and lips (linear RGB medians)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .._nomask import median

__all__ = ["LUMINANCE", "PersonColours", "lip_ring", "person_colours", "to_linear", "to_srgb", "lab", "lab_to_srgb"]

#: relative luminance of linear sRGB (D65): ``to_linear(rgb) @ LUMINANCE``
LUMINANCE = np.array([0.2126, 0.7152, 0.0722], np.float32)
OUTER = list(range(48, 60))
INNER = list(range(60, 68))


def _decode(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4).astype(np.float32)


#: to_linear of every uint8 value: a table look-up, the same floats as the formula
_LINEAR = _decode(np.arange(256, dtype=np.float32) / 255.0)
_LINEAR.flags.writeable = False


def to_linear(u8: np.ndarray) -> np.ndarray:
    """sRGB ``uint8`` (any shape) -> linear light float32 in [0, 1]."""
    arr = np.asarray(u8)
    if arr.dtype == np.uint8:  # a table look-up: 5x faster than the power, the same values
        return _LINEAR[arr]
    return _decode(np.asarray(arr, dtype=np.float32) / 255.0)


def to_srgb(lin: np.ndarray) -> np.ndarray:
    """Linear light floats -> sRGB ``uint8`` (clipped)."""
    c = np.clip(np.asarray(lin, dtype=np.float32), 0.0, 1.0)
    s = np.where(c <= 0.0031308, 12.92 * c, 1.055 * np.power(c, 1 / 2.4) - 0.055)
    return np.clip(np.rint(s * 255.0), 0, 255).astype(np.uint8)


def lab(rgb_u8: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (L in [0, 100]) of sRGB ``uint8`` colours ``(..., 3)``."""
    # one long row: cvtColor converts row by row, and a column of one-pixel rows takes its
    # scalar path, 5x slower (RGB -> LAB's vector path gives the same floats)
    a = np.asarray(rgb_u8, dtype=np.float32).reshape(1, -1, 3) / 255.0
    return cv2.cvtColor(a, cv2.COLOR_RGB2LAB).reshape(np.shape(rgb_u8))


def lab_to_srgb(lab: np.ndarray) -> np.ndarray:
    """CIE L*a*b* ``(..., 3) float32`` -> sRGB floats in 0-255 (not rounded): :func:`lab`'s inverse."""
    # one long row, as lab(): the vector path, 5x faster (it differs from the scalar one by
    # < 1e-5, which moves a rounding by one level on a rare pixel)
    rgb = cv2.cvtColor(np.ascontiguousarray(lab, dtype=np.float32).reshape(1, -1, 3), cv2.COLOR_LAB2RGB)
    return (np.clip(rgb, 0.0, 1.0) * np.float32(255.0)).reshape(lab.shape)


@dataclass(frozen=True)
class PersonColours:
    """Median colours of one face, sRGB ``(3,) uint8``: cheek skin and lips."""

    skin: np.ndarray
    lips: np.ndarray

    @property
    def skin_lab(self) -> np.ndarray:
        return lab(self.skin)

    @property
    def lips_lab(self) -> np.ndarray:
        return lab(self.lips)


def lip_ring(shape: tuple[int, ...], outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """``(H, W) uint8`` 1 on the lips: the ``outer`` outline (48-59) filled less the ``inner``
    (60-67), both ``(n, 2)`` in that frame, rasterised at 1/16 px."""
    ring = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(ring, [np.rint(np.asarray(outer) * 16).astype(np.int32)], 1, shift=4)
    cv2.fillPoly(ring, [np.rint(np.asarray(inner) * 16).astype(np.int32)], 0, shift=4)
    return ring


def _median(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    from ..mouth_regions import masked_pixels

    px = masked_pixels(image, mask > 0)
    if len(px) == 0:
        raise ValueError("no pixels to measure the face's colours in (landmarks outside the image?)")
    return median(px, axis=0).astype(np.uint8)


def person_colours(image: np.ndarray, landmarks: np.ndarray) -> PersonColours:
    """Skin (two cheek disks below the eyes) and lip (outer minus inner lip outline) medians.

    ``image`` ``(H, W, 3) uint8`` in any frame, ``landmarks`` ``(68, 2)`` (x, y) in that frame.
    Only the boxes around those places are read, so it is cheap on huge photos.
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    eye = float(np.linalg.norm(lm[45] - lm[36]))
    lo = np.floor(np.minimum(lm[[1, 15, 41, 46, 57]].min(0), lm[48:60].min(0)) - 4).astype(int)
    hi = np.ceil(np.maximum(lm[[1, 15, 41, 46, 57]].max(0), lm[48:60].max(0)) + 4).astype(int)
    h, w = image.shape[:2]
    x0, y0 = max(0, lo[0]), max(0, lo[1])
    x1, y1 = min(w, hi[0] + 1), min(h, hi[1] + 1)
    sub = image[y0:y1, x0:x1]
    p = lm - (x0, y0)
    skin = np.zeros(sub.shape[:2], np.uint8)
    r = max(2, int(round(0.07 * eye)))
    for a, b, c in ((2, 31, 41), (14, 35, 46)):
        centre = 0.4 * p[a] + 0.3 * p[b] + 0.3 * p[c]
        cv2.circle(skin, (int(round(centre[0])), int(round(centre[1]))), r, 1, -1)
    return PersonColours(skin=_median(sub, skin), lips=_median(sub, lip_ring(sub.shape, p[OUTER], p[INNER])))
