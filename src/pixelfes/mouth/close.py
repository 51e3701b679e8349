"""Closing a mouth: whatever is not lip inside the new lips is painted over with lip.

A smile's inner-lip landmarks sit on the lips, but its teeth reach past them, so moving
the inner lips together still carries tooth pixels along the lip edge. Inside the new
outer-lip outline, pixels far brighter (teeth) or darker (the cavity) than the person's
own lip colour, or far less red than it (teeth in the corners' shadow), are covered by each
lip's own pixels stretched to the meeting line (:func:`lip_stretch_rows`), what is left is
filled from the surrounding lip (OpenCV inpainting), and a faint seam is drawn where the lips meet.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..mouth_regions import outline_y
from .colour import PersonColours, lab, lab_to_srgb
from .crease import draw_crease

__all__ = ["close_mouth", "lip_stretch_rows", "shows_opening"]

_BRIGHTER = 12.0  # L* above the lip median: tooth
_DARKER = 22.0  # L* below the lip median: cavity
_BAND = 0.07  # mouth widths either side of the meeting line searched for leftover teeth
_GREY = 0.5  # share of the lip's own a* below which a pixel is not lip (teeth, shadowed teeth, cavity)
_RED_LIP = 5.0  # lip a* below which (a grey photo) the a* test is not made
_SEAM = 0.88  # luminance factor on the line where the lips meet
#: share of the inner-lip polygon that must be teeth or cavity for a mouth to count as open over
#: them (:func:`shows_opening`). On London's 82 smiles whose inner points are apart (51 of them)
#: the share is 0 on four closed smiles dlib reads as parted (042, 043, 144, 173) and 0.06-0.81 on
#: the rest: any value in (0, 0.06) sorts them alike
_OPEN_SHARE = 0.02
#: leftover teeth along the meeting line are covered first by stretching each lip's own pixels
#: down (upper) or up (lower) to the line, column by column (:func:`lip_stretch_rows`); a lip
#: keeps at least this share of its thickness (no more than 3x stretch), the rest is inpainted.
#: Inpainting alone filled a band of 0.14 mouth widths with a smooth, textureless blend: the
#: "smeared lips" a blind rater saw in 18 of 20 closed smiles
_STRETCH_KEEP = 1.0 / 3.0
#: whether the stretched lips' texture is read at 1:1 (:func:`regrain`); off while it is on
#: trial: ``pixelfes.evaluate.mouth_protocol``'s ``native-destreak`` turns it on for its own calls
_GRAIN = False
#: the 1:1 texture changes L* only (a*, b* stay the stretched lips'): the first trial, RGB, moved
#: the lip line's held-out tint by +0.074 (standard error 0.065), the one measure it broke
_GRAIN_LIGHT_ONLY = True
#: the stretched lips' fine texture (L*a*b* minus a Gaussian of this many mouth widths) is read at
#: 1:1, not stretched (:func:`lip_grain_maps`): stretched up to 3x it drew vertical streaks
_GRAIN_SIGMA = 0.025
#: mouth widths along the lip between the places its texture's tiles are taken from, and
#: the tiles' overlap (:func:`lip_grain_maps`)
_GRAIN_SHIFT = 0.23
_GRAIN_BLEND = 0.02
#: mouth widths of a lip's own rows next to its outline and next to the teeth no tile reads
_GRAIN_MARGIN = 0.015
#: texture read from other rows is kept (softly) within this many times the lips' mean |grain|
_GRAIN_CLIP = 2.5


def shows_opening(image: np.ndarray, landmarks: np.ndarray, colours: PersonColours) -> bool:
    """Whether the inner-lip polygon of ``image`` (``(H, W, 3) uint8``, ``landmarks`` its ``(68, 2)``)
    holds teeth or a cavity: at least :data:`_OPEN_SHARE` of its pixels light and greyish (a
    tooth: lighter than :func:`close_mouth`'s tooth test and less red than its lip test) or as dark
    as its cavity test, against the person's lip colour (``colours``). dlib spreads the inner points
    of some full, closed lips apart (a lens of lip between them); such a mouth has nothing to
    close over. ``False`` when the polygon has under one pixel of area."""
    pts = np.asarray(landmarks, dtype=np.float64)[60:68]
    h, w = image.shape[:2]
    x0, y0 = np.maximum(np.floor(pts.min(0)).astype(int) - 1, 0)
    x1, y1 = np.minimum(np.ceil(pts.max(0)).astype(int) + 2, (w, h))
    area = 0.5 * abs(float(np.dot(pts[:, 0], np.roll(pts[:, 1], -1)) - np.dot(pts[:, 1], np.roll(pts[:, 0], -1))))
    if x1 <= x0 or y1 <= y0 or area < 1.0:  # (a polygon of no area still rasterises its outline)
        return False
    poly = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(poly, [np.rint((pts - (x0, y0)) * 16).astype(np.int32)], 1, shift=4)
    if not poly.any():
        return False
    colour = lab(image[y0:y1, x0:x1][poly > 0])
    lip_l, lip_a = float(colours.lips_lab[0]), float(colours.lips_lab[1])
    light = colour[:, 0]
    greyish = colour[:, 1] < _GREY * lip_a if lip_a >= _RED_LIP else np.ones(light.shape, bool)
    teeth = (light > lip_l + _BRIGHTER) & greyish
    return bool(np.mean(teeth | (light < lip_l - _DARKER)) >= _OPEN_SHARE)


def _stretch_plan(mask: np.ndarray, local: np.ndarray, width: float) -> tuple[np.ndarray, ...]:
    """Per column: the upper lip's outer outline, the meeting line, the lower lip's outer outline
    and each lip's kept share ``(k_up, k_lo)`` (:func:`lip_stretch_rows`), all ``(W,) float64``."""
    h, w = mask.shape
    rows = np.arange(h, dtype=np.float64)[:, None]
    xs = np.arange(w, dtype=np.float64)
    line = outline_y(local[12:17], xs)
    top = outline_y(local[0:7], xs)
    bot = outline_y(local[[6, 7, 8, 9, 10, 11, 0]], xs)
    cols = (xs > min(local[12, 0], local[16, 0])) & (xs < max(local[12, 0], local[16, 0]))
    upper = mask & (rows <= line[None]) & (rows >= top[None]) & cols[None]
    lower = mask & (rows > line[None]) & (rows <= bot[None]) & cols[None]
    first = np.where(upper.any(0), np.argmax(upper, 0), h).astype(np.float64)  # highest masked, upper
    last = np.where(lower.any(0), h - 1 - np.argmax(lower[::-1], 0), -1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        k_up = np.where(first < h, (first - 1 - top) / (line - top), 1.0)
        k_lo = np.where(last >= 0, (bot - last - 1) / (bot - line), 1.0)
    reach = max(1, int(round(0.02 * width)))
    ks = []
    for k in (k_up, k_lo):
        k = np.clip(np.nan_to_num(k, nan=1.0), _STRETCH_KEEP, 1.0).astype(np.float32)
        k = cv2.erode(k[None], np.ones((1, 2 * reach + 1), np.uint8), borderType=cv2.BORDER_REPLICATE)
        ks.append(cv2.GaussianBlur(k, (0, 0), reach, borderType=cv2.BORDER_REPLICATE)[0].astype(np.float64))
    return top, line, bot, ks[0], ks[1]


def lip_stretch_rows(mask: np.ndarray, local: np.ndarray, width: float) -> np.ndarray:
    """``(H, W) float32`` source rows that stretch each lip over the ``mask`` pixels next to the line.

    ``mask``: ``(H, W) bool``, the pixels that are not lip (teeth, cavity) inside the closed lips;
    ``local``: the lips ``(20, 2)`` (48-67, inner lips meeting) in the same pixels. In each column
    between the inner corners the upper lip's rows from its outer outline down to the meeting line
    are read from the outline down to the pixel above the highest masked one in the upper half (the
    lower lip the same, upwards), so the lips meet with their own texture and edge. The stretch is
    the column's lip share, kept to at least ``_STRETCH_KEEP``, then made smooth along the line
    (a minimum over, then a Gaussian of, 0.02 mouth widths): no steps between columns. Rows
    outside the lips map to themselves.
    """
    h, w = mask.shape
    rows = np.arange(h, dtype=np.float64)[:, None]
    top, line, bot, k_up, k_lo = _stretch_plan(mask, local, width)
    src = np.broadcast_to(rows, (h, w)).copy()
    up = (rows <= line[None]) & (rows >= top[None])
    lo = (rows > line[None]) & (rows <= bot[None])
    src = np.where(up, top[None] + (rows - top[None]) * k_up[None], src)
    src = np.where(lo, bot[None] - (bot[None] - rows) * k_lo[None], src)
    return src.astype(np.float32)


def _reflect(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``x`` folded back and forth into ``[lo, hi]`` (a mirror at each end)."""
    span = max(hi - lo, 1e-6)
    u = np.mod(x - lo, 2.0 * span)
    return lo + np.where(u <= span, u, 2.0 * span - u)


def lip_grain_maps(mask: np.ndarray, local: np.ndarray, width: float) -> tuple[np.ndarray, ...]:
    """Where each pixel of the lips stretched over ``mask`` (:func:`lip_stretch_rows`) reads its
    fine texture at 1:1: ``(x, y, x_before, y_before, blend)``, ``(H, W) float32`` each.

    A lip of thickness ``T`` keeps ``S = k T`` of its own rows (depth from its outer outline);
    its texture is laid down in tiles of those ``S`` rows, unstretched, the ``n``-th tile taken
    from ``n * _GRAIN_SHIFT`` mouth widths along the lip (folded back at the inner corners), so
    no crease is drawn twice in a column; each tile is read from its column's own outline down.
    Tiles overlap by ``_GRAIN_BLEND`` mouth widths (at most 0.4 ``S`` and ``T - S``), where the one before
    (``x_before``, ``y_before``) is blended in with weight ``blend`` (1 at the tile's start, 0
    at the overlap's end). Tile 0 is the lip's own rows in place: outside the lips, and where a
    lip is not stretched, both maps are the pixel itself and ``blend`` is 0.
    """
    h, w = mask.shape
    f32 = np.float32
    xs = np.arange(w, dtype=f32)[None]
    rows_all = np.arange(h, dtype=f32)[:, None]
    top, line, bot, k_up, k_lo = (v.astype(f32) for v in _stretch_plan(mask, local, width))
    lo_x, hi_x = sorted((float(local[12, 0]), float(local[16, 0])))
    shift = f32(_GRAIN_SHIFT * width)
    maps = [np.broadcast_to(xs, (h, w)).copy(), np.broadcast_to(rows_all, (h, w)).copy(),
            np.broadcast_to(xs, (h, w)).copy(), np.broadcast_to(rows_all, (h, w)).copy(), np.zeros((h, w), f32)]
    for sign, outer_pts, outer, k in ((1.0, local[0:7], top, k_up), (-1.0, local[[6, 7, 8, 9, 10, 11, 0]], bot, k_lo)):
        # (only the rows this lip spans)
        r0 = int(np.clip(np.floor(min(outer.min(), line.min())), 0, h))
        r1 = int(np.clip(np.ceil(max(outer.max(), line.max())) + 1, r0, h))
        if r1 <= r0:
            continue
        rows = rows_all[r0:r1]
        inside = (sign * (rows - outer[None]) >= 0) & (sign * (line[None] - rows) >= (0 if sign > 0 else 1e-6))
        thick = np.maximum(sign * (line - outer), 0.0)[None]
        span = np.minimum(np.maximum(k[None] * thick, 1.0), thick)  # the own rows kept, deep from the outline
        # the tiles read the rows clear of the outline (its edge) and of the teeth (their soft
        # edge); the margins and the overlap shrink to nothing as the stretch does
        margin = np.minimum(f32(_GRAIN_MARGIN * width), 0.25 * span)
        start = margin
        end = span - np.minimum(margin, thick - span)
        blend = np.minimum(np.minimum(f32(_GRAIN_BLEND * width), 0.4 * (end - start)), thick - end)
        step = np.maximum(end - start - blend, 1e-6)
        depth = np.maximum(sign * (rows - outer[None]), 0.0)
        first = end - blend  # where tile 1 begins
        tiled = (thick - end > 1e-3) & (depth > first) & inside
        n = np.where(tiled, 1.0 + np.floor((depth - first) / step), 0.0)
        q = depth - (first + (n - 1.0) * step)  # depth into tile n
        for j, (tile, d) in enumerate(((n, start + q), (n - 1, np.where(n >= 2, start + q + step, depth)))):
            x = np.where(tile > 0, _reflect(xs + tile * shift, lo_x, hi_x), xs)
            y = outline_y(outer_pts, x.ravel()).reshape(x.shape).astype(f32) + sign * d
            use = tiled if j == 0 else tiled & (n >= 2)
            maps[2 * j][r0:r1] = np.where(use, x, maps[2 * j][r0:r1])
            maps[2 * j + 1][r0:r1] = np.where(use, y, maps[2 * j + 1][r0:r1])
        fade = 1.0 - q / np.maximum(blend, 1e-6)
        maps[4][r0:r1] = np.where(tiled & (q < blend), fade, maps[4][r0:r1])
    return tuple(maps)


def _parts(poly: np.ndarray, local: np.ndarray) -> list[np.ndarray]:
    """The upper and the lower lip (``poly`` above / below the meeting line of ``local``), ``(H, W)
    bool``: the parts a smooth layer is taken within, so that no edge between them blurs."""
    h, w = poly.shape
    below = np.arange(h)[:, None] > outline_y(local[12:17], np.arange(w, dtype=np.float64))[None]
    lips = poly > 0
    return [lips & ~below, lips & below]


def _smooth(image: np.ndarray, parts: list[np.ndarray], use: np.ndarray, sigma: float) -> np.ndarray:
    """``image`` ``(H, W, 3) float32`` made smooth within each of ``parts``: a Gaussian of ``sigma``
    px over the ``use`` pixels of that part only (normalised by their weight); ``image`` itself
    outside the parts and where a part has no ``use`` pixel near."""
    out = image
    h, w = image.shape[:2]
    half = sigma >= 2.0 and min(h, w) >= 8  # (a wide Gaussian on a half-size image: 4x fewer taps)
    for part in parts:
        wt = (part & use).astype(np.float32)[..., None]
        both = np.concatenate([image * wt, wt], axis=2)
        if half:
            small = cv2.resize(both, ((w + 1) // 2, (h + 1) // 2), interpolation=cv2.INTER_AREA)
            small = cv2.GaussianBlur(small, (0, 0), 0.5 * sigma, borderType=cv2.BORDER_CONSTANT)
            both = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        else:
            both = cv2.GaussianBlur(both, (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
        ok = part & (both[..., 3] > 1e-3)
        out = np.where(ok[..., None], both[..., :3] / np.maximum(both[..., 3:], 1e-3), out)
    return out


def lip_grain(region: np.ndarray, mask: np.ndarray, parts: list[np.ndarray], width: float) -> np.ndarray:
    """``(H, W, 4) float32``: the lips' fine texture in ``region`` (``(H, W, 3) uint8``) and its
    weight, to be read at 1:1 (:func:`lip_grain_maps`) where the lips are stretched over ``mask``.

    The texture is the image minus its smooth layer (:func:`_smooth`, ``_GRAIN_SIGMA`` mouth
    widths, within each lip, ``mask`` left out), kept softly within ``_GRAIN_CLIP`` times its mean
    over the lips (a speck of gloss or a tooth's edge is not repeated). Its weight fades from 1 to
    0 over 0.01 mouth widths towards ``mask`` (the teeth's soft edge is no lip grain) and towards
    the lips' outline (their edge, kept where it is); the texture is given times its weight."""
    f = region.astype(np.float32)
    sigma = max(0.8, _GRAIN_SIGMA * width)
    high = f - _smooth(f, parts, ~mask, sigma)
    lips = (parts[0] | parts[1]) & ~mask
    c = _GRAIN_CLIP * np.maximum(np.abs(high[lips]).mean(0), 0.5) if lips.any() else np.full(3, 8.0)
    reach = max(1.0, 0.01 * width)
    off_teeth: np.ndarray = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 3)
    off_edge: np.ndarray = cv2.distanceTransform((parts[0] | parts[1]).astype(np.uint8), cv2.DIST_L2, 3)
    weight = np.clip(np.minimum(off_teeth, off_edge) / reach, 0.0, 1.0)
    return np.dstack([c * np.tanh(high / c) * weight[..., None], weight]).astype(np.float32)


def regrain(region: np.ndarray, grain: np.ndarray, smooth_rows: np.ndarray, maps: tuple[np.ndarray, ...],
            parts: list[np.ndarray], width: float) -> np.ndarray:
    """``region`` (``(H, W, 3) uint8``, the lips already stretched and filled) with its fine texture
    replaced, wherever a lip was moved, by the lip's own (:func:`lip_grain`) read at 1:1 through
    ``maps`` (:func:`lip_grain_maps`): ``region``'s smooth layer plus that texture, blended in by
    its weight (``region`` is kept where the lip has no texture of its own to give); two tiles
    cross-faded keep their summed texture's strength. Unmoved pixels are unchanged."""
    x, y, xb, yb, blend = maps
    rows = np.arange(region.shape[0], dtype=np.float32)[:, None]
    cols = np.arange(region.shape[1], dtype=np.float32)[None]
    moved = ((np.abs(smooth_rows - rows) > 0.01) | (np.abs(y - rows) > 0.01) | (np.abs(x - cols) > 0.01)) \
        & (parts[0] | parts[1])
    if not moved.any():
        return region
    f = region.astype(np.float32)
    low = _smooth(f, parts, np.ones(moved.shape, bool), max(0.8, _GRAIN_SIGMA * width))
    now = cv2.remap(grain, x, y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    before = cv2.remap(grain, xb, yb, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    b = blend[..., None]
    read = (1.0 - b) * now + b * before
    texture = read[..., :3] / np.sqrt((1.0 - b) ** 2 + b ** 2)
    weight = np.clip(read[..., 3:], 0.0, 1.0)
    out = np.where(moved[..., None], f + weight * (low - f) + texture, f)
    if _GRAIN_LIGHT_ONLY:  # the texture's lightness only: the colour stays the stretched lip's
        new, old = lab(np.clip(np.rint(out), 0, 255).astype(np.uint8)), lab(region)
        out = np.where(moved[..., None], lab_to_srgb(np.dstack([new[..., :1], old[..., 1:]])), f)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _not_lip(colour: np.ndarray, lip_l: float, lip_a: float) -> np.ndarray:
    """``(H, W) bool``: pixels of ``colour`` (L*a*b*) that are no lip of L* ``lip_l`` and a*
    ``lip_a``: far lighter (teeth), far darker (the cavity), or, on a red lip, far less red
    (teeth in the corners' shadow are about as light as lip but nearly grey)."""
    light = colour[..., 0]
    greyish = colour[..., 1] < _GREY * lip_a if lip_a >= _RED_LIP else np.zeros(light.shape, bool)
    return np.asarray((light > lip_l + _BRIGHTER) | (light < lip_l - _DARKER) | greyish)


def close_mouth(image: np.ndarray, lips: np.ndarray, colours: PersonColours,
                crease: np.ndarray | None = None) -> tuple[int, int, int, int] | None:
    """Paint lip over teeth and cavity inside the outer lips of ``image``, **in place**.

    ``image`` ``(H, W, 3) uint8`` RGB in any frame, already warped to the closed shape;
    ``lips`` ``(20, 2)`` landmarks 48-67 there; ``colours`` the person's own colours (lip
    median measured on the input); ``crease``: a real closed lip line's profile
    (:func:`pixelfes.mouth.crease.crease_profile`, e.g. :meth:`MouthBank.crease_goal`) the meeting
    line is darkened to (:func:`pixelfes.mouth.crease.draw_crease`), else a faint seam
    (``_SEAM``). Returns the changed box, or ``None``.
    """
    pts = np.asarray(lips, dtype=np.float64)
    h, w = image.shape[:2]
    width = float(np.linalg.norm(pts[6] - pts[0]))
    pad = 3 + int(0.05 * width)
    x0, y0 = np.maximum(np.floor(pts[:12].min(0)).astype(int) - pad, 0)
    x1, y1 = np.minimum(np.ceil(pts[:12].max(0)).astype(int) + pad + 1, (w, h))
    if x1 <= x0 or y1 <= y0:
        return None
    region = image[y0:y1, x0:x1]
    local = pts - (x0, y0)
    poly = np.zeros(region.shape[:2], np.uint8)
    cv2.fillPoly(poly, [np.rint(local[:12] * 16).astype(np.int32)], 1, shift=4)
    inside: np.ndarray = cv2.erode(poly, np.ones((3, 3), np.uint8))
    colour = lab(region)
    light = colour[..., 0]
    # the input's lip band may hold teeth of a smile: trust the darker of its median and
    # the median inside the new (closed) lips, which are mostly lip
    lip_l = min(float(colours.lips_lab[0]), float(np.median(light[inside > 0])) if inside.any() else 1e9)
    # teeth left over lie along the line where the lips now meet: look only near it, so
    # the lips' own highlights and creases are never painted over
    near = np.zeros(region.shape[:2], np.uint8)
    band = max(3, int(round(2 * _BAND * width)))
    cv2.polylines(near, [np.rint(local[[12, 13, 14, 15, 16]]).astype(np.int32)], False, 1, band)
    lip_a = float(colours.lips_lab[1])
    zone = (inside > 0) & (near > 0)
    odd = _not_lip(colour, lip_l, lip_a) & zone
    if odd.any():
        grow = max(1, int(round(0.02 * width)))  # teeth edges are soft: take their halo too
        halo = np.ones((2 * grow + 1,) * 2, np.uint8)
        mask: np.ndarray = cv2.dilate(odd.astype(np.uint8), halo) & inside
        grain = None
        if _STRETCH_KEEP < 1.0:  # the lips' own pixels first, inpainting for what is left
            src = lip_stretch_rows(mask > 0, local, width)
            maps = lip_grain_maps(mask > 0, local, width) if _GRAIN else ()
            if _GRAIN:
                parts = _parts(poly, local)
                grain = lip_grain(region, mask > 0, parts, width)
            mx = np.broadcast_to(np.arange(src.shape[1], dtype=np.float32)[None], src.shape)
            region[...] = cv2.remap(np.ascontiguousarray(region), np.ascontiguousarray(mx), src,
                                    cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
            odd = _not_lip(lab(region), lip_l, lip_a) & zone
            mask = cv2.dilate(odd.astype(np.uint8), halo) & inside
        filled = cv2.inpaint(np.ascontiguousarray(region), mask * 255, max(3, 2 * grow), cv2.INPAINT_TELEA)
        region[...] = filled
        if grain is not None:  # the stretched lips' own texture at 1:1, not stretched
            region[...] = regrain(region, grain, src, maps, parts, width)
    if crease is not None and np.isfinite(crease).all():
        draw_crease(region, local, width, crease)
        return (int(x0), int(y0), int(x1), int(y1))
    line_img = np.zeros(region.shape[:2], np.float32)
    line = np.rint(local[[12, 13, 14, 15, 16]] * 16).astype(np.int32)
    cv2.polylines(line_img, [line], False, 1.0, max(1, int(round(0.012 * width))), cv2.LINE_AA, shift=4)
    seam: np.ndarray = cv2.GaussianBlur(line_img, (0, 0), max(0.6, 0.006 * width))
    out = region.astype(np.float32) * (1.0 - (1.0 - _SEAM) * seam)[..., None]
    region[...] = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return (int(x0), int(y0), int(x1), int(y1))
