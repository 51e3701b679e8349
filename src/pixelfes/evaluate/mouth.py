"""The mouth on photos at their own size: contrast, tint and detail against the real photo.

Issue 11's judge of a full-resolution engine, independent of any engine. Every measure is
taken on the photo itself (no aligned crop, no resampling of the face), in regions found by
68 landmarks detected on that photo (an output is measured with landmarks found on the
output, not the ones the engine was given):

- **mouth interior**: the inner-lip polygon (points 60-67). When it is closed (polygon area
  under :data:`OPEN_AREA` of the squared mouth width, or fewer than :data:`MIN_INTERIOR_PX`
  pixels) the **lip line** is scored instead: a band along the midline between the upper
  and lower inner lip (60, mid 61/67, 62/66, 63/65, 64), :data:`LIP_LINE_WIDTH` of the
  mouth width thick (at least 2 px); :attr:`MouthMeasure.open` says which.
- **cheeks**: on each side the pentagon jaw point 1 / outer lower eyelid 41 / nose wing 31 /
  mouth corner 48 / jaw point 4 (mirrored: 15, 46, 35, 54, 12), shrunk towards its centroid
  to :data:`CHEEK_SHRINK` of its size so it stays off the eyelid, the nose, the nasolabial
  fold, the lips and the face outline; both sides together.
- **mouth box**: the bounding box of the outer lips (48-59), padded by :data:`BOX_PAD` of
  the mouth width on every side.

Colours are CIELAB (D65) from sRGB (IEC 61966-2-1, the piecewise gamma undone before the
matrix), :func:`srgb_to_lab`. Per photo: the median L*, a*, b* of the interior, the median
L* of the cheeks, and the **detail**: mean |Laplacian| (4-neighbour) of L* in the mouth box
after resampling the box to :data:`DETAIL_WIDTH` px wide (Lanczos, anti-aliased; aspect
kept). The fixed width makes the number a property of the mouth rather than of the photo's
resolution or the mouth's width: the same mouth drawn 1.5x larger has 1/1.5**2 the mean
|Laplacian| per pixel, so a wider smile would read as softer; resampled to 128 px both read
the same to 1 % (tests). Lanczos is used because OpenCV's area averaging at fractional
ratios adds a ripple the Laplacian picks up (0.77 instead of 1 on that test). 128 px is
well below every London mouth box (185-340 px on the 1350 px photos, outputs included), so
every box is shrunk; boxes close to or under 128 px (small photos) read softer, compare
like with like (``mouth_width`` is recorded). It still sees blur: a London smile blurred
by a Gaussian of 1 / 2 px reads 0.57 / 0.28 of itself, one shrunk 5.7x and enlarged back
(the 192 px canvas on a 1350 px photo) 0.21. The width matters for the numbers: real
neutral / real smile is 0.83 at 128 px, 0.73 at 160 (smiles show teeth edges; a finer scale
sees more of them).

Against the same person's real photo of the target expression (:func:`compare_mouths`):
contrast error ``|(L*_interior - L*_cheeks)_out - (same)_real|``, tint error (a*b*
distance of the interior medians) and detail ratio ``detail_out / detail_real``.
:func:`summarise_mouths` gives means per method and per group (e.g. ``face_eth`` of
London's ``london_info.csv``) with the worst/best group ratio of the contrast error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "BOX_PAD",
    "CHEEK_SHRINK",
    "DETAIL_WIDTH",
    "LIP_LINE_WIDTH",
    "MIN_INTERIOR_PX",
    "OPEN_AREA",
    "MouthComparison",
    "MouthMeasure",
    "MouthRegions",
    "compare_mouths",
    "detect_landmarks",
    "laplacian_detail",
    "measure_mouth",
    "mouth_regions",
    "region_stats",
    "srgb_to_lab",
    "summarise_mouths",
]

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
#: The mouth box is resampled to this width before the Laplacian (scale-free detail).
DETAIL_WIDTH = 128

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


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB ``(..., 3)`` float64 (L* in [0, 100]) of sRGB ``(..., 3) uint8`` under D65.

    The sRGB transfer curve is undone exactly (look-up table) before the linear RGB -> XYZ
    matrix; white (255, 255, 255) is L* = 100, a* = b* = 0.
    """
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.shape[-1:] != (3,):
        raise ValueError(f"rgb must be (..., 3) uint8 sRGB; got shape {rgb.shape} and dtype {rgb.dtype}")
    xyz = _LINEAR[rgb] @ (_RGB_TO_XYZ / _WHITE[:, None]).T
    eps = (6.0 / 29.0) ** 3
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


