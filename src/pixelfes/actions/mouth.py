"""A mouth interior for mouths that open: a dark cavity and upper teeth, lit like the face.

When landmarks open the lips, a piecewise-affine warp can only stretch the thin line of
lip between them. :func:`paint_mouth` paints what an opened mouth shows instead, inside
the new inner-lip outline (landmarks 60-67, through a smooth closed curve): a cavity whose
colour is the person's own lip colour darkened (deeper towards the middle), and a band of
upper teeth under the upper lip whose brightness follows the whites of the person's own
eyes (the same light on a similar surface, so teeth neither glow on dark skin nor look
grey on light skin), shaded darker towards the mouth corners. Only the *new*
opening is painted: the paint fades in as the gap grows beyond the input's, so a mouth
that was already open keeps its own teeth. Works on any canvas size (the aligned crop or
a full-resolution crop); all sizes are relative to the mouth's width.
"""

from __future__ import annotations

import numpy as np

__all__ = ["inner_gap", "old_interior_mask", "paint_mouth"]

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


def _sclera_luminance(image: np.ndarray, lm: np.ndarray) -> float | None:
    """Bright part (95th percentile) of the eyes' luminance, [0, 1]; None if too few pixels."""
    vals = []
    for eye in (range(36, 42), range(42, 48)):
        pts = lm[list(eye)]
        x0, y0 = np.floor(pts.min(0)).astype(int).clip(0)
        x1, y1 = np.ceil(pts.max(0)).astype(int) + 1
        sub = image[y0:y1, x0:x1]
        if sub.size == 0:
            continue
        m = _polygon_mask(pts - [x0, y0], sub.shape[:2], 0) > 0.5
        px = sub.reshape(*sub.shape[:2], -1)[m].astype(np.float64) / 255.0
        vals.append(px @ _LUMA if px.shape[-1] == 3 else px[:, 0])
    if not vals or sum(len(v) for v in vals) < 6:
        return None
    return float(np.percentile(np.concatenate(vals), 95))


