"""Plain textbook formulas the tests pin code against: sRGB (IEC 61966-2-1), a Gaussian blur."""

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


def gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """A separable Gaussian written out: OpenCV's kernel size for float images (2 * round(4
    sigma) + 1 taps), weights exp(-x^2 / 2 sigma^2) normalised, border reflected without
    repeating the edge pixel (cv2.BORDER_REFLECT_101, GaussianBlur's default)."""
    r = int(round(4 * sigma))
    x = np.arange(-r, r + 1, dtype=np.float64)
    k = np.exp(-x * x / (2 * sigma * sigma))
    k /= k.sum()
    out = np.asarray(img, dtype=np.float64)
    for axis in (0, 1):
        n = out.shape[axis]
        idx = np.arange(-r, n + r)
        idx = np.abs(idx)
        idx = np.where(idx > n - 1, 2 * (n - 1) - idx, idx)
        padded = np.take(out, idx, axis=axis)
        acc = np.zeros_like(out)
        for t in range(2 * r + 1):
            sl = [slice(None)] * out.ndim
            sl[axis] = slice(t, t + n)
            acc += k[t] * padded[tuple(sl)]
        out = acc
    return out
