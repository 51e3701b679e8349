"""Where a face's mouth is measured: interior (or closed lip line), cheeks, mouth box; CIELAB.

The regions of :mod:`pixelfes.evaluate.mouth` (defined and explained there), in a leaf
module so the synthesis path can read a face's mouth the same way without importing the
evaluation package (the native engine compares a person's neutral mouth with the bank's).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._nomask import median

__all__ = ["BOX_PAD", "CHEEK_SHRINK", "LIP_LINE_WIDTH", "MIN_INTERIOR_PX", "OPEN_AREA", "MouthRegions",
           "interior_look", "interior_region", "masked_pixels", "mouth_look", "mouth_look_and_cheeks", "mouth_regions",
           "outline_y", "srgb_to_lab", "srgb_to_lightness"]

#: Inner-lip polygon area / mouth width**2 at or above which the mouth counts as open.
#: London (dlib points on 1350 px photos): closed smiles and neutral mouths 0.0002-0.015,
#: open smiles 0.027-0.11.
OPEN_AREA = 0.02
#: An interior polygon with fewer pixels than this is scored as closed too.
MIN_INTERIOR_PX = 30
#: Thickness of the lip-line band of a closed mouth, fraction of the mouth width.
LIP_LINE_WIDTH = 0.025
#: Cheek pentagons are shrunk towards their centroid to this fraction of their size.
CHEEK_SHRINK = 0.6
#: Padding of the mouth box on every side, fraction of the mouth width.
BOX_PAD = 0.2

_CHEEK_POINTS = ((1, 41, 31, 48, 4), (15, 46, 35, 54, 12))

# sRGB (D65) linear RGB -> XYZ, IEC 61966-2-1; white point of the same matrix (rows summed)
_RGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
_WHITE = _RGB_TO_XYZ.sum(axis=1)


def _srgb_linear_lut() -> np.ndarray:
    c = np.arange(256, dtype=np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


_LINEAR = _srgb_linear_lut()


def outline_y(points: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """The y of the polyline ``points`` (``(N, 2)``, in any x order) at columns ``xs``: a lip
    outline read column by column (linear between its points, constant past its ends)."""
    order = np.argsort(points[:, 0], kind="stable")
    return np.interp(xs, points[order, 0], points[order, 1])


def masked_pixels(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``image[mask]`` for an ``(H, W, C)`` image and an ``(H, W) bool`` mask: the same pixels in
    the same (row-major) order, ``(N, C)``, gathered with ``take`` (numpy's boolean index of a
    3-D array is ~5x slower)."""
    img = np.asarray(image)
    return img.reshape(-1, img.shape[-1]).take(np.flatnonzero(mask), axis=0) if img.ndim == 3 \
        else img[mask]


