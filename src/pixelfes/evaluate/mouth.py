"""The mouth on photos at their own size: contrast, tint and detail against the real photo.

Issue 11's judge of a full-resolution engine, independent of any engine. Every measure is
taken on the photo itself (no aligned crop, no resampling of the face), in regions found by
68 landmarks detected on that photo (an output is measured with landmarks found on the
output, not the ones the engine was given):

- **mouth interior**: by default (``call="photo"``; docs/mouth.md, "Which call the measure
  uses") the inner-lip polygon (points 60-67) when the photo shows the mouth open, else the
  **lip line**, a band :data:`LIP_LINE_WIDTH` of the mouth width thick (at least 2 px) along
  the line where the lips meet; :attr:`MouthMeasure.open` says which. With ``call="area"``
  (the measure's first call, kept to compare): the polygon when its area is at least
  :data:`OPEN_AREA` of the squared mouth width (and it has :data:`MIN_INTERIOR_PX` pixels),
  else the band along the midline of the inner lips (60, mid 61/67, 62/66, 63/65, 64). The
  photo call's open and line are read off the photo (:func:`read_lips`), not off the landmarks' polygon area: dlib
  puts the lower inner-lip points of some closed mouths on the middle of the lower lip, so
  the area test (recorded as ``area_open`` either way) takes the pink top of a lower lip
  for an interior. **Open** = teeth seen: at least :data:`OPEN_TEETH_SHARE` of the
  central columns (between points 61 and 63) hold a tooth-like pixel (a* under
  :data:`TOOTH_RED_SHARE` of the lips' median a* and L* above the lips' median, or a*
  under the lips' and L* :data:`TOOTH_LIGHT` above theirs) in a patch
  within :data:`TOOTH_JOIN` mouth widths of the dark line between the lips (a gloss
  highlight lies on the lower lip, lip-coloured pixels away from that line). The **lip line**
  is that dark line: from point 60 to 64 the darkest connected path (least summed L*,
  smoothed along the mouth, moving at most a pixel a column at a cost of
  :data:`_STEP_COST` L* a pixel) between the middle of the upper lip and the middle of the
  lower lip (halfway between the outer and inner contours). A mouth open on
  darkness alone (no tooth seen) is called closed; its darkest line then lies in the gap.
  An open mouth whose polygon has under :data:`MIN_INTERIOR_PX` pixels is scored on the
  line.
- **cheeks**: on each side the pentagon jaw point 1 / outer lower eyelid 41 / nose wing 31 /
  mouth corner 48 / jaw point 4 (mirrored: 15, 46, 35, 54, 12), shrunk towards its centroid
  to :data:`CHEEK_SHRINK` of its size so it stays off the eyelid, the nose, the nasolabial
  fold, the lips and the face outline; both sides together.
- **mouth box**: the bounding box of the outer lips (48-59), padded by :data:`BOX_PAD` of
  the mouth width on every side.
- **beside the nose** (the nasolabial region, where a smile's fold forms): on each side the
  quadrilateral nose wing 31 / mouth corner 48 / :data:`FOLD_REACH` of the way from 48 to
  jaw point 4 / the same from 31 to jaw point 2 (mirrored: 35, 54, 12, 14); both sides
  together. Its median L*, a*, b* give the **fold** figures: a*b* distance to the real
  photo's (``fold_tint_error``) and signed chroma and L* differences (negative chroma: the
  fold reads greyer than the real one).

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
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from pixelfes.mouth_regions import (  # the regions live in a leaf module the engine uses too
    BOX_PAD,
    CHEEK_SHRINK,
    LIP_LINE_WIDTH,
    MIN_INTERIOR_PX,
    OPEN_AREA,
    MouthRegions,
    mouth_regions,
    outline_y,
    srgb_to_lab,
)

__all__ = [
    "BOX_PAD",
    "CHEEK_SHRINK",
    "DETAIL_WIDTH",
    "FOLD_REACH",
    "LIP_LINE_WIDTH",
    "MIN_INTERIOR_PX",
    "MOUTH_CALLS",
    "OPEN_AREA",
    "OPEN_TEETH_SHARE",
    "TOOTH_JOIN",
    "TOOTH_LIGHT",
    "TOOTH_RED_SHARE",
    "LipReading",
    "MouthComparison",
    "MouthMeasure",
    "MouthRegions",
    "compare_mouths",
    "detect_landmarks",
    "fold_region",
    "laplacian_detail",
    "measure_mouth",
    "judged_regions",
    "mouth_regions",
    "read_lips",
    "region_stats",
    "srgb_to_lab",
    "summarise_mouths",
]

#: The mouth box is resampled to this width before the Laplacian (scale-free detail).
DETAIL_WIDTH = 128
#: The region beside the nose reaches this share of the way from nose wing / mouth corner
#: towards the jaw (points 2 and 4): the fold and the cheek just outside it.
FOLD_REACH = 0.4
_FOLD_POINTS = ((31, 48, 4, 2), (35, 54, 12, 14))
#: A pixel is tooth-like when its a* is under this share of the lips' median a* (floored at
#: 4, pale lips) and its L* above the lips' median L*. Fixed before looking at any figure.
TOOTH_RED_SHARE = 0.5
#: ... or (lent teeth shaded warm near the lips, on dark lips) less red than the lips' median
#: and this much lighter (L*). Set on the native engine's neutral -> happy outputs, where
#: without it three lent-teeth smiles on dark skin read closed (025, 064, 096).
TOOTH_LIGHT = 20.0
#: Tooth-like patches count when they come within this distance (mouth widths) of the dark
#: line between the lips: the smallest of 0.01, 0.02, 0.03, 0.04 at which every London smile
#: that shows teeth in a band (018, 027) is read open (set on the smiles).
TOOTH_JOIN = 0.02
#: The mouth is open when at least this share of the central columns (61-63) shows such
#: teeth. Set on London's 82 real smiles: every closed one reads 0, every open one but 039
#: 0.28 or more, so any value in (0, 0.28] sorts them alike; 0.1 was taken, then checked on
#: the 82 neutral photos (docs/mouth.md "Reading the lips off the photo").
OPEN_TEETH_SHARE = 0.1
#: Horizontal smoothing of L* and a* before the lips are read, in mouth widths.
_READ_BLUR = 0.02
#: The lip line's cost (L*) of each pixel it moves up or down from one column to the next.
_STEP_COST = 2.0


def fold_region(landmarks: np.ndarray, shape: tuple[int, ...]) -> tuple[tuple[int, int, int, int], np.ndarray]:
    """The region beside the nose (module docstring) of a face in a photo of ``shape``:
    its window ``(x0, y0, x1, y1)`` and ``(y1 - y0, x1 - x0) bool`` mask. ``ValueError`` when empty."""
    import cv2

    from ..mouth_regions import _SHIFT, _fixed

    lm = np.asarray(landmarks, dtype=np.float64)
    quads = [np.array([lm[a], lm[b], lm[b] + FOLD_REACH * (lm[c] - lm[b]),
                       lm[a] + FOLD_REACH * (lm[d] - lm[a])]) for a, b, c, d in _FOLD_POINTS]
    allp = np.vstack(quads)
    h, w = int(shape[0]), int(shape[1])
    x0, y0 = np.maximum(np.floor(allp.min(axis=0)).astype(int) - 1, 0)
    x1, y1 = np.minimum(np.ceil(allp.max(axis=0)).astype(int) + 2, (w, h))
    if x1 <= x0 or y1 <= y0:
        raise ValueError("the region beside the nose falls outside the photo")
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    off = np.array([x0, y0], dtype=np.float64)
    cv2.fillPoly(mask, [_fixed(q, off) for q in quads], 1, lineType=cv2.LINE_8, shift=_SHIFT)
    if not mask.any():
        raise ValueError("the region beside the nose is empty")
    return (int(x0), int(y0), int(x1), int(y1)), mask.astype(bool)


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
    #: median L*, a*, b* beside the nose (:func:`fold_region`; NaN: not measured)
    fold_L: float = float("nan")
    fold_a: float = float("nan")
    fold_b: float = float("nan")
    #: :func:`read_lips`' share of central columns showing teeth (NaN: not read)
    teeth_share: float = float("nan")
    #: the landmarks' own call (inner-lip area at least :data:`OPEN_AREA`), kept for comparison
    area_open: bool | None = None

    @property
    def contrast(self) -> float:
        """Interior minus cheek lightness (L*): negative for a dark mouth on lighter skin."""
        return self.interior_L - self.cheek_L

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields plus ``contrast``."""
        return {**asdict(self), "contrast": self.contrast}


