"""Lay a real mouth interior into a new inner-lip outline, lit and coloured like the face.

:func:`fill_mouth` works in any frame (a full-size photo or an aligned crop): it takes the
image *after* the face was warped, the new lip landmarks 48-67 in that frame and the
person's colours, retrieves the exemplar whose smile (outer-lip curve) and skin are
nearest, warps it piecewise-affinely (its 20 lip landmarks onto the new ones, so its inner
lips land on the new inner lips) and blends it inside the inner-lip outline. The outline
is eroded a little before feathering, so the person's own lips cover the exemplar's lip
edge (no foreign red fringe). Light and colour follow the person: linear-light channel
gains from the ratio of the cheek colours (square root: half exposure, half skin tone,
since the bank is retrieved for a similar skin already); openings deeper than the
exemplar's are shaded darker towards the middle of the cavity.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ..face.align import estimate_similarity, transform_points
from ..warp import Triangulation, box_backward_map
from .bank import MouthBank, load_bank
from .checks import check_rgb8, lip_points
from .colour import PersonColours, lab, to_linear, to_srgb

__all__ = ["blend_paint", "fill_mouth", "inner_gap", "mouth_frame", "MouthFill", "MouthPaint", "interior_paint",
           "detail_amplitude", "restore_detail"]

_PAIRS = ((61, 67), (62, 66), (63, 65))
_ERODE = 0.0  # mouth widths the person's lips keep over the exemplar's edge (none: the stretched lip line of a closed mouth must be covered)
_FEATHER = 0.004  # mouth widths of Gaussian feather on the outline
_LIP_LIKE = (0.35, 0.75)  # shares of the exemplar's lip a* between which a pixel turns from tooth to lip
_DETAIL_SIGMA = 1.0  # pixels: the finest band (image minus its Gaussian blur) restore_detail measures
_DETAIL_ERODE = 2  # pixels the inner-lip outline is eroded by before detail is measured inside it
_DETAIL_MAX = 2.0  # restore_detail's largest gain on the band (a safety cap, not a tuned figure)


def detail_amplitude(image: np.ndarray, outline: np.ndarray) -> float:
    """Mean ``|Y - G(Y)|`` inside ``outline``: the finest band's amplitude, in 0-255 gray levels.

    ``image`` ``(H, W, 3)`` uint8 or float sRGB in 0-255; ``outline`` ``(K, 2)`` (x, y) in its
    pixels (the inner lips), eroded by ``_DETAIL_ERODE`` pixels; ``Y`` the BT.601 gray
    (:data:`cv2.COLOR_RGB2GRAY`), ``G`` a Gaussian of ``_DETAIL_SIGMA`` pixels (border
    reflected). 0 when nothing is left inside the outline.
    """
    y = cv2.cvtColor(np.asarray(image, dtype=np.float32), cv2.COLOR_RGB2GRAY)
    band = np.abs(y - cv2.GaussianBlur(y, (0, 0), _DETAIL_SIGMA))
    poly = np.zeros(y.shape, np.uint8)
    cv2.fillPoly(poly, [np.rint(np.asarray(outline, dtype=np.float64) * 16).astype(np.int32)], 1, shift=4)
    k = 2 * _DETAIL_ERODE + 1
    inside = cv2.erode(poly, np.ones((k, k), np.uint8)) > 0
    return float(band[inside].mean()) if inside.any() else 0.0


def restore_detail(sample: np.ndarray, outline: np.ndarray, patch: np.ndarray,
                   patch_outline: np.ndarray) -> np.ndarray:
    """``sample`` with the finest detail its warp smoothed away put back at the patch's amplitude.

    ``sample`` ``(H, W, 3) uint8``: the exemplar's patch warped (cubic, upsampling ~1.25x at
    photo size) into the box whose inner lips are ``outline`` ``(8, 2)``; ``patch`` the
    exemplar's ``(h, w, 3) uint8`` patch with its inner lips ``patch_outline``. The band
    ``sample - G(sample)`` (:func:`detail_amplitude`'s) is scaled by ``1 + k``, ``k =
    clip(A_patch / A_sample - 1, 0, _DETAIL_MAX)``: the warped teeth get back the per-pixel
    detail the lent teeth have in the patch (docs/mouth.md, "Lent teeth that keep their own
    detail"). Returns ``(H, W, 3) float32`` sRGB in [0, 255] (not rounded).
    """
    f = np.asarray(sample, dtype=np.float32)
    a_sample = detail_amplitude(f, outline)
    a_patch = detail_amplitude(patch, patch_outline)
    if not a_sample > 0:
        return f
    k = float(np.clip(a_patch / a_sample - 1.0, 0.0, _DETAIL_MAX))
    out = f + np.float32(k) * (f - cv2.GaussianBlur(f, (0, 0), _DETAIL_SIGMA))
    return np.clip(out, 0.0, 255.0)


def lip_likeness(sample: np.ndarray, exemplar_lips: np.ndarray) -> np.ndarray:
    """``(H, W) float32`` in [0, 1]: how lip-coloured each pixel of an exemplar's interior is.

    1 where a* reaches ``_LIP_LIKE[1]`` of the exemplar's own lip a* (its inner lip and
    gums), 0 at ``_LIP_LIKE[0]`` of it and below (teeth, which are nearly neutral, and the
    dark cavity, whose a* is small because its lightness is), linear between.
    """
    a = lab(sample)[..., 1]
    a_lip = max(float(lab(exemplar_lips)[1]), 1.0)
    lo, hi = _LIP_LIKE[0] * a_lip, _LIP_LIKE[1] * a_lip
    return np.clip((a - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def interior_gains(sample: np.ndarray, colours: PersonColours, exemplar_skin: np.ndarray,
                   exemplar_lips: np.ndarray) -> np.ndarray:
    """``(H, W, 3) float32`` linear-light channel gains taking an exemplar's interior to the person.

    Teeth and cavity: ``sqrt(person's cheek / exemplar's cheek)`` (half exposure, half skin
    tone: the bank is retrieved for a similar skin already). Lip-coloured pixels (the
    exemplar's inner lip and gums, :func:`lip_likeness`): the full ratio of the lip
    colours, so the inner lip continues the person's own lip instead of showing another
    person's (a salmon band on mauve lips).
    """
    teeth = np.sqrt((to_linear(colours.skin) + 1e-3) / (to_linear(exemplar_skin) + 1e-3))
    lip = (to_linear(colours.lips) + 1e-3) / (to_linear(exemplar_lips) + 1e-3)
    w = lip_likeness(sample, exemplar_lips)[..., None]
    return (teeth[None, None] * (1.0 - w) + lip[None, None] * w).astype(np.float32)


def mouth_frame(landmarks: np.ndarray) -> np.ndarray:
    """``(2, 3)`` similarity from the landmarks' frame into the mouth frame.

    Outer mouth corners (48, 54) go to ``(-0.5, 0)`` and ``(0.5, 0)``: lengths become
    fractions of the mouth width, y points down (towards the chin). ``landmarks`` is
    ``(68, 2)`` or the ``(20, 2)`` lip points 48-67.
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    a, b = (lm[48], lm[54]) if len(lm) == 68 else (lm[0], lm[6])
    # two points fix a similarity: estimate_similarity's least squares in closed form (the
    # same matrix to 1e-15, 7x faster; the mouth asks for this frame a dozen times a face)
    v = b - a
    l2 = float(v @ v)
    if not l2 > 0:
        raise ValueError("the mouth corners (48, 54) coincide; cannot make the mouth frame")
    m = np.empty((2, 3))
    m[0, 0], m[0, 1] = v[0] / l2, v[1] / l2
    m[1, 0], m[1, 1] = -v[1] / l2, v[0] / l2
    m[:, 2] = -(m[:, :2] @ ((a + b) / 2))
    return m


def inner_gap(landmarks: np.ndarray) -> float:
    """Mean inner-lip opening (pairs 61-67, 62-66, 63-65) in mouth widths, >= 0.

    ``landmarks`` ``(68, 2)`` in any frame (or the 20 lip points 48-67).
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    full = lm if len(lm) == 68 else np.concatenate([np.zeros((48, 2)), lm])
    f = transform_points(mouth_frame(full), full)
    return max(0.0, float(np.mean([f[b, 1] - f[a, 1] for a, b in _PAIRS])))


_TRIANGULATIONS: dict[tuple[str, bytes], Triangulation] = {}


def _triangulation(bank: MouthBank, index: int) -> Triangulation:
    """The exemplar's lip triangulation (Delaunay of its 20 points + its patch border), cached."""
    key = (bank.ids[index], bank.points[index].tobytes())
    tri = _TRIANGULATIONS.get(key)
    if tri is None:
        if len(_TRIANGULATIONS) > 512:
            _TRIANGULATIONS.clear()
        side = max(bank.patches.shape[1:3])
        tri = Triangulation.from_reference(bank.points[index].astype(np.float64), side,
                                           per_side=2, margin=2.0)
        _TRIANGULATIONS[key] = tri
    return tri


#: the last few warped patches (bank, index, new lips, box -> the bank and the read-only sample):
#: a smile's chosen teeth are painted twice, measured main's way and laid crisp, from one warp
_WARPED: dict[tuple[int, int, bytes, tuple[int, int, int, int]], tuple[MouthBank, np.ndarray]] = {}


def _warped(bank: MouthBank, index: int, dst: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """Patch ``index`` warped piecewise-affinely (its 20 lip points onto ``dst``, cubic) over
    ``box`` ``(x0, y0, x1, y1)``: ``(y1 - y0, x1 - x0, 3) uint8``, read only, cached (the same bytes)."""
    key = (id(bank), index, dst.tobytes(), box)
    hit = _WARPED.get(key)
    if hit is not None and hit[0] is bank:
        return hit[1]
    ex = bank.points[index].astype(np.float64)
    # exemplar lips -> new lips, piecewise affine; the patch canvas border follows the
    # corners' similarity so triangles outside the lips stay well shaped
    tri = _triangulation(bank, index)
    sim = estimate_similarity(ex[[0, 6]], dst[[0, 6]])
    src_full = tri.full_points(ex)
    dst_full = np.concatenate([dst, transform_points(sim, tri.border)])
    mx, my = box_backward_map(tri, src_full, dst_full, box)
    sample = cv2.remap(bank.patches[index], mx, my, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    sample.flags.writeable = False
    if len(_WARPED) >= 8:
        _WARPED.clear()
    _WARPED[key] = (bank, sample)
    return sample


class MouthFill:
    """What :func:`fill_mouth` did: the exemplar used and the changed box ``(x0, y0, x1, y1)``."""

    def __init__(self, index: int, exemplar_id: str, box: tuple[int, int, int, int] | None) -> None:
        self.index = index
        self.exemplar_id = exemplar_id
        self.box = box

    def __repr__(self) -> str:
        return f"MouthFill(index={self.index}, exemplar_id={self.exemplar_id!r}, box={self.box})"


@dataclass(frozen=True, eq=False)
class MouthPaint:
    """What :func:`fill_mouth` lays into an image, before it is blended: the box ``(x0, y0,
    x1, y1)`` of that image, the painted interior ``(y1 - y0, x1 - x0, 3) uint8`` and its
    feathered weight ``(y1 - y0, x1 - x0) float32`` in [0, 1]. It depends only on the lips,
    the colours, the exemplar and the image's size, not on the pixels it is laid over: one
    paint may be measured on a copy (:func:`pixelfes.native.painted_look`) and then blended
    into the output (:func:`blend_paint`), the same bytes as a second fill."""

    index: int
    exemplar_id: str
    box: tuple[int, int, int, int]
    painted: np.ndarray = field(repr=False)
    alpha: np.ndarray = field(repr=False)


def fill_mouth(image: np.ndarray, lips: np.ndarray, colours: PersonColours,
               bank: MouthBank | None = None, *, index: int | None = None,
               exclude: str | None = None, amount: float = 1.0, crisp: bool = False) -> MouthFill:
    """Paint a real mouth interior inside the inner lips of ``image``, **in place**.

    ``image``: ``(H, W, 3) uint8`` RGB, any frame (photo or crop), already warped to the new
    shape. ``lips``: ``(20, 2)`` float (x, y) landmarks 48-67 of the new shape in that frame
    (outer 48-59, inner 60-67). ``colours``: the person's own skin and lip colours
    (:func:`~pixelfes.mouth.person_colours` on the input). ``bank``: default the bundled
    one; ``index`` forces an exemplar; ``exclude`` an exemplar id never used. ``amount``
    in [0, 1] scales the blend (an AU engine may fade it in with the opening); ``crisp``: the
    warped patch's finest detail restored to the patch's own (:func:`restore_detail`). Returns
    a :class:`MouthFill`; ``box`` is ``None`` when the outline lies outside the image.
    :func:`interior_paint` then :func:`blend_paint`.
    """
    check_rgb8(image)
    paint = interior_paint(image.shape, lips, colours, bank, index=index, exclude=exclude, amount=amount,
                           crisp=crisp)
    if isinstance(paint, MouthFill):
        return paint
    return blend_paint(image, paint)


def blend_paint(image: np.ndarray, paint: MouthPaint, offset: tuple[int, int] = (0, 0)) -> MouthFill:
    """Blend ``paint`` (:func:`interior_paint`) into ``image`` ``(H, W, 3) uint8`` **in place**;
    ``offset``: the ``(x, y)`` of ``image``'s corner in the frame the paint was made for
    (``image`` a crop of that frame holding the paint's box)."""
    x0, y0, x1, y1 = paint.box
    ox, oy = offset
    region = image[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
    a = paint.alpha[..., None]
    out = region.astype(np.float32) * (1 - a) + paint.painted.astype(np.float32) * a
    region[...] = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return MouthFill(paint.index, paint.exemplar_id, paint.box)


def _paint_box(shape: tuple[int, ...], dst: np.ndarray) -> tuple[int, int, int, int]:
    """The box ``(x0, y0, x1, y1)`` :func:`interior_paint` paints for lips ``dst`` ``(20, 2)`` in an
    image of ``shape`` (empty when ``x1 <= x0`` or ``y1 <= y0``)."""
    width = float(np.linalg.norm(dst[6] - dst[0]))
    inner = dst[12:]
    h, w = int(shape[0]), int(shape[1])
    pad = 2 + int(np.ceil(0.02 * width))
    x0, y0 = (np.floor(inner.min(0)) - pad).astype(int)
    x1, y1 = (np.ceil(inner.max(0)) + pad + 1).astype(int)
    return max(0, int(x0)), max(0, int(y0)), min(w, int(x1)), min(h, int(y1))


def _paint_alpha(dst: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The feathered inner-lip outline of lips ``dst`` ``(20, 2)`` over ``box``: :func:`interior_paint`'s
    weight at full amount, ``(y1 - y0, x1 - x0) float32`` in [0, 1]."""
    x0, y0, x1, y1 = box
    width = float(np.linalg.norm(dst[6] - dst[0]))
    alpha: np.ndarray = np.zeros((y1 - y0, x1 - x0), np.float32)
    cv2.fillPoly(alpha, [np.rint((dst[12:] - (x0, y0)) * 16).astype(np.int32)], 1.0, lineType=cv2.LINE_AA,
                 shift=4)
    e = int(round(_ERODE * width))
    if e > 0:
        alpha = cv2.erode(alpha, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * e + 1, 2 * e + 1)))
    return cv2.GaussianBlur(alpha, (0, 0), max(0.5, _FEATHER * width))


def interior_paint(shape: tuple[int, ...], lips: np.ndarray, colours: PersonColours,
                bank: MouthBank | None = None, *, index: int | None = None,
                exclude: str | None = None, amount: float = 1.0, crisp: bool = False) -> MouthPaint | MouthFill:
    """What :func:`fill_mouth` would lay into an image of ``shape`` ``(H, W, ...)`` (the
    arguments as there), as a :class:`MouthPaint`; a :class:`MouthFill` with ``box`` ``None``
    when the outline lies outside the image (nothing to paint)."""
    dst = lip_points(lips)
    bank = load_bank() if bank is None else bank
    if index is None:
        outer = transform_points(mouth_frame(dst), dst)[:12]
        index = bank.retrieve(outer, colours, exclude=exclude)
    ex = bank.points[index].astype(np.float64)
    patch = bank.patches[index]
    width = float(np.linalg.norm(dst[6] - dst[0]))
    inner = dst[12:]
    x0, y0, x1, y1 = _paint_box(shape, dst)
    if x1 <= x0 or y1 <= y0 or amount <= 0:
        return MouthFill(index, bank.ids[index], None)
    sample = _warped(bank, index, dst, (int(x0), int(y0), int(x1), int(y1)))
    if crisp:
        sample = restore_detail(sample, inner - (x0, y0), patch, ex[12:])
    lin = to_linear(sample)
    lin *= interior_gains(sample, colours, bank.skin[index], bank.lips[index])
    # deeper than the exemplar: the stretched cavity darkens towards its middle
    ex_gap, dst_gap = inner_gap(ex), inner_gap(dst)
    if dst_gap > 1.15 * ex_gap > 0:
        cavity: np.ndarray = np.zeros((y1 - y0, x1 - x0), np.float32)
        mid = (inner[[1, 2, 3]] + inner[[7, 6, 5]]) / 2 - (x0, y0)
        half = np.array([0.3 * width, 0.45 * dst_gap * width])
        centre = (float(mid[1][0]), float(mid[1][1]))  # cv2 takes Python numbers, not numpy ints
        axes = (float(max(half[0], 1.0)), float(max(half[1], 1.0)))
        cv2.ellipse(cavity, (centre, axes, 0.0), 1.0, -1)
        cavity = cv2.GaussianBlur(cavity, (0, 0), max(0.5, 0.25 * dst_gap * width))
        depth = min(0.6, 1.0 - ex_gap / dst_gap)
        lin *= (1.0 - depth * cavity)[..., None]
    painted = to_srgb(lin)
    alpha = _paint_alpha(dst, (int(x0), int(y0), int(x1), int(y1))) * np.float32(min(1.0, amount))
    return MouthPaint(index, bank.ids[index], (int(x0), int(y0), int(x1), int(y1)), painted, alpha)
