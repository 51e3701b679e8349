"""Argument checks shared by the mouth's in-place painters (fill, specks, the opening's ends)."""

from __future__ import annotations

import numpy as np


def check_rgb8(image: object) -> None:
    """Raise ``ValueError`` unless ``image`` is an ``(H, W, 3) uint8`` RGB array (painted in place)."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 \
            or image.dtype != np.uint8:
        raise ValueError("image must be an (H, W, 3) uint8 RGB array; got "
                         f"{getattr(image, 'shape', type(image).__name__)}")


def lip_points(lips: object) -> np.ndarray:
    """``lips`` as the ``(20, 2) float64`` landmarks 48-67 (x, y); ``ValueError`` if not finite or shaped so."""
    dst = np.asarray(lips, dtype=np.float64)
    if dst.shape != (20, 2) or not np.all(np.isfinite(dst)):
        raise ValueError(f"lips must be the (20, 2) finite landmarks 48-67 (x, y); got {dst.shape}")
    return dst