def region_stats(rgb: np.ndarray, regions: MouthRegions, detail_width: int = DETAIL_WIDTH,
                 fold: tuple[tuple[int, int, int, int], np.ndarray] | None = None) -> MouthMeasure:
    """The :class:`MouthMeasure` of ``rgb`` ``(H, W, 3) uint8`` in given regions (and
    :func:`fold_region`'s ``fold``, if given)."""
    fold_lab = [np.nan] * 3
    if fold is not None:
        (fx0, fy0, fx1, fy1), fmask = fold
        fl = srgb_to_lab(np.asarray(rgb)[fy0:fy1, fx0:fx1])[fmask]
        fold_lab = [float(v) for v in np.median(fl, axis=0)]
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
        mouth_width=regions.mouth_width, fold_L=fold_lab[0], fold_a=fold_lab[1], fold_b=fold_lab[2],
    )


@dataclass(frozen=True)
class LipReading:
    """What the photo shows between the lips (:func:`read_lips`).

    ``teeth_share``: share of the central columns (61-63) with joined tooth-like pixels;
    ``open``: ``teeth_share >= OPEN_TEETH_SHARE``; ``line``: ``(N, 2)`` photo (x, y) of the
    dark line between the lips, one point per pixel column from point 60 to 64.
    """

    teeth_share: float
    open: bool
    line: np.ndarray