def _polygon_mask(points: np.ndarray, shape: tuple[int, int], blur: float) -> np.ndarray:
    import cv2

    mask = np.zeros(shape, dtype=np.uint8)
    cv2.fillPoly(mask, [np.rint(points * 16).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=4)
    out: np.ndarray = mask.astype(np.float32) / 255.0
    if blur > 0:
        out = cv2.GaussianBlur(out, (0, 0), blur)
    return out


def _mean_colour(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    w = mask.reshape(-1)
    total = float(w.sum())
    px = image.reshape(-1, image.shape[-1]).astype(np.float64) / 255.0
    if total < 1.0:
        return px.mean(0)
    return (px * w[:, None]).sum(0) / total


def _close_mouth(image: np.ndarray, before: np.ndarray, after: np.ndarray, source: np.ndarray,
                 closing: float, old_interior: np.ndarray | None = None) -> np.ndarray:
    """A mouth that closes: the old opening becomes lips, with a dark line where they meet.

    The warp squeezes the old interior (teeth, cavity) into a thin band between the new
    lips, which leaves a seam of teeth. ``old_interior`` ``(S, S)`` in [0, 1] says exactly
    where the old inner-lip area landed in ``image`` (the source's inner-lip polygon pushed
    through the warp); it is filled with the person's own lip colour, and a line of that
    colour darkened to 0.7 is drawn along the new inner-lip outline (a closed mouth's lip
    line). Without ``old_interior`` only the line, widened, is drawn. Both fade in with how
    much the mouth closed (``closing``: the gap lost, as a fraction of the mouth width).
    """
    import cv2

    width = float(np.linalg.norm(after[54] - after[48]))
    h, w = image.shape[:2]
    pad = int(np.ceil(0.15 * width)) + 2
    x0, y0 = (np.floor(after[_OUTER].min(0)).astype(int) - pad).clip(0)
    x1, y1 = np.ceil(after[_OUTER].max(0)).astype(int) + pad
    x1, y1 = min(int(x1), w), min(int(y1), h)
    bx0, by0 = (np.floor(before[_OUTER].min(0)).astype(int) - pad).clip(0)
    bx1, by1 = np.ceil(before[_OUTER].max(0)).astype(int) + pad
    bx1, by1 = min(int(bx1), w), min(int(by1), h)
    if x1 <= x0 or y1 <= y0 or bx1 <= bx0 or by1 <= by0:
        return image
    boff = np.array([bx0, by0], dtype=np.float64)
    sbox = source[by0:by1, bx0:bx1]
    lips = np.clip(_polygon_mask(before[_OUTER] - boff, sbox.shape[:2], 0)
                   - _polygon_mask(before[_INNER] - boff, sbox.shape[:2], 0), 0, 1)
    lip = _mean_colour(sbox, lips)
    off = np.array([x0, y0], dtype=np.float64)
    box = (y1 - y0, x1 - x0)
    line = _polygon_mask(_smooth_closed(after[_INNER]) - off, box, 0)
    grow = max(1, int(round((0.01 if old_interior is not None else 0.03) * width)))
    line = cv2.dilate(line, np.ones((2 * grow + 1, 2 * grow + 1), np.float32))
    line = cv2.GaussianBlur(line, (0, 0), max(0.5, 0.008 * width))
    alpha = float(np.clip(closing / 0.03, 0.0, 1.0))
    region: np.ndarray = image[y0:y1, x0:x1].astype(np.float64) / 255.0
    if region.ndim == 2:
        region = region[..., None]
    chans = region.shape[-1]
    if old_interior is not None:
        fill: np.ndarray = np.clip(old_interior[y0:y1, x0:x1].astype(np.float64), 0.0, 1.0)
        fill = cv2.GaussianBlur(fill, (0, 0), max(0.5, 0.006 * width))[..., None] * alpha
        region = region * (1.0 - fill) + lip[None, None, :chans] * fill
    m = (alpha * line)[..., None]
    out_box = region * (1.0 - m) + (0.7 * lip)[None, None, :chans] * m
    out = image.copy()
    out[y0:y1, x0:x1] = np.clip(np.rint(out_box * 255.0), 0, 255).astype(np.uint8).reshape(
        out[y0:y1, x0:x1].shape)
    return out


def old_interior_mask(before: np.ndarray, maps: tuple[np.ndarray, np.ndarray],
                      shape: tuple[int, int]) -> np.ndarray:
    """Where the inner-lip area of ``before`` lands through a backward warp ``maps``: (S, S) [0, 1]."""
    import cv2

    src = _polygon_mask(_smooth_closed(np.asarray(before, dtype=np.float64)[_INNER]), shape, 0)
    return cv2.remap(src, maps[0], maps[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def paint_mouth(image: np.ndarray, before: np.ndarray, after: np.ndarray,
                source: np.ndarray | None = None, *, teeth: bool = True,
                fade: float = 0.06, old_interior: np.ndarray | None = None) -> np.ndarray:
    """Paint the interior of the mouth opened from landmarks ``before`` to ``after``.

    ``image``: the warped crop ``(S, S, C)`` uint8 (C = 1 or 3) whose landmarks are
    ``after`` (68, 2); ``source``: the crop before the warp (landmarks ``before``), where
    lip and skin colours are measured (default ``image``). ``fade``: the opening growth,
    as a fraction of the mouth width, over which the paint fades in. ``old_interior``:
    where the source's inner-lip area landed in ``image`` (:func:`old_interior_mask`),
    used when the mouth closes. Returns a new array;
    ``image`` itself when the mouth does not open more.
    """
    src = image if source is None else source
    b = np.asarray(before, dtype=np.float64)
    a = np.asarray(after, dtype=np.float64)
    width = float(np.linalg.norm(a[54] - a[48]))
    if width <= 1.0:
        return image
    growth = inner_gap(a) - inner_gap(b)
    alpha = float(np.clip(growth / (fade * width), 0.0, 1.0))
    if alpha <= 0.0:
        if growth < -fade * width:
            return _close_mouth(image, b, a, src, -growth / width, old_interior)
        return image
    h, w = image.shape[:2]
    # work in the mouth's bounding box only
    pad = int(np.ceil(0.15 * width)) + 2
    x0, y0 = (np.floor(a[_OUTER].min(0)).astype(int) - pad).clip(0)
    x1, y1 = np.ceil(a[_OUTER].max(0)).astype(int) + pad
    x1, y1 = min(int(x1), w), min(int(y1), h)
    if x1 <= x0 or y1 <= y0:
        return image
    off = np.array([x0, y0], dtype=np.float64)
    box = (y1 - y0, x1 - x0)
    blur = max(0.4, 0.012 * width)
    inner = _polygon_mask(_smooth_closed(a[_INNER]) - off, box, blur)
    if inner.max() <= 0:
        return image
    # colours measured on the source crop, around its own mouth
    bx0, by0 = (np.floor(b[_OUTER].min(0)).astype(int) - pad).clip(0)
    bx1, by1 = np.ceil(b[_OUTER].max(0)).astype(int) + pad
    bx1, by1 = min(int(bx1), w), min(int(by1), h)
    boff = np.array([bx0, by0], dtype=np.float64)
    sbox = src[by0:by1, bx0:bx1]
    lips = _polygon_mask(b[_OUTER] - boff, sbox.shape[:2], 0) - _polygon_mask(b[_INNER] - boff, sbox.shape[:2], 0)
    ring = _polygon_mask(b[_OUTER] - boff, sbox.shape[:2], 0.25 * width)
    skin = np.clip(ring - _polygon_mask(b[_OUTER] - boff, sbox.shape[:2], 0), 0, 1)
    lip = _mean_colour(sbox, np.clip(lips, 0, 1))
    skin_c = _mean_colour(sbox, skin)
    chans = image.shape[2] if image.ndim == 3 else 1
    luma = (lambda c: float(c @ _LUMA)) if chans == 3 else (lambda c: float(c[0]))
    skin_l = max(luma(skin_c), 1e-3)

    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    # depth cue: darker away from the lips (distance inside the polygon, relative)
    import cv2

    hard = (inner > 0.5).astype(np.uint8)
    depth = cv2.distanceTransform(hard, cv2.DIST_L2, 3).astype(np.float64) if hard.any() else np.zeros(box)
    depth = np.clip(depth / max(0.5 * inner_gap(a), 1.0), 0.0, 1.0)
    cavity = lip[None, None, :] * (0.30 - 0.14 * depth[..., None])
    interior = cavity
    if teeth:
        # upper teeth: from the upper inner lip down to about 40 % of the gap
        # the upper inner lip as a smooth curve (60 -> 64: the first 4 segments of the outline)
        upper = _smooth_closed(a[_INNER])[: 4 * 6 + 1]
        order = np.argsort(upper[:, 0])
        top = np.interp(xx, upper[order, 0], upper[order, 1])
        gap = inner_gap(a)
        # a wide-open jaw (AU26/27) shows only the edges of the upper teeth (the upper lip
        # stays down over them); parted lips of a smile show them whole
        covered = float(np.clip(1.5 - gap / (0.3 * width), 0.4, 1.0))
        # slightly parted lips (a smile) show teeth nearly to the lower lip
        fill = float(np.clip(0.95 - 2.0 * (gap / width - 0.05), 0.65, 0.95))
        height = min(fill * gap, 0.17 * width * covered)
        below = yy - top
        # teeth reach up under the lip; the biting edge is crisp (a pixel of softening)
        band = np.clip(below + 1.0, 0.0, 1.0) * np.clip(height - below, 0.0, 1.0)
        across = np.clip(np.abs(xx - 0.5 * (a[48, 0] + a[54, 0])) / (0.5 * width), 0.0, 1.0)
        band *= np.clip((0.85 - across) / 0.2, 0.0, 1.0)  # no teeth in the mouth corners
        # teeth lit like the eyes' whites (1.15 x their bright part: both reflect the light
        # falling on the face whatever the skin), darker towards the corners
        sclera = _sclera_luminance(src, b)
        ref_l = min(1.0, 1.15 * sclera) if sclera is not None else 0.85 * np.sqrt(skin_l)
        teeth_l = ref_l * (1.0 - 0.8 * across**2)
        # incisor boundaries: faint darker lines, tooth widths shrinking towards the corners
        cx = 0.5 * (a[48, 0] + a[54, 0])
        u = np.arcsin(np.clip((xx - cx) / (0.5 * width), -1, 1)) / (np.pi / 2)  # [-1, 1]
        phase = u * 4.0  # about 8 teeth across the mouth
        frac = phase - np.round(phase)  # [-0.5, 0.5] across each tooth
        seams = np.exp(-0.5 * (frac / 0.06) ** 2)
        teeth_l *= 1.0 - 0.12 * seams * np.clip(below / (0.3 * height + 1e-6), 0.0, 1.0)
        teeth_l *= 1.0 - 0.12 * (2.0 * frac) ** 2  # each tooth rounded: darker at its sides
        # the biting edge a little darker (thinner, translucent enamel)
        teeth_l *= 1.0 - 0.15 * np.clip((below - 0.8 * height) / (0.2 * height + 1e-6), 0.0, 1.0)
        teeth_l *= 1.0 - 0.25 * np.clip(below / (height + 1e-6), 0.0, 1.0)
        tint = np.array([1.0, 0.96, 0.89]) if chans == 3 else np.array([1.0])
        tooth = teeth_l[..., None] * tint[None, None, :]
        t_alpha = band[..., None] * np.clip(gap / (0.05 * width), 0.0, 1.0)
        interior = interior * (1 - t_alpha) + tooth * t_alpha
    m = (alpha * inner)[..., None]
    region = image[y0:y1, x0:x1].astype(np.float64) / 255.0
    if region.ndim == 2:
        region = region[..., None]
    out_box = region * (1.0 - m) + interior[..., :chans] * m
    out = image.copy()
    out[y0:y1, x0:x1] = np.clip(np.rint(out_box * 255.0), 0, 255).astype(np.uint8).reshape(out[y0:y1, x0:x1].shape)
    return out
