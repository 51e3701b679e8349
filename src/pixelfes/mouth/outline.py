"""A closed smile's outer lip outlines made as crisp as the smile's own (happy -> neutral).

Closing a smile thickens its thin, stretched lips (the warp, 1.1-1.9x at the middle, and the
lips' stretch over the teeth) and resamples them twice, so the lip-to-skin edge comes out about
twice as wide as on the smile and on the real closed mouth ("soft lip outlines with colour
running into the skin", docs/mouth.md, "The closed lips' soft outlines"). :func:`pinch_outlines`
narrows it again in a thin band around each outer outline: every pixel there is read from
further off the outline (:func:`pinch`, a monotone remap along the column, so no halo and no new
colour), the lips and skin beyond the band untouched.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..mouth_regions import outline_y
from .ramp import smoothstep

__all__ = ["BAND", "NARROW", "pinch", "pinch_outlines"]

BAND = 0.06  #: half-width of the band around an outline that is remapped (mouth widths)
NARROW = 2.5  #: how much narrower an outline's edge is made (the remap's slope at the outline)
_FADE = (0.04, 0.14)  # along the mouth (u from either outer corner): no pinch, then full (smoothstep)

_OUTLINES = ([0, 1, 2, 3, 4, 5, 6], [0, 11, 10, 9, 8, 7, 6])  # 48-54 and 48, 59-55, 54 (indices into 48-67)


def pinch(d: np.ndarray, k: np.ndarray | float, band: float) -> np.ndarray:
    """Where a pixel at signed distance ``d`` from an outline reads from: ``d (1 + (k - 1) (1 -
    |d|/band)^2)`` inside the band, ``d`` outside. Slope ``k`` at the outline (the edge narrowed
    by ``k``), ``band`` at ``|d| = band``; monotone for ``k < 4`` (least slope ``1 - (k-1)/3``)."""
    d = np.asarray(d, dtype=np.float64)
    x = np.minimum(np.abs(d) / band, 1.0)
    return np.asarray(d * (1.0 + (np.asarray(k, dtype=np.float64) - 1.0) * (1.0 - x) ** 2))


def pinch_outlines(image: np.ndarray, lips: np.ndarray, *, narrow: float = NARROW,
                   band: float = BAND) -> tuple[int, int, int, int] | None:
    """Narrow the outer outlines' edges of the closed lips ``lips`` in ``image`` (``(H, W, 3)
    uint8`` RGB, **in place**) ``narrow`` times (``1 <= narrow < 4``).

    ``lips``: ``(20, 2)`` landmarks 48-67 (x, y) in ``image`` pixels. Per column between the
    outer corners, the rows within ``band`` mouth widths of each outer outline
    (:func:`~pixelfes.mouth_regions.outline_y`; a row near both, of the nearer) are read at
    :func:`pinch` of their distance (bilinear, along the column only), the pinch faded out at the
    corners (``_FADE``). Returns the changed box ``(x0, y0, x1, y1)`` or ``None`` (no change).
    """
    if not 1.0 <= narrow < 4.0:
        raise ValueError(f"narrow must be in [1, 4) (a monotone remap); got {narrow!r}")
    lm = np.asarray(lips, dtype=np.float64)
    width = float(np.linalg.norm(lm[6] - lm[0]))
    if width <= 0 or narrow == 1.0:
        return None
    h, w = image.shape[:2]
    b = band * width
    x0, x1 = max(int(np.floor(lm[:12, 0].min())), 0), min(int(np.ceil(lm[:12, 0].max())) + 1, w)
    y0 = max(int(np.floor(lm[:12, 1].min() - b)) - 1, 0)
    y1 = min(int(np.ceil(lm[:12, 1].max() + b)) + 2, h)
    if x1 <= x0 or y1 <= y0:
        return None
    xs = np.arange(x0, x1, dtype=np.float64)
    u = (xs - lm[0, 0]) / max(lm[6, 0] - lm[0, 0], 1e-6)
    along = smoothstep((np.minimum(u, 1.0 - u) - _FADE[0]) / (_FADE[1] - _FADE[0]))
    rows = np.arange(y0, y1, dtype=np.float64)[:, None]
    read = np.repeat(rows, xs.size, axis=1)
    dist = [rows - outline_y(lm[points], xs)[None] for points in _OUTLINES]
    k = 1.0 + (narrow - 1.0) * along[None]
    for i, d in enumerate(dist):
        near = (np.abs(d) < b) & (np.abs(d) <= np.abs(dist[1 - i]))  # each row to its nearer outline
        read = np.where(near, rows - d + pinch(d, k, b), read)
    moved = np.abs(read - rows) > 1e-9
    if not moved.any():
        return None
    region = image[y0:y1, x0:x1]
    map_x = np.repeat(xs[None] - x0, rows.shape[0], axis=0).astype(np.float32)
    map_y = (read - y0).astype(np.float32)
    warped = cv2.remap(np.ascontiguousarray(region), map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    region[moved] = warped[moved]
    return x0, y0, x1, y1