def mouth_regions(landmarks: np.ndarray, shape: tuple[int, ...]) -> MouthRegions:
    """The mouth interior, cheeks and mouth box of a face (module docstring) in a photo.

    ``landmarks``: ``(68, 2)`` (x, y) photo pixels (dlib order); ``shape``: the photo's
    ``(H, W[, C])``. Raises ``ValueError`` when a region falls outside the photo or is empty.
    """
    import cv2

    lm = _check_landmarks(landmarks)
    h, w = int(shape[0]), int(shape[1])
    width = float(np.linalg.norm(lm[54] - lm[48]))
    if width < 4:
        raise ValueError(f"the mouth is {width:.1f} px wide (points 48-54); too small to measure")
    pad = BOX_PAD * width
    outer = lm[48:60]
    bx0, by0 = np.floor(outer.min(axis=0) - pad).astype(int)
    bx1, by1 = np.ceil(outer.max(axis=0) + pad).astype(int) + 1
    cheeks_pts = [lm[list(idx)] for idx in _CHEEK_POINTS]
    cheeks_pts = [c.mean(axis=0) + CHEEK_SHRINK * (c - c.mean(axis=0)) for c in cheeks_pts]
    allp = np.vstack([outer, *cheeks_pts])
    x0 = max(0, min(bx0, int(np.floor(allp[:, 0].min())) - 1))
    y0 = max(0, min(by0, int(np.floor(allp[:, 1].min())) - 1))
    x1 = min(w, max(bx1, int(np.ceil(allp[:, 0].max())) + 2))
    y1 = min(h, max(by1, int(np.ceil(allp[:, 1].max())) + 2))
    if bx0 < 0 or by0 < 0 or bx1 > w or by1 > h:
        raise ValueError(f"the mouth box ({bx0}, {by0})-({bx1}, {by1}) leaves the {w}x{h} photo")
    off = np.array([x0, y0], dtype=np.float64)
    size = (y1 - y0, x1 - x0)

    inner = lm[60:68]
    opening = _polygon_area(inner) / width**2
    interior = np.zeros(size, np.uint8)
    cv2.fillPoly(interior, [_fixed(inner, off)], 1, lineType=cv2.LINE_8, shift=_SHIFT)
    is_open = opening >= OPEN_AREA and int(interior.sum()) >= MIN_INTERIOR_PX
    if not is_open:
        upper, lower = lm[[60, 61, 62, 63, 64]], lm[[60, 67, 66, 65, 64]]
        line = 0.5 * (upper + lower)
        interior[:] = 0
        thick = max(2, round(LIP_LINE_WIDTH * width))
        cv2.polylines(interior, [_fixed(line, off)], False, 1, thickness=thick,
                      lineType=cv2.LINE_8, shift=_SHIFT)
    cheeks = np.zeros(size, np.uint8)
    cv2.fillPoly(cheeks, [_fixed(c, off) for c in cheeks_pts], 1, lineType=cv2.LINE_8, shift=_SHIFT)
    if not interior.any() or not cheeks.any():
        raise ValueError("the mouth interior or the cheeks fall outside the photo")
    return MouthRegions((x0, y0, x1, y1), interior.astype(bool), cheeks.astype(bool),
                        (int(bx0), int(by0), int(bx1), int(by1)), bool(is_open), opening, width)


