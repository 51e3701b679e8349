"""Plain textbook colour formulas (IEC 61966-2-1 sRGB) that the tests pin code against."""

from __future__ import annotations

import numpy as np


def srgb_to_linear(v: np.ndarray) -> np.ndarray:
    """sRGB levels 0..255 decoded to linear light 0..1, float64."""
    c = np.asarray(v, dtype=np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(v: np.ndarray) -> np.ndarray:
    """Linear light encoded to sRGB levels, rounded and clipped to 0..255 (float64)."""
    c = np.clip(v, 0.0, 1.0)
    s = np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)
    return np.clip(np.rint(s * 255.0), 0, 255)

