"""The action units' mouth interior: a shaded cavity, and :mod:`pixelfes.mouth`'s real teeth.

When landmarks open the lips, a piecewise-affine warp can only stretch the thin line of
lip between them. :func:`paint_mouth` paints what an opened mouth shows instead, inside
the new inner-lip outline (landmarks 60-67, through a smooth closed curve whose lower edge
is rounded from the ICT jaw's V towards a U): :mod:`pixelfes.mouth.cavity`'s interior
(a cavity shaded in fractions of the person's own lip L*, darker at the back, the tongue
on a wide opening, wet inner lip edges, the photo's grain) and the edges of real teeth
from the London mouth bank that the native engine's smiles use
(:func:`pixelfes.mouth.fill_mouth`): the upper teeth's edges under the upper lip, as much
as the opening allows (:func:`visible_teeth`), on a small opening also the lower teeth's
(:func:`lower_teeth`), shaded and never lighter than the cheeks. A mouth that closes gets
:func:`pixelfes.mouth.close_mouth`. One mouth interior for every engine (docs/design.md
section 7). Only the *new* opening is painted: the paint fades in as the gap grows beyond
the input's, so a mouth that was already open keeps its own teeth. Works on any canvas
size (the aligned crop or a photo box); all sizes are relative to the mouth's width.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .._nomask import median

__all__ = ["inner_gap", "lower_teeth", "mouth_changes", "paint_mouth", "smile_share", "stretch_share", "upper_lip_raise",
           "visible_teeth"]

OPEN_SOURCE = 0.02  # inner-lip gap (mouth widths) above which an input mouth counts as open (as native)
TEETH_LSTAR = 15.0  # L* above the lip median that counts as tooth in a bank exemplar
TOOTH_RED = 8.0  # a* above the cheeks' beyond which a bright exemplar pixel is lip or gum
TEETH_OVER_SKIN = 0.0  # L*: an open mouth's teeth (median) at most this much lighter than the cheeks
SCLERA = (38.19, 0.401)  # eye-white L* ~ a + b cheek L* (London, 82 neutral photos at 1:1; sclera_estimate)
TOOTH_KEEP_CHROMA = 0.7  # share of the exemplar teeth's a*b* kept in an open mouth's shade
TOOTH_LIP_TINT = 0.15  # share of the lips' a*b* added to them (the mouth's warm bounce light)
TEETH_LIT_OVER_SKIN = 6.5  # L*: lit teeth's median over the cheeks (London smiles' teeth, 192 px crops)
TEETH_LIT_OVER_SCLERA = 20.0  # L*: lit teeth's 95th percentile over the eye whites (London open smiles at 1:1: 20.8)
GRAIN = 0.5  # share of the lips' fine high-pass spread added to the cavity as noise
TEETH_EDGE_MAX = 0.065  # mouth widths of upper teeth shown at most under the upper lip
UPPER_SHARE = 0.55  # of a small opening's height the upper teeth's edges may fill
LOWER_TEETH_GAIN = 0.75  # the lower teeth, in the shadow of the upper: linear-light gain
# the lower teeth's layer is laid only from this opacity: under lips stretched almost fully
# (fear's, stretch_share 0.9-1) it was laid at 0.002-0.075, unseen, for a fifth of the step
LOWER_TEETH_LEAST = 0.1
TEETH_OVER_LIPS = 12.0  # ... or than the lips, whichever allows more (dark skin: teeth stay teeth)
ROW_GAP = 0.04  # mouth widths: darker gaps within the tooth row up to this wide keep the exemplar's own pixels
LIP_LIFT = 0.6  # of the raised upper lip's thickness, from its inner edge, relit towards the lips' own colour

_INNER = list(range(60, 68))
_OUTER = list(range(48, 60))
_LUMA = np.array([0.299, 0.587, 0.114])


def inner_gap(landmarks: np.ndarray) -> float:
    """Mean opening between the inner lips (pairs 61-67, 62-66, 63-65), pixels, >= 0.

    Measured along the face's vertical (perpendicular to the outer eye corners' line), so
    lips pressed past each other (crossed points of a closed mouth) count as closed.
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    eye = lm[45] - lm[36]
    down = np.array([-eye[1], eye[0]]) / max(float(np.linalg.norm(eye)), 1e-12)
    gaps = [float((lm[b] - lm[a]) @ down) for a, b in ((61, 67), (62, 66), (63, 65))]
    return max(0.0, float(np.mean(gaps)))


def _smooth_closed(points: np.ndarray, per_segment: int = 6) -> np.ndarray:
    """A closed Catmull-Rom curve through ``points`` (K, 2): rounded lips, not a polygon."""
    p = np.asarray(points, dtype=np.float64)
    t = np.linspace(0.0, 1.0, per_segment, endpoint=False)[:, None]
    out = []
    k = len(p)
    for i in range(k):
        p0, p1, p2, p3 = p[i - 1], p[i], p[(i + 1) % k], p[(i + 2) % k]
        out.append(0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                          + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3))
    return np.concatenate(out)