def laplacian_detail(lightness: np.ndarray, width: int = DETAIL_WIDTH) -> float:
    """Mean |4-neighbour Laplacian| of a lightness image ``(H, W)`` resampled to ``width`` px wide.

    Resampling is Lanczos (Pillow, anti-aliased when shrinking; aspect kept); borders are
    reflected (``BORDER_REFLECT_101``). Units: L* per pixel**2 at that width.
    """
    import cv2
    from PIL import Image

    img = np.asarray(lightness, dtype=np.float64)
    if img.ndim != 2 or min(img.shape) < 3:
        raise ValueError(f"lightness must be a 2-D image at least 3x3; got shape {img.shape}")
    if int(width) != width or width < 8:
        raise ValueError(f"width must be an integer >= 8; got {width!r}")
    hh, ww = img.shape
    if ww != width:
        new_h = max(3, round(hh * width / ww))
        small = Image.fromarray(img.astype(np.float32)).resize((int(width), new_h),
                                                               Image.Resampling.LANCZOS)
        img = np.asarray(small, dtype=np.float64)
    lap = cv2.Laplacian(img, cv2.CV_64F, ksize=1, borderType=cv2.BORDER_REFLECT_101)
    return float(np.mean(np.abs(lap)))


@dataclass(frozen=True)
class MouthMeasure:
    """One photo's mouth: median L*, a*, b* of the interior, median L* of the cheeks, detail."""

    interior_L: float
    interior_a: float
    interior_b: float
    cheek_L: float
    detail: float
    open: bool
    opening: float
    interior_px: int
    mouth_width: float

    @property
    def contrast(self) -> float:
        """Interior minus cheek lightness (L*): negative for a dark mouth on lighter skin."""
        return self.interior_L - self.cheek_L

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields plus ``contrast``."""
        return {**asdict(self), "contrast": self.contrast}


def region_stats(rgb: np.ndarray, regions: MouthRegions, detail_width: int = DETAIL_WIDTH) -> MouthMeasure:
    """The :class:`MouthMeasure` of ``rgb`` ``(H, W, 3) uint8`` in given regions."""
    x0, y0, x1, y1 = regions.window
    lab = srgb_to_lab(np.asarray(rgb)[y0:y1, x0:x1])
    inside = lab[regions.interior]
    bx0, by0, bx1, by1 = regions.box
    detail = laplacian_detail(lab[by0 - y0 : by1 - y0, bx0 - x0 : bx1 - x0, 0], detail_width)
    return MouthMeasure(
        interior_L=float(np.median(inside[:, 0])), interior_a=float(np.median(inside[:, 1])),
        interior_b=float(np.median(inside[:, 2])),
        cheek_L=float(np.median(lab[regions.cheeks][:, 0])), detail=detail,
        open=regions.open, opening=regions.opening, interior_px=int(len(inside)),
        mouth_width=regions.mouth_width,
    )


def detect_landmarks(rgb: np.ndarray, path: str | Path | None = None) -> np.ndarray:
    """``(68, 2)`` landmarks of the largest face of ``rgb`` (dlib, full resolution).

    The judge takes dlib's fit as it is (``check=False``): the synthesis pipeline skips fits
    that do not reproduce themselves, but a judge that skipped an output would drop that
    person from one method's mean and not another's. Raises
    :class:`pixelfes.face.NoFaceError` (naming ``path``) when no face is found.
    """
    from pixelfes.face import detect_faces

    return detect_faces(rgb, landmarks=68, max_faces=1, path=path, check=False)[0].landmarks


def measure_mouth(rgb: np.ndarray, landmarks: np.ndarray | None = None, *,
                  detail_width: int = DETAIL_WIDTH, path: str | Path | None = None) -> MouthMeasure:
    """Measure the mouth of the largest face of ``rgb`` ``(H, W, 3) uint8`` at its own size.

    ``landmarks`` ``(68, 2)``: use these instead of detecting (:func:`detect_landmarks`).
    """
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"rgb must be (H, W, 3) uint8; got shape {rgb.shape} and dtype {rgb.dtype}")
    lm = detect_landmarks(rgb, path) if landmarks is None else landmarks
    return region_stats(rgb, mouth_regions(lm, rgb.shape), detail_width)


@dataclass(frozen=True)
class MouthComparison:
    """An output's mouth against the real photo of the target expression.

    ``contrast_difference``: signed, output minus real (positive: the mouth reads too light
    against the cheeks, e.g. a glowing tooth band); ``contrast_error`` is its magnitude.
    """

    contrast_error: float
    contrast_difference: float
    tint_error: float
    detail_ratio: float
    open_output: bool
    open_real: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare_mouths(output: MouthMeasure, real: MouthMeasure) -> MouthComparison:
    """Contrast error (L*), tint error (a*b* distance) and detail ratio of ``output`` vs ``real``."""
    diff = output.contrast - real.contrast
    return MouthComparison(
        contrast_error=abs(diff), contrast_difference=diff,
        tint_error=float(np.hypot(output.interior_a - real.interior_a,
                                  output.interior_b - real.interior_b)),
        detail_ratio=output.detail / real.detail if real.detail > 0 else float("nan"),
        open_output=output.open, open_real=real.open,
    )


#: The detail ratio's goal band (issue 11).
DETAIL_GOAL = (0.85, 1.2)
#: No group's mean contrast error may exceed this multiple of the best group's (issue 11).
GROUP_RATIO_GOAL = 1.5


def _mean(values: Sequence[float]) -> float | None:
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=np.float64)
    return float(v.mean()) if len(v) else None


def summarise_mouths(rows: Sequence[Mapping[str, Any]], *, min_group: int = 3,
                     key: Callable[[Mapping[str, Any]], str] = lambda r: str(r["method"])) -> dict[str, Any]:
    """Means per method and per group of per-person comparison rows.

    Each row: ``method``, ``group`` and the :class:`MouthComparison` fields
    (``contrast_difference`` may be absent), or ``failed`` (a reason: no face found on the
    output...), counted and left out of the means. The contrast error is also split by
    whether the real mouth is open. Groups with fewer than ``min_group`` people are listed
    but do not enter the
    worst/best ratio (one person is not a group mean).
    """
    out: dict[str, Any] = {}
    for method in dict.fromkeys(key(r) for r in rows):
        mine = [r for r in rows if key(r) == method]
        ok = [r for r in mine if not r.get("failed")]
        groups: dict[str, Any] = {}
        for g in sorted({str(r["group"]) for r in ok}):
            gr = [r for r in ok if str(r["group"]) == g]
            groups[g] = {"n": len(gr),
                         "contrast_error": _mean([r["contrast_error"] for r in gr]),
                         "contrast_difference": _mean([r.get("contrast_difference", np.nan) for r in gr]),
                         "tint_error": _mean([r["tint_error"] for r in gr]),
                         "detail_ratio": _mean([r["detail_ratio"] for r in gr])}
        counted = [v["contrast_error"] for v in groups.values()
                   if v["n"] >= min_group and v["contrast_error"] is not None]
        ratio = (max(counted) / min(counted)) if len(counted) >= 2 and min(counted) > 0 else None
        detail = np.asarray([r["detail_ratio"] for r in ok], dtype=np.float64)
        detail = detail[np.isfinite(detail)]
        out[method] = {
            "n": len(ok), "failed": len(mine) - len(ok),
            "failures": [f"{r.get('identity', '?')}: {r['failed']}" for r in mine if r.get("failed")],
            "contrast_error": _mean([r["contrast_error"] for r in ok]),
            "contrast_difference": _mean([r.get("contrast_difference", np.nan) for r in ok]),
            "contrast_error_real_open": _mean([r["contrast_error"] for r in ok if r["open_real"]]),
            "contrast_error_real_closed": _mean([r["contrast_error"] for r in ok if not r["open_real"]]),
            "tint_error": _mean([r["tint_error"] for r in ok]),
            "detail_ratio": _mean(list(detail)),
            "detail_ratio_median": float(np.median(detail)) if len(detail) else None,
            "detail_in_goal": (float(np.mean((detail >= DETAIL_GOAL[0]) & (detail <= DETAIL_GOAL[1])))
                               if len(detail) else None),
            "open_output": _mean([float(r["open_output"]) for r in ok]),
            "open_real": _mean([float(r["open_real"]) for r in ok]),
            "groups": groups,
            "group_ratio": ratio,
            "group_ratio_min_n": min_group,
        }
    return out