def srgb_to_lightness(rgb: np.ndarray) -> np.ndarray:
    """:func:`srgb_to_lab`'s L* alone ``(...)`` float64: the same values (the same XYZ product,
    one cube root instead of three)."""
    return _to_lab(rgb, lightness_only=True)


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB ``(..., 3)`` float64 (L* in [0, 100]) of sRGB ``(..., 3) uint8`` under D65.

    The sRGB transfer curve is undone exactly (look-up table) before the linear RGB -> XYZ
    matrix; white (255, 255, 255) is L* = 100, a* = b* = 0.
    """
    return _to_lab(rgb)


def _to_lab(rgb: np.ndarray, lightness_only: bool = False) -> np.ndarray:
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.shape[-1:] != (3,):
        raise ValueError(f"rgb must be (..., 3) uint8 sRGB; got shape {rgb.shape} and dtype {rgb.dtype}")
    xyz = _LINEAR[rgb] @ (_RGB_TO_XYZ / _WHITE[:, None]).T
    eps = (6.0 / 29.0) ** 3
    if lightness_only:
        y = xyz[..., 1]
        return 116.0 * np.where(y > eps, np.cbrt(y), y / (3 * (6.0 / 29.0) ** 2) + 4.0 / 29.0) - 16.0
    f = np.where(xyz > eps, np.cbrt(xyz), xyz / (3 * (6.0 / 29.0) ** 2) + 4.0 / 29.0)
    lab = np.empty_like(f)
    lab[..., 0] = 116.0 * f[..., 1] - 16.0
    lab[..., 1] = 500.0 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200.0 * (f[..., 1] - f[..., 2])
    return lab


def _check_landmarks(landmarks: object) -> np.ndarray:
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.shape != (68, 2) or not np.all(np.isfinite(lm)):
        raise ValueError(f"landmarks must be 68 finite (x, y) points shaped (68, 2); got shape {lm.shape}")
    return lm


def _polygon_area(p: np.ndarray) -> float:
    x, y = p[:, 0], p[:, 1]
    return float(0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


_SHIFT = 4  # fixed-point bits for sub-pixel polygon corners (OpenCV ``shift``)


def _fixed(points: np.ndarray, offset: np.ndarray) -> np.ndarray:
    return np.rint((points - offset) * (1 << _SHIFT)).astype(np.int32).reshape(-1, 1, 2)


@dataclass(frozen=True)
class MouthRegions:
    """Where a photo's mouth measures are taken; masks cover ``window`` only.

    ``window`` ``(x0, y0, x1, y1)`` int photo pixels (x1, y1 exclusive); ``interior`` and
    ``cheeks`` ``(y1 - y0, x1 - x0) bool``; ``box`` the padded mouth box in photo pixels
    (inside ``window``); ``open``: interior is the inner-lip polygon (else the lip-line
    band); ``opening``: inner-lip area / mouth width**2; ``mouth_width``: |p54 - p48| px.
    """

    window: tuple[int, int, int, int]
    interior: np.ndarray = field(repr=False)
    cheeks: np.ndarray = field(repr=False)
    box: tuple[int, int, int, int]
    open: bool
    opening: float
    mouth_width: float


def _mouth_box(lm: np.ndarray, w: int, h: int) -> tuple[float, tuple[int, int, int, int]]:
    """The mouth width (48-54) and the padded box around the outer lips; raises ``ValueError``
    when the mouth is too small to measure or the box leaves the ``w`` x ``h`` photo."""
    width = float(np.linalg.norm(lm[54] - lm[48]))
    if width < 4:
        raise ValueError(f"the mouth is {width:.1f} px wide (points 48-54); too small to measure")
    pad = BOX_PAD * width
    outer = lm[48:60]
    bx0, by0 = np.floor(outer.min(axis=0) - pad).astype(int)
    bx1, by1 = np.ceil(outer.max(axis=0) + pad).astype(int) + 1
    if bx0 < 0 or by0 < 0 or bx1 > w or by1 > h:
        raise ValueError(f"the mouth box ({bx0}, {by0})-({bx1}, {by1}) leaves the {w}x{h} photo")
    return width, (int(bx0), int(by0), int(bx1), int(by1))


def mouth_regions(landmarks: np.ndarray, shape: tuple[int, ...]) -> MouthRegions:
    """The mouth interior, cheeks and mouth box of a face (module docstring) in a photo.

    ``landmarks``: ``(68, 2)`` (x, y) photo pixels (dlib order); ``shape``: the photo's
    ``(H, W[, C])``. Raises ``ValueError`` when a region falls outside the photo or is empty.
    """
    import cv2

    lm = _check_landmarks(landmarks)
    h, w = int(shape[0]), int(shape[1])
    width, (bx0, by0, bx1, by1) = _mouth_box(lm, w, h)
    outer = lm[48:60]
    cheeks_pts = [lm[list(idx)] for idx in _CHEEK_POINTS]
    cheeks_pts = [c.mean(axis=0) + CHEEK_SHRINK * (c - c.mean(axis=0)) for c in cheeks_pts]
    allp = np.vstack([outer, *cheeks_pts])
    x0 = max(0, min(bx0, int(np.floor(allp[:, 0].min())) - 1))
    y0 = max(0, min(by0, int(np.floor(allp[:, 1].min())) - 1))
    x1 = min(w, max(bx1, int(np.ceil(allp[:, 0].max())) + 2))
    y1 = min(h, max(by1, int(np.ceil(allp[:, 1].max())) + 2))
    off = np.array([x0, y0], dtype=np.float64)
    size = (y1 - y0, x1 - x0)

    interior, is_open, opening = _interior(lm, width, off, size)
    cheeks = np.zeros(size, np.uint8)
    cv2.fillPoly(cheeks, [_fixed(c, off) for c in cheeks_pts], 1, lineType=cv2.LINE_8, shift=_SHIFT)
    if not interior.any() or not cheeks.any():
        raise ValueError("the mouth interior or the cheeks fall outside the photo")
    return MouthRegions((x0, y0, x1, y1), interior.astype(bool), cheeks.astype(bool),
                        (int(bx0), int(by0), int(bx1), int(by1)), bool(is_open), opening, width)


def _interior(lm: np.ndarray, width: float, off: np.ndarray, size: tuple[int, int]
              ) -> tuple[np.ndarray, bool, float]:
    """The interior mask ``size`` uint8 at photo offset ``off``, whether it is the open polygon,
    and the opening (inner-lip area / width**2)."""
    import cv2

    inner = lm[60:68]
    opening = _polygon_area(inner) / width**2
    interior = np.zeros(size, np.uint8)
    cv2.fillPoly(interior, [_fixed(inner, off)], 1, lineType=cv2.LINE_8, shift=_SHIFT)
    is_open = opening >= OPEN_AREA and int(interior.sum()) >= MIN_INTERIOR_PX
    if not is_open:
        upper, lower = lm[[60, 61, 62, 63, 64]], lm[[60, 67, 66, 65, 64]]
        line = 0.5 * (upper + lower)
        interior[:] = 0
        cv2.polylines(interior, [_fixed(line, off)], False, 1, thickness=_line_px(width),
                      lineType=cv2.LINE_8, shift=_SHIFT)
    return interior, bool(is_open), opening


def _line_px(width: float) -> int:
    return max(2, round(LIP_LINE_WIDTH * width))


def interior_region(landmarks: np.ndarray, shape: tuple[int, ...]) -> tuple[tuple[int, int, int, int], np.ndarray]:
    """:func:`mouth_regions`' interior alone, in a box just around the lips (cheaper: no cheeks,
    no window): ``((x0, y0, x1, y1), (y1 - y0, x1 - x0) bool)``, the same pixels as
    ``mouth_regions(...).interior``. Raises ``ValueError`` where :func:`mouth_regions` does
    for the mouth (too small, its box off the photo, no interior pixel)."""
    lm = _check_landmarks(landmarks)
    h, w = int(shape[0]), int(shape[1])
    width = _mouth_box(lm, w, h)[0]
    grow = _line_px(width) + 2
    x0, y0 = np.maximum(np.floor(lm[48:68].min(axis=0)).astype(int) - grow, 0)
    x1, y1 = np.minimum(np.ceil(lm[48:68].max(axis=0)).astype(int) + grow + 1, (w, h))
    interior = _interior(lm, width, np.array([x0, y0], dtype=np.float64), (int(y1 - y0), int(x1 - x0)))[0]
    if not interior.any():
        raise ValueError("the mouth interior or the cheeks fall outside the photo")
    return (int(x0), int(y0), int(x1), int(y1)), interior.astype(bool)


def mouth_look(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """``(3,)`` a face's mouth look: median L* of the interior (or closed lip line) minus that of
    the cheeks, median a*, b* of the interior. Raises ``ValueError`` as :func:`mouth_regions`."""
    return mouth_look_and_cheeks(rgb, landmarks)[0]


def mouth_look_and_cheeks(rgb: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, float]:
    """:func:`mouth_look` and the cheeks' median L* it is taken against, in one pass."""
    reg = mouth_regions(landmarks, np.shape(rgb))
    x0, y0, x1, y1 = reg.window
    window = np.asarray(rgb)[y0:y1, x0:x1]
    inside = srgb_to_lab(masked_pixels(window, reg.interior))  # only the pixels measured
    cheek = float(median(srgb_to_lightness(masked_pixels(window, reg.cheeks))))
    return interior_look(inside, cheek), cheek


def interior_look(inside_lab: np.ndarray, cheek_l: float) -> np.ndarray:
    """``(3,)`` :func:`mouth_look` from the interior's CIELAB pixels ``(N, 3)`` and the cheeks' median L*."""
    return np.array([median(inside_lab[:, 0]) - cheek_l,
                     median(inside_lab[:, 1]), median(inside_lab[:, 2])])