def _polygon_mask(points: np.ndarray, shape: tuple[int, int], blur: float) -> np.ndarray:
    import cv2

    mask = np.zeros(shape, dtype=np.uint8)
    cv2.fillPoly(mask, [np.rint(points * 16).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=4)
    out: np.ndarray = mask.astype(np.float32) / 255.0
    if blur > 0:
        out = cv2.GaussianBlur(out, (0, 0), blur)
    return out


def _mean_colour(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    w = mask.reshape(-1).astype(np.float64)
    total = float(w.sum())
    px = image.reshape(-1, image.shape[-1])
    if total < 1.0:
        return px.mean(0) / 255.0
    return (w @ px) / (255.0 * total)  # one weighted sum per channel (a matrix product)


def _cavity(image: np.ndarray, before: np.ndarray, after: np.ndarray, source: np.ndarray,
            alpha: float, outline: np.ndarray | None = None, gap: float | None = None) -> np.ndarray:
    """The open mouth's interior inside the new inner lips (:mod:`pixelfes.mouth.cavity`: a
    shaded cavity in the person's lip colour, the tongue on a wide opening, wet inner lip
    edges, a rounded lower edge), blended in with ``alpha`` (the opening's growth). A new array."""
    import cv2

    from ..mouth import inner_gap as gap_w
    from ..mouth import mouth_frame
    from ..mouth.cavity import interior_lab
    from ..mouth.colour import lab as to_lab
    from ..mouth.colour import lab_to_srgb

    a, b = after, before
    width = float(np.linalg.norm(a[54] - a[48]))
    h, w = image.shape[:2]
    pad = int(np.ceil(0.15 * width)) + 2
    x0, y0 = (np.floor(a[_OUTER].min(0)).astype(int) - pad).clip(0)
    x1, y1 = np.ceil(a[_OUTER].max(0)).astype(int) + pad
    x1, y1 = min(int(x1), w), min(int(y1), h)
    if x1 <= x0 or y1 <= y0:
        return image
    off = np.array([x0, y0], dtype=np.float64)
    box = (y1 - y0, x1 - x0)
    # the opening's edge: the (rounded) outline feathered by 0.8 % of the mouth width about
    # itself. (It was shrunk by 1 % and feathered by 1.5 %: inside the lips' edge that left a
    # band of the warp's stretched lip line, 4-6 px at 1:1, pink over the cavity: the blind
    # rater's "pink edges" at --strength 1.6.) The wet inner lip edge is drawn, not kept.
    outline = _outline(a) if outline is None else outline
    inner = _polygon_mask(outline - off, box, max(0.4, 0.008 * width))
    if inner.max() <= 0:
        return image
    bx0, by0 = (np.floor(b[_OUTER].min(0)).astype(int) - pad).clip(0)
    bx1, by1 = np.ceil(b[_OUTER].max(0)).astype(int) + pad
    sbox = source[by0:min(int(by1), h), bx0:min(int(bx1), w)]
    boff = np.array([bx0, by0], dtype=np.float64)
    lips = _polygon_mask(b[_OUTER] - boff, sbox.shape[:2], 0) - _polygon_mask(b[_INNER] - boff, sbox.shape[:2], 0)
    lip = _mean_colour(sbox.reshape(*sbox.shape[:2], -1), np.clip(lips, 0, 1))
    lip_rgb = np.clip(np.rint(255.0 * (lip if len(lip) == 3 else np.repeat(lip[:1], 3))), 0, 255).astype(np.uint8)
    hard = (inner > 0.5).astype(np.uint8)
    edge = cv2.distanceTransform(hard, cv2.DIST_L2, 3) if hard.any() else np.zeros(box, np.float32)
    # the interior is drawn only over the opening's own box (a third of the mouth box or less)
    rows, cols = np.flatnonzero(inner.max(1) > 1e-3), np.flatnonzero(inner.max(0) > 1e-3)
    if not len(rows):
        return image
    sy0, sy1, sx0, sx1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    y0, y1, x0, x1 = y0 + sy0, y0 + sy1, x0 + sx0, x0 + sx1
    box = (sy1 - sy0, sx1 - sx0)
    inner, edge = inner[sy0:sy1, sx0:sx1], edge[sy0:sy1, sx0:sx1]
    frame = mouth_frame(a)
    colour = lab_to_srgb(interior_lab(box, np.array([x0, y0], dtype=np.float64), outline, frame,
                                      gap_w(a) if gap is None else gap, to_lab(lip_rgb), edge))
    # the photo's own grain (a smooth fill reads as painted at 1:1): GRAIN x the lips' high-pass
    # spread (which holds their texture too), deterministic, weaker where the cavity is darker
    # (as a sensor's shot noise); at the full spread a 192 px crop's cavity was speckled
    grain = _grain(sbox, np.clip(lips, 0, 1) > 0.5)
    if grain > 0.3:
        rng = np.random.default_rng(box[0] * 7919 + box[1])
        level = np.sqrt(np.clip(_channel_mean(colour)[..., None] / max(float(lip_rgb.mean()), 1.0), 0.0, 1.0))
        colour = colour + rng.standard_normal((*box, 1), dtype=np.float32) * np.float32(GRAIN * grain) * level
    region = image[y0:y1, x0:x1].reshape(*box, -1).astype(np.float32)
    if region.shape[-1] == 1:
        colour = (colour @ _LUMA.astype(np.float32))[..., None]
    m = (np.float32(alpha) * inner)[..., None]
    out_box = region * (np.float32(1.0) - m) + colour * m
    out = image.copy()
    out[y0:y1, x0:x1] = np.clip(np.rint(out_box), 0, 255).astype(np.uint8).reshape(
        out[y0:y1, x0:x1].shape)
    return out


def _channel_mean(a: np.ndarray) -> np.ndarray:
    """``a.mean(-1)`` of an ``(H, W, 3) float32`` array: the same floats (numpy sums the three in
    order, then divides by 3), without its slow reduction over a short inner axis (3x)."""
    if a.shape[-1] != 3:
        return np.asarray(a.mean(-1))
    return np.asarray((a[..., 0] + a[..., 1] + a[..., 2]) / np.float32(3.0))


def _grain(image: np.ndarray, mask: np.ndarray) -> float:
    """The photo's fine grain where ``mask`` ``(H, W) bool`` is (the lips): the median absolute
    high-pass (gray minus its Gaussian blur, sigma 1 px) times 1.4826, a robust sigma. 0 if empty."""
    import cv2

    if not mask.any():
        return 0.0
    gray = _channel_mean(image.astype(np.float32)) if image.ndim == 3 else image.astype(np.float32)
    high = gray - cv2.GaussianBlur(gray, (0, 0), 1.0)
    return float(1.4826 * median(np.abs(high[mask])))


def _outline(after: np.ndarray) -> np.ndarray:
    """The new opening's outline ``(K, 2)``: the smooth curve through the inner lips, its
    lower edge rounded from the ICT jaw's V towards a U (:func:`pixelfes.mouth.cavity.rounded_outline`)."""
    from ..mouth.cavity import rounded_outline

    a = np.asarray(after, dtype=np.float64)
    return rounded_outline(a[_INNER], a[_OUTER], _smooth_closed(a[_INNER]))


@functools.lru_cache(maxsize=1)
def _toothy() -> np.ndarray:
    """``(N,) bool``: bank exemplars whose opening shows teeth (interior much brighter than lip).

    A few open smiles of the bank show lip or tongue where the teeth would be; laid into a
    fear or disgust mouth they read as a second pair of lips, so the AU engine skips them.
    """
    import cv2

    from ..mouth import load_bank
    from ..mouth.colour import lab

    bank = load_bank()
    keep = np.zeros(len(bank), bool)
    for i in range(len(bank)):
        pts = bank.points[i].astype(np.float64)
        patch = bank.patches[i]
        inner = np.zeros(patch.shape[:2], np.uint8)
        cv2.fillPoly(inner, [np.rint(pts[12:] * 16).astype(np.int32)], 1, shift=4)
        lips = np.zeros(patch.shape[:2], np.uint8)
        cv2.fillPoly(lips, [np.rint(pts[:12] * 16).astype(np.int32)], 1, shift=4)
        lips &= 1 - inner
        light = lab(patch)[..., 0]
        if inner.any() and lips.any():
            keep[i] = float(np.mean(light[inner > 0] > median(light[lips > 0]) + TEETH_LSTAR)) >= 0.3
    return keep


@functools.lru_cache(maxsize=1)
def _tips() -> np.ndarray:
    """``(N,)`` how far each bank exemplar's upper teeth reach below its upper inner lip, at
    the middle of the mouth (|x| < 0.12 mouth widths), in mouth widths.

    The first run of rows, from the upper lip down, in which at least half the pixels are
    tooth (``TEETH_LSTAR`` above the exemplar's lip median, no redder than ``TOOTH_RED``
    above its cheeks); where no row is, half the exemplar's opening.
    """
    from ..mouth import load_bank
    from ..mouth.bank import PX, X_RANGE
    from ..mouth.colour import lab

    bank = load_bank()
    gaps = bank.gaps()
    out = 0.5 * gaps.copy()
    lo, hi = int(round((-0.12 - X_RANGE[0]) * PX)), int(round((0.12 - X_RANGE[0]) * PX))
    for i in range(len(bank)):
        pts = bank.points[i].astype(np.float64)
        band = lab(bank.patches[i][:, lo:hi])
        cols = np.arange(lo, hi, dtype=np.float64)
        up = np.interp(cols, pts[12:17, 0], pts[12:17, 1])
        low_pts = pts[[16, 17, 18, 19, 12]]
        order = np.argsort(low_pts[:, 0])
        down = np.interp(cols, low_pts[order, 0], low_pts[order, 1])
        rows = np.arange(band.shape[0], dtype=np.float64)[:, None]
        inside = (rows >= up[None]) & (rows <= down[None])
        tooth = (band[..., 0] > float(lab(bank.lips[i])[0]) + TEETH_LSTAR) & \
            (band[..., 1] < float(lab(bank.skin[i])[1]) + TOOTH_RED) & inside
        share = tooth.sum(1) / np.maximum(inside.sum(1), 1)
        good = np.flatnonzero(share >= 0.5)
        if len(good):
            first = good[0]
            run = first + int(np.argmax(np.r_[share[first:] < 0.5, True]))
            out[i] = min(max(1.0, run - float(up.mean())) / PX, 0.7 * float(gaps[i]))
    return out


def visible_teeth(gap: float, tip: float) -> float:
    """How far (mouth widths) the upper teeth show below the upper lip of a mouth opened by
    ``gap``, for an exemplar whose teeth reach ``tip``: their edges only, never more than
    55 % of the opening (a small opening shows a slit of tooth edges over the dark) nor
    0.065, and down to 0.75 of that as the jaw drops from 0.2 to 0.4 (the relaxed upper lip
    slides over them, as in surprise)."""
    h = min(tip, UPPER_SHARE * gap, TEETH_EDGE_MAX)
    return float(h * (1.0 - 0.25 * np.clip((gap - 0.2) / 0.2, 0.0, 1.0)))


def _teeth(image: np.ndarray, before: np.ndarray, after: np.ndarray, colours: Any,
           alpha: float, outline: np.ndarray | None = None, gap: float | None = None) -> np.ndarray:
    """Real upper teeth from :mod:`pixelfes.mouth`'s bank in the new opening (in place).

    The exemplar is laid in at its own opening (its inner lips onto the new upper inner lip
    and a lower lip placed at the exemplar's gap), moved up under the upper lip so that its
    tooth edges land :func:`visible_teeth` below it; of it only its teeth are kept (its lips,
    gums and lower teeth stay out: the cavity shows there). They are shaded as teeth in an
    open, unsmiling mouth are (:func:`pixelfes.mouth.cavity.teeth_shade`: the upper lip's
    shadow, the arch turning away) and never lighter than the cheeks by more than
    ``TEETH_OVER_SKIN`` L* (or than the lips by ``TEETH_OVER_LIPS``, whichever is higher).
    """
    from ..face.align import transform_points
    from ..mouth import inner_gap as gap_w
    from ..mouth import load_bank, mouth_frame
    from ..mouth.cavity import teeth_shade

    bank = load_bank()
    a = np.asarray(after, dtype=np.float64)
    lips = a[48:68].copy()
    outer = transform_points(mouth_frame(lips), lips)[:12]
    # the bank's own retrieval (outer-lip shape and skin colour), among exemplars with teeth
    index = bank.retrieve(outer, colours, allowed=_toothy())
    g, eg = gap_w(a) if gap is None else gap, float(bank.gaps()[index])
    k = eg / max(g, 1e-6)
    for up, lo in ((13, 19), (14, 18), (15, 17)):  # virtual lower inner lip at the exemplar's gap
        lips[lo] = lips[up] + k * (a[48 + lo] - a[48 + up])
    lips[[12, 16]] = a[[60, 64]]
    width = float(np.linalg.norm(a[54] - a[48]))
    along = (a[54] - a[48]) / max(width, 1e-9)
    down = np.array([-along[1], along[0]])
    tip = float(_tips()[index])
    # the upper teeth sit on the skull: an upper lip raised above the old lip line (disgust's
    # AU10, a smile) bares them down to about that line; a dropped jaw shows only their edges
    lifted = upper_lip_raise(before, a)
    show = visible_teeth(g, tip) + max(lifted, 0.0)
    lit = float(np.clip(lifted / 0.06, 0.0, 1.0))  # no overhanging lip, no shadow on them
    # a smile (corners drawn up) shows its teeth lit, as the bank's smiles do: the open
    # mouth's treatment (edges only, shaded, capped) fades out with smile_share
    smile = smile_share(a)
    # lips stretched sideways (fear's AU20) are pulled thin over the teeth, which then fill the
    # narrow opening as a smile's do (a grimace), lit as bared teeth are (the lips are off them)
    stretch = stretch_share(before, a)
    fill = max(smile, stretch)
    lips[12:] -= (1.0 - fill) * max(0.0, tip - show) * width * down
    outline = _outline(a) if outline is None else outline
    frame = mouth_frame(a)
    edge = show * width

    def under_upper(xx: np.ndarray, yy: np.ndarray) -> np.ndarray:
        upper = np.interp(xx, a[60:65, 0], a[60:65, 1])
        keep = np.clip(1.0 - (yy - upper - 1.15 * edge) / max(0.3 * edge, 1.0), 0.0, 1.0)
        return np.asarray(1.0 - (1.0 - fill) * (1.0 - keep))

    _lay(image, lips, colours, index, a, outline, alpha, under_upper,
         lambda shape, off: 1.0 + (1.0 - fill) * (teeth_shade(shape, off, outline, frame, g, show, lit) - 1.0),
         smile=smile, whole=fill if k >= 1 else 0.0, lit=max(lit, stretch))
    # the lower teeth's edges along the lower lip of a small opening (a fear's stretched
    # lips), from the same exemplar laid in with its lower inner lip on the new one
    low = lower_teeth(g)
    if low * width >= 0.5:  # at least half a pixel of lower teeth
        lips2 = a[48:68].copy()
        for up, lo in ((13, 19), (14, 18), (15, 17)):
            lips2[up] = a[48 + lo] - k * (a[48 + lo] - a[48 + up])
        low_edge = low * width
        order = [60, 67, 66, 65, 64]

        def over_lower(xx: np.ndarray, yy: np.ndarray) -> np.ndarray:
            lower = np.interp(xx, a[order, 0], a[order, 1])
            return np.asarray(np.clip(1.0 - (lower - yy - 1.15 * low_edge) / max(0.3 * low_edge, 1.0), 0.0, 1.0))

        if (1.0 - fill) * (1.0 - lit) >= LOWER_TEETH_LEAST:
            _lay(image, lips2, colours, index, a, outline, alpha * (1.0 - fill) * (1.0 - lit), over_lower,
                 lambda shape, off: LOWER_TEETH_GAIN * teeth_shade(shape, off, outline, frame, g, 1e-3))
    return image


def upper_lip_raise(before: np.ndarray, after: np.ndarray) -> float:
    """How far the new upper inner lip (61-63) lies above the old lip line (the middle of each
    inner-lip pair before), along the face's vertical, in mouth widths; negative when it came
    down. (London 001-004: disgust 0.08-0.19, the happy recipe 0.08-0.15, fear and surprise
    -0.05 to 0.)"""
    b = np.asarray(before, dtype=np.float64)
    a = np.asarray(after, dtype=np.float64)
    eye = b[45] - b[36]
    down = np.array([-eye[1], eye[0]]) / max(float(np.linalg.norm(eye)), 1e-12)
    width = max(float(np.linalg.norm(b[54] - b[48])), 1e-9)
    pairs = ((61, 67), (62, 66), (63, 65))
    return float(np.mean([((b[u] + b[lo]) / 2 - a[u]) @ down for u, lo in pairs]) / width)


def smile_share(after: np.ndarray) -> float:
    """How much the new mouth is a smile, in [0, 1]: the mouth corners' rise above the upper
    inner lip's middle (62), in mouth widths, through a smoothstep from 0 to 0.05. (London
    001: the happy recipe 0.11; fear, surprise, disgust -0.04 to -0.07.)"""
    from ..face.align import transform_points
    from ..mouth import mouth_frame

    a = np.asarray(after, dtype=np.float64)
    f = transform_points(mouth_frame(a), a)
    rise = float(f[62, 1] - 0.5 * (f[48, 1] + f[54, 1]))
    t = float(np.clip(rise / 0.05, 0.0, 1.0))
    return t * t * (3.0 - 2.0 * t)


def stretch_share(before: np.ndarray, after: np.ndarray) -> float:
    """How much the lips are stretched sideways (fear's AU20), in [0, 1]: the mouth's widening
    (corner to corner, after / before) through a smoothstep from 1.05 to 1.12. Stretched lips
    lie thin against the teeth, so a narrow opening shows them from lip to lip, as a smile's
    does: shown only as edges over a dark slit, fear read as lips parted to a blind rater (3 of
    14 named it) and to face-api (0.43 -> 0.09 of London called fearful). (London 001, 004,
    043, 137: fear widens 1.16-1.30, surprise 0.91-0.95, disgust 1.02-1.03.)"""
    b = np.asarray(before, dtype=np.float64)
    a = np.asarray(after, dtype=np.float64)
    widen = float(np.linalg.norm(a[54] - a[48]) / max(float(np.linalg.norm(b[54] - b[48])), 1e-9))
    t = float(np.clip((widen - 1.05) / 0.07, 0.0, 1.0))
    return t * t * (3.0 - 2.0 * t)


def lower_teeth(gap: float) -> float:
    """How far (mouth widths) the lower teeth show above the lower lip of a mouth opened by
    ``gap``: 0.3 of the opening up to 0.035, fading out from a gap of 0.12 to 0.25 (a
    dropped jaw's lower lip covers them)."""
    fade = np.clip((gap - 0.12) / 0.13, 0.0, 1.0)
    return float(min(0.3 * gap, 0.035) * (1.0 - fade * fade * (3.0 - 2.0 * fade)))


def _lay(image: np.ndarray, lips: np.ndarray, colours: Any, index: int, after: np.ndarray,
         outline: np.ndarray, alpha: float, keep: Any, shade: Any, *, smile: float = 0.0,
         whole: float = 0.0, lit: float = 0.0) -> None:
    """Lay the teeth of bank exemplar ``index`` warped onto ``lips`` ``(20, 2)`` into ``image``
    (in place): only its tooth pixels (``TEETH_LSTAR`` above the person's lips, no redder than
    ``TOOTH_RED`` above the cheeks, ramped over 10 L*), where ``keep(xx, yy)`` (in [0, 1])
    and inside ``outline``; shaded by ``shade(shape, offset)`` (linear-light gains) and capped
    at ``TEETH_OVER_SKIN`` above the cheeks (``TEETH_OVER_LIPS`` above the lips). ``smile``
    in [0, 1] fades the cap and the shade tint out (a smile's teeth are lit); ``whole`` the
    tooth-only mask (a smile's whole interior, as the native engine lays it); ``lit`` in
    [0, 1] (an upper lip raised off the teeth) raises the caps to a real smile's
    (``TEETH_LIT_OVER_SKIN``, ``TEETH_LIT_OVER_SCLERA``) and drops the shade tint."""
    import cv2

    from ..mouth import fill_mouth, load_bank
    from ..mouth.colour import lab, lab_to_srgb, to_linear, to_srgb

    a = after
    width = float(np.linalg.norm(a[54] - a[48]))
    layer = image.copy()
    box = fill_mouth(layer, lips, colours, load_bank(), index=index).box
    if box is None:
        return
    x0, y0, x1, y1 = box
    xx = np.arange(x0, x1, dtype=np.float64)[None, :]
    yy = np.arange(y0, y1, dtype=np.float64)[:, None]
    band = keep(xx, yy) * _polygon_mask(outline - (x0, y0), (y1 - y0, x1 - x0), max(0.4, 0.006 * width))
    rows, cols = np.flatnonzero(band.max(1) > 1e-3), np.flatnonzero(band.max(0) > 1e-3)
    if not len(rows):
        return
    # only the rows and columns where teeth may be kept (a band under the lip) are worked on
    x0, x1, y0, y1 = x0 + int(cols[0]), x0 + int(cols[-1]) + 1, y0 + int(rows[0]), y0 + int(rows[-1]) + 1
    xx = np.arange(x0, x1, dtype=np.float64)[None, :]
    yy = np.arange(y0, y1, dtype=np.float64)[:, None]
    new_u8 = layer[y0:y1, x0:x1]
    lab_new = lab(new_u8)
    rise = lab_new[..., 0] - float(colours.lips_lab[0])
    red = lab_new[..., 1] - float(colours.skin_lab[1])
    tooth = (np.clip((rise - (TEETH_LSTAR - 5.0)) / 10.0, 0.0, 1.0)
             * np.clip((TOOTH_RED - red) / 6.0, 0.0, 1.0)).astype(np.float32)
    tooth = close_row(tooth, width)
    tooth = cv2.GaussianBlur(tooth, (0, 0), max(0.4, 0.004 * width)) * np.float32(1.0 - whole) + np.float32(whole)
    t = tooth * keep(xx, yy).astype(np.float32)
    off = np.array([x0, y0], dtype=np.float64)
    inside = _polygon_mask(outline - off, (y1 - y0, x1 - x0), max(0.4, 0.006 * width))
    lin = to_linear(new_u8) * shade((y1 - y0, x1 - x0), off)[..., None]
    shown = (t * inside) > 0.5
    if shown.any():
        light = lab(to_srgb(lin[shown]))[..., 0]
        # lit teeth (an upper lip raised off them) may be as light as a real smile's: on the
        # London open smiles at 1:1 their 95th percentile is 20.8 L* above the eye whites'
        gain = min(1.0, _lstar_to_y(teeth_cap(colours) + lit * TEETH_LIT_OVER_SKIN)
                   / _lstar_to_y(float(median(light))),
                   _lstar_to_y(sclera_estimate(colours) - 2.0 + lit * TEETH_LIT_OVER_SCLERA)
                   / _lstar_to_y(float(np.percentile(light, 95))))
        lin *= np.float32(gain ** (1.0 - smile))
    # teeth in a mouth's shade take its warm bounce light: a little less of the exemplar's own
    # (yellow) chroma and a little of the lips' (a darkened yellow tooth reads olive, a defect)
    tl = lab(to_srgb(lin))
    keep_chroma = np.float32(1.0 - (1.0 - TOOTH_KEEP_CHROMA) * (1.0 - smile) * (1.0 - lit))
    tint = TOOTH_LIP_TINT * (1.0 - smile) * (1.0 - lit)
    tl[..., 1] = keep_chroma * tl[..., 1] + np.float32(tint * float(colours.lips_lab[1]))
    tl[..., 2] = keep_chroma * tl[..., 2] + np.float32(tint * float(colours.lips_lab[2]))
    new = lab_to_srgb(tl)
    t = (alpha * t * inside)[..., None].astype(np.float32)
    old = image[y0:y1, x0:x1].astype(np.float32)
    image[y0:y1, x0:x1] = np.clip(np.rint(old + t * (new - old)), 0, 255).astype(np.uint8)


def close_row(tooth: np.ndarray, width: float) -> np.ndarray:
    """The tooth mask ``(H, W) float32`` closed across the row: a grey-level closing (max then
    min) over ``ROW_GAP`` of the mouth width horizontally, a third of that vertically.

    Per pixel, a tooth is what is lighter than the lips; the narrow shadows between
    adjacent teeth, a set-back lateral incisor or a canine in the arch's shade are not, and
    were cut out, so the cavity's dark showed through: a row of 3-4 separate teeth with black
    gaps (London 132, 033 disgusted, exemplar 037). Closed, gaps narrower than ``ROW_GAP``
    keep the exemplar's own pixels (its real, thin interproximal shade); the row's ends and
    what lies below its edge stay out (a closing only fills between two tooth pixels).
    """
    import cv2

    k = max(1, int(round(ROW_GAP * width)))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * (k // 2) + 1, 2 * (k // 6) + 1))
    return np.asarray(cv2.morphologyEx(tooth.astype(np.float32), cv2.MORPH_CLOSE, kernel,
                                       borderType=cv2.BORDER_REPLICATE))


def lift_upper_lip(image: np.ndarray, before: np.ndarray, after: np.ndarray, source: np.ndarray,
                   lit: float) -> None:
    """Relight the inner part of a raised upper lip towards the person's lip colour (in place).

    A closed mouth's lips meet in a dark line (the shadowed inner vermilion turning into the
    mouth: on London 132 L* 26-38, a* 22-27 against the lips' 52, 25). An upper lip raised
    off the teeth (disgust's AU10, ``lit`` in [0, 1]: :func:`upper_lip_raise` / 0.06) is
    everted: that part faces the light, but the warp stretches the dark line over it, a
    dark maroon band up to twice as wide as in the input. Over the new upper lip (outer
    48-54, inner 60-64), at ``v`` from its inner edge (0) to its outer edge (1), the
    smoothed L*a*b* is moved towards the lips' median by ``lit (1 - smoothstep(v / LIP_LIFT))``
    where it is darker than that median (never lighter); the fine texture is kept.
    """
    import cv2

    from ..face.align import transform_points
    from ..mouth import mouth_frame
    from ..mouth.colour import lab, lab_to_srgb

    if lit <= 0 or image.ndim != 3 or image.shape[2] != 3:
        return
    a, b = np.asarray(after, dtype=np.float64), np.asarray(before, dtype=np.float64)
    width = float(np.linalg.norm(a[54] - a[48]))
    h, w = image.shape[:2]
    poly = np.concatenate([a[48:55], a[[64, 63, 62, 61, 60]]])
    x0, y0 = np.floor(poly.min(0)).astype(int).clip(0) - 1
    x1, y1 = np.ceil(poly.max(0)).astype(int) + 2
    x0, y0, x1, y1 = max(0, int(x0)), max(0, int(y0)), min(w, int(x1)), min(h, int(y1))
    if x1 - x0 < 3 or y1 - y0 < 3:
        return
    # the person's lips (outer minus inner polygon before the warp), median L*a*b*
    sh, sw = source.shape[:2]
    bx0, by0 = np.floor(b[48:60].min(0)).astype(int).clip(0)
    bx1, by1 = np.ceil(b[48:60].max(0)).astype(int) + 1
    sbox = source[by0:min(int(by1), sh), bx0:min(int(bx1), sw)]
    off_b = np.array([bx0, by0], dtype=np.float64)
    lips = (_polygon_mask(b[48:60] - off_b, sbox.shape[:2], 0) > 0.5) & \
        ~(_polygon_mask(b[60:68] - off_b, sbox.shape[:2], 0) > 0.5)
    if lips.sum() < 10:
        return
    target = median(lab(sbox)[lips], axis=0).astype(np.float32)
    box = (y1 - y0, x1 - x0)
    off = np.array([x0, y0], dtype=np.float64)
    mask = _polygon_mask(poly - off, box, max(0.4, 0.006 * width))
    m = mouth_frame(a)
    fo, fi = transform_points(m, a[48:55]), transform_points(m, a[60:65])
    # a column of rows and a row of columns, broadcast: the same values as an (H, W) mgrid's
    xx = np.arange(x0, x1, dtype=np.float64)[None, :]
    yy = np.arange(y0, y1, dtype=np.float64)[:, None]
    fx = xx * m[0, 0] + yy * m[0, 1] + m[0, 2]
    fy = xx * m[1, 0] + yy * m[1, 1] + m[1, 2]
    y_out = np.interp(fx, fo[:, 0], fo[:, 1])
    y_in = np.interp(fx, fi[:, 0], fi[:, 1])
    v = np.clip((y_in - fy) / np.maximum(y_in - y_out, 1e-6), 0.0, 1.0)
    t = np.clip(v / LIP_LIFT, 0.0, 1.0)
    weight = (np.float32(min(lit, 1.0)) * mask * (1.0 - t * t * (3.0 - 2.0 * t))).astype(np.float32)
    if weight.max() <= 1e-3:
        return
    region = image[y0:y1, x0:x1]
    px = lab(region)
    smooth = cv2.GaussianBlur(px, (0, 0), max(0.6, 0.012 * width))
    darker = np.clip((target[0] - smooth[..., 0]) / 4.0, 0.0, 1.0)  # only where darker than the lips
    shift = (target[None, None] - smooth) * (weight * darker)[..., None]
    new = np.clip(np.rint(lab_to_srgb(px + shift)), 0, 255).astype(np.uint8)
    region[...] = np.where((weight * darker > 1e-3)[..., None], new, region)


def teeth_cap(colours: Any) -> float:
    """The L* an open mouth's teeth (their median) may reach: the cheeks' + ``TEETH_OVER_SKIN``,
    or the lips' + ``TEETH_OVER_LIPS`` where that is higher (dark skin, lips nearly as dark)."""
    return max(float(colours.skin_lab[0]) + TEETH_OVER_SKIN, float(colours.lips_lab[0]) + TEETH_OVER_LIPS)


def sclera_estimate(colours: Any) -> float:
    """The eye whites' L* (90th percentile inside the eye outlines) expected from the cheeks' L*:
    ``SCLERA[0] + SCLERA[1] * L*_cheeks``, a least-squares line over the 82 London neutral
    photos at 1:1 (residual sd 5.8 L*). The mouth box does not hold the eyes, so the teeth's
    brightest twentieth is kept 2 L* under this estimate: teeth no lighter than the eye whites."""
    return float(SCLERA[0] + SCLERA[1] * float(colours.skin_lab[0]))


def _lstar_to_y(lstar: float) -> float:
    """Relative luminance Y of a CIE L* (the inverse of L* = 116 Y^(1/3) - 16, with its linear toe)."""
    f = (lstar + 16.0) / 116.0
    return f**3 if f**3 > 0.008856 else lstar / 903.3


#: a mouth whose inner gap grows by this share of its width gets its whole interior painted
#: (:func:`paint_mouth`; less: blended in proportion)
OPEN_FADE = 0.06


def paint_mouth(image: np.ndarray, before: np.ndarray, after: np.ndarray,
                source: np.ndarray | None = None, *, teeth: bool = True,
                fade: float = OPEN_FADE, colours: Any = None) -> np.ndarray:
    """The mouth interior after landmarks moved from ``before`` to ``after`` (one face).

    ``image``: the warped face ``(S, S, C)`` uint8 (crop or photo box, C = 1 or 3) whose
    landmarks are ``after`` (68, 2); ``source``: the image before the warp (landmarks
    ``before``), where the person's colours are measured (default ``image``). The mouth
    interior is :mod:`pixelfes.mouth`'s (one interior for every engine):

    - a mouth that opens further (by more than 0 of the mouth width; fully at ``fade``):
      :mod:`pixelfes.mouth.cavity`'s shaded interior in the person's lip colour, and the
      edges of real teeth from the London bank (:func:`pixelfes.mouth.fill_mouth`, lit by
      the person's cheek colour, shaded, capped at the cheeks' L*);
    - an open mouth (gap above ``OPEN_SOURCE``) that closes by more than ``fade``:
      :func:`pixelfes.mouth.close_mouth` paints lip over what the warp squeezed between
      the lips, which meet on the crease of real closed mouths of people with similar lips
      (:func:`pixelfes.native.close_on_crease`, as the native engine closes a smile).

    Gray crops (C = 1) get the cavity only. ``colours``: the person's
    :class:`~pixelfes.mouth.PersonColours` when the caller measured them on more of the face
    than ``source`` holds (the cheeks below the eyes; default: measured on ``source``).
    Returns a new array, or ``image`` itself when the mouth neither opens nor closes.
    """
    from ..native import close_on_crease

    src = image if source is None else source
    b = np.asarray(before, dtype=np.float64)
    a = np.asarray(after, dtype=np.float64)
    change = _opening(b, a, fade)
    if change is None:
        return image
    gap_after, growth, closes = change
    colour = image.ndim == 3 and image.shape[2] == 3
    if closes:
        if not colour:
            return image
        out = image.copy()
        close_on_crease(out, a[48:68], _colours(colours, src, b))
        return out
    alpha = float(np.clip(growth / fade, 0.0, 1.0))
    if alpha <= 0.0:
        return image
    outline = _outline(a)  # (the cavity and the teeth share the opening's outline and gap)
    raised = float(np.clip(upper_lip_raise(b, a) / 0.06, 0.0, 1.0))
    if raised > 0 and colour:
        image = image.copy()
        lift_upper_lip(image, b, a, src, raised * alpha)
    out = _cavity(image, b, a, src if src.ndim == 3 else src[..., None], alpha, outline, gap_after)
    if teeth and colour:
        out = _teeth(out, b, a, _colours(colours, src, b), alpha, outline, gap_after)
        if _is_gray(src, b):  # a gray photo in RGB: the bank's teeth must not bring colour
            x0, y0 = np.floor(a[_OUTER].min(0)).astype(int).clip(0)
            x1, y1 = np.ceil(a[_OUTER].max(0)).astype(int) + 1
            box = out[y0:y1, x0:x1].astype(np.float64)
            box[...] = (box @ _LUMA)[..., None]
            out[y0:y1, x0:x1] = np.clip(np.rint(box), 0, 255).astype(np.uint8)
    return out


def _colours(given: Any, source: np.ndarray, landmarks: np.ndarray) -> Any:
    """:func:`paint_mouth`'s ``colours``: as given, or measured on ``source``."""
    from ..mouth import person_colours

    return person_colours(source, landmarks) if given is None else given


def mouth_changes(before: np.ndarray, after: np.ndarray, fade: float = OPEN_FADE) -> bool:
    """Whether :func:`paint_mouth` (same ``fade``) paints anything for a colour image: the
    mouth opens further, or an open one closes by more than ``fade`` of its width."""
    change = _opening(np.asarray(before, dtype=np.float64), np.asarray(after, dtype=np.float64), fade)
    return change is not None and (change[1] > 0.0 or change[2])


def _opening(b: np.ndarray, a: np.ndarray, fade: float) -> tuple[float, float, bool] | None:
    """How the mouth changes from landmarks ``b`` to ``a``: ``(gap after, growth of the gap,
    whether an open mouth closes)`` in mouth widths; ``None`` for a mouth under 1 px wide.

    It closes when an open input mouth (gap above ``OPEN_SOURCE``) narrows by more than
    ``fade`` (a smile's teeth to hide: lip over what the warp squeezed); not lips only parted
    a little that a pressing unit (AU17, AU23, AU24) closes: there close_mouth's inpainting
    smeared the lips' own texture at 1:1 (London 126, 006), and no teeth needed hiding."""
    from ..mouth import inner_gap as gap_w

    if float(np.linalg.norm(a[54] - a[48])) <= 1.0:
        return None
    gap_after = gap_w(a)
    growth = gap_after - gap_w(b)
    return gap_after, growth, bool(growth < -fade and gap_w(b) > OPEN_SOURCE)


def _is_gray(image: np.ndarray, landmarks: np.ndarray) -> bool:
    """Whether the face around the mouth has equal channels (a gray photo stored as RGB)."""
    x0, y0 = np.floor(landmarks[_OUTER].min(0)).astype(int).clip(0)
    x1, y1 = np.ceil(landmarks[_OUTER].max(0)).astype(int) + 1
    box = image[y0:y1, x0:x1].astype(np.int16)
    return bool(box.size) and int(np.abs(box - box[..., :1]).max()) <= 2