def _darkest_path(cost: np.ndarray, step: float) -> np.ndarray:
    """``(W,) int``: the row per column of the path of least summed ``cost`` ``(H, W)``
    (``inf`` = forbidden) that moves at most one row between neighbouring columns, each
    move costing ``step`` (dynamic programming; a loop over columns, vectorised over rows)."""
    h, w = cost.shape
    big = 1e9
    c = np.where(np.isfinite(cost), cost, big)
    total = c[:, 0].copy()
    back = np.zeros((h, w), np.int8)
    for j in range(1, w):
        up = np.concatenate([[np.inf], total[:-1]]) + step      # from row i-1
        down = np.concatenate([total[1:], [np.inf]]) + step     # from row i+1
        choice = np.argmin(np.stack([total, up, down]), axis=0)
        total = np.choose(choice, [total, up, down]) + c[:, j]
        back[:, j] = np.array([0, -1, 1], np.int8)[choice]
    path = np.empty(w, int)
    path[-1] = int(np.argmin(total))
    for j in range(w - 1, 0, -1):
        path[j - 1] = path[j] + back[path[j], j]
    return path


def read_lips(rgb: np.ndarray, landmarks: np.ndarray) -> LipReading:
    """Whether the mouth of ``rgb`` ``(H, W, 3) uint8`` shows teeth, and where its lips meet.

    See the module docstring (mouth interior). The lips' reference colour is the median of
    the outer-lip polygon (48-59) minus the inner one (60-67). Raises ``ValueError`` as
    :func:`mouth_regions` for a mouth too small or off the photo.
    """
    import cv2

    from ..mouth_regions import _check_landmarks, _mouth_box

    rgb = np.asarray(rgb)
    lm = _check_landmarks(landmarks)
    h, w = rgb.shape[:2]
    width = _mouth_box(lm, w, h)[0]
    x0, y0 = np.maximum(np.floor(lm[48:60].min(axis=0)).astype(int) - 2, 0)
    x1, y1 = np.minimum(np.ceil(lm[48:60].max(axis=0)).astype(int) + 3, (w, h))
    lab = srgb_to_lab(rgb[y0:y1, x0:x1])
    k = max(1, round(_READ_BLUR * width)) | 1
    light = cv2.blur(lab[..., 0], (k, 1), borderType=cv2.BORDER_REFLECT_101)
    red = cv2.blur(lab[..., 1], (k, 1), borderType=cv2.BORDER_REFLECT_101)
    off = np.array([x0, y0], dtype=np.float64)
    outer = np.zeros(light.shape, np.uint8)
    inner = np.zeros(light.shape, np.uint8)
    cv2.fillPoly(outer, [np.rint(lm[48:60] - off).astype(np.int32)], 1)
    cv2.fillPoly(inner, [np.rint(lm[60:68] - off).astype(np.int32)], 1)
    ring = (outer > 0) & (inner == 0)
    if not ring.any():
        ring = outer > 0
    lip_l, lip_a = float(np.median(lab[..., 0][ring])), float(np.median(lab[..., 1][ring]))
    xs = np.arange(max(int(np.ceil(lm[60, 0])), x0), min(int(np.floor(lm[64, 0])), x1 - 1) + 1)
    if len(xs) < 3:
        raise ValueError("the inner lips (points 60-64) are under 3 px wide; too small to read")
    up_o = outline_y(lm[[48, 49, 50, 51, 52, 53, 54]], xs)
    lo_o = outline_y(lm[[48, 59, 58, 57, 56, 55, 54]], xs)
    up_i = outline_y(lm[[60, 61, 62, 63, 64]], xs)
    lo_i = np.maximum(outline_y(lm[[60, 67, 66, 65, 64]], xs), up_i)
    top, bot = up_o + 0.5 * (up_i - up_o), lo_i + 0.5 * (lo_o - lo_i)
    rows = (np.arange(light.shape[0]) + y0)[:, None]
    window = (rows >= np.floor(top)) & (rows <= np.ceil(bot))
    window[np.clip(np.rint(0.5 * (up_i + lo_i)).astype(int) - y0, 0, light.shape[0] - 1),
           np.arange(len(xs))] = True  # never an empty column
    col_l, col_a = light[:, xs - x0], red[:, xs - x0]
    columns = np.arange(len(xs))
    darkest = np.argmin(np.where(window, col_l, np.inf), axis=0)
    line = _darkest_path(np.where(window, col_l, np.inf), _STEP_COST)
    central = (xs >= lm[61, 0]) & (xs <= lm[63, 0])
    if not central.any():
        central[len(xs) // 2] = True
    dark_l = float(np.median(col_l[darkest, columns][central]))
    teeth = (((col_a < TOOTH_RED_SHARE * max(lip_a, 4.0)) & (col_l > lip_l))
             | ((col_a < lip_a) & (col_l > lip_l + TOOTH_LIGHT))) & window
    dark = (col_l < 0.5 * (dark_l + lip_l)) & window
    _, parts = cv2.connectedComponents(dark.astype(np.uint8), connectivity=8)
    on_line = parts[line, columns]
    seed = np.isin(parts, on_line[on_line > 0])
    seed[line, columns] = True
    dist = cv2.distanceTransform((~seed).astype(np.uint8), cv2.DIST_L2, 3)
    n_teeth, patches = cv2.connectedComponents(teeth.astype(np.uint8), connectivity=8)
    nearest = np.full(n_teeth, np.inf)
    np.minimum.at(nearest, patches[teeth], dist[teeth])
    joined = (nearest <= TOOTH_JOIN * width)[patches] & teeth
    share = float(np.mean(joined[:, central].any(axis=0)))
    points = np.column_stack([xs, line + y0]).astype(np.float64)
    return LipReading(share, share >= OPEN_TEETH_SHARE, points)


def judged_regions(rgb: np.ndarray, landmarks: np.ndarray) -> tuple[MouthRegions, LipReading]:
    """:func:`mouth_regions` with the interior chosen by :func:`read_lips`: the inner-lip
    polygon when the photo shows teeth, else a band along the dark line where the lips meet."""
    import cv2

    from ..mouth_regions import _SHIFT, _fixed, _line_px

    rgb = np.asarray(rgb)
    reg = mouth_regions(landmarks, rgb.shape)
    reading = read_lips(rgb, landmarks)
    lm = np.asarray(landmarks, dtype=np.float64)
    x0, y0, x1, y1 = reg.window
    off = np.array([x0, y0], dtype=np.float64)
    interior = np.zeros((y1 - y0, x1 - x0), np.uint8)
    is_open = reading.open
    if is_open:
        cv2.fillPoly(interior, [_fixed(lm[60:68], off)], 1, lineType=cv2.LINE_8, shift=_SHIFT)
    if not is_open or int(interior.sum()) < MIN_INTERIOR_PX:
        interior[:] = 0
        cv2.polylines(interior, [_fixed(reading.line, off)], False, 1,
                      thickness=_line_px(reg.mouth_width), lineType=cv2.LINE_8, shift=_SHIFT)
        is_open = False
    if not interior.any():
        raise ValueError("the mouth interior falls outside the photo")
    return replace(reg, interior=interior.astype(bool), open=bool(is_open)), reading


def detect_landmarks(rgb: np.ndarray, path: str | Path | None = None) -> np.ndarray:
    """``(68, 2)`` landmarks of the largest face of ``rgb`` (dlib, full resolution).

    The judge takes dlib's fit as it is (``check=False``): the synthesis pipeline skips fits
    that do not reproduce themselves, but a judge that skipped an output would drop that
    person from one method's mean and not another's. Raises
    :class:`pixelfes.face.NoFaceError` (naming ``path``) when no face is found.
    """
    from pixelfes.face import detect_faces

    return detect_faces(rgb, landmarks=68, max_faces=1, path=path, check=False)[0].landmarks


#: How :func:`measure_mouth` calls a mouth open: ``"photo"`` (:func:`judged_regions`: teeth
#: seen, the dark line found; the default: it agrees with eye labels on 325 of 328 real and
#: native-engine mouths against the area call's 290, docs/mouth.md "Which call the measure
#: uses") or ``"area"`` (the landmarks' inner-lip area, :data:`OPEN_AREA`, and their midline
#: as the lip line: the first call, kept to compare).
MOUTH_CALLS = ("photo", "area")


def measure_mouth(rgb: np.ndarray, landmarks: np.ndarray | None = None, *,
                  detail_width: int = DETAIL_WIDTH, path: str | Path | None = None,
                  call: str = "photo") -> MouthMeasure:
    """Measure the mouth of the largest face of ``rgb`` ``(H, W, 3) uint8`` at its own size.

    ``landmarks`` ``(68, 2)``: use these instead of detecting (:func:`detect_landmarks`).
    ``call`` (:data:`MOUTH_CALLS`): ``"photo"`` takes the interior of :func:`judged_regions`,
    ``"area"`` that of :func:`mouth_regions` (the landmarks' call). Both calls are recorded
    either way (``area_open``; ``teeth_share``, open under ``"photo"`` iff at least
    :data:`OPEN_TEETH_SHARE`).
    """
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"rgb must be (H, W, 3) uint8; got shape {rgb.shape} and dtype {rgb.dtype}")
    if call not in MOUTH_CALLS:
        raise ValueError(f"call must be one of {MOUTH_CALLS}; got {call!r}")
    lm = detect_landmarks(rgb, path) if landmarks is None else landmarks
    by_area = mouth_regions(lm, rgb.shape)
    by_photo, reading = judged_regions(rgb, lm)
    m = region_stats(rgb, by_area if call == "area" else by_photo, detail_width, fold_region(lm, rgb.shape))
    return replace(m, teeth_share=reading.teeth_share, area_open=by_area.open)


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
    #: beside the nose: a*b* distance of the medians, chroma and L* output minus real (NaN: unmeasured)
    fold_tint_error: float = float("nan")
    fold_chroma_difference: float = float("nan")
    fold_L_difference: float = float("nan")

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
        fold_tint_error=float(np.hypot(output.fold_a - real.fold_a, output.fold_b - real.fold_b)),
        fold_chroma_difference=float(np.hypot(output.fold_a, output.fold_b) - np.hypot(real.fold_a, real.fold_b)),
        fold_L_difference=float(output.fold_L - real.fold_L),
    )


#: The detail ratio's goal band (issue 11).
DETAIL_GOAL = (0.85, 1.2)
#: No group's mean contrast error may exceed this multiple of the best group's (issue 11).
GROUP_RATIO_GOAL = 1.5


def _mean(values: Sequence[float]) -> float | None:
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=np.float64)
    return float(v.mean()) if len(v) else None


def _fold_means(rows: Sequence[Mapping[str, Any]]) -> dict[str, float | None]:
    """Means of the fold figures (rows without them count as unmeasured)."""
    return {k: _mean([r.get(k, np.nan) for r in rows])
            for k in ("fold_tint_error", "fold_chroma_difference", "fold_L_difference")}


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
                         "detail_ratio": _mean([r["detail_ratio"] for r in gr]),
                         **_fold_means(gr)}
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
            **_fold_means(ok),
            "groups": groups,
            "group_ratio": ratio,
            "group_ratio_min_n": min_group,
        }
    return out
