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

from .._nomask import median
from ..mouth_regions import outline_y
from .colour import PersonColours, lab, lab_to_srgb
from .crease import draw_crease
from .relief import draw_relief

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
#: the inpainting (OpenCV's Telea, a radius of two halos) run at half resolution (:func:`_inpaint`): the
#: same reach at about a tenth of its cost (the masked pixels times the (2r + 1)^2 window: the closing's
#: largest single cost, 2.3-3 ms). Off: adopted by its rule (held out not worse, no blind rater could see
#: it), then its confirmation after the red wedge's calming (``native._CALM_LINE``) found the detail
#: ratio worse by 1.2 paired se (docs/mouth.md, "Speed: closing a smile, second pass"). A radius of one
#: halo instead drew the seam's dark pixels into the lower lip's middle (a grey wedge under the seam)
_INPAINT_HALF = False
#: the stretched lips' fine texture laid back at 1:1 (:func:`regrain`) instead of stretched with
#: them (the "comb-like vertical streaks" blind raters named; docs/mouth.md, "destreak"); tests
#: turn it off to compare with the stretch alone
_GRAIN = True
#: mouth widths either side of the meeting line the 1:1 texture leaves alone, and its fade beyond:
#: the rows the crease darkens (:mod:`.crease`; a smooth layer there lightened the darkest row)
_GRAIN_LINE = 0.03
_GRAIN_LINE_FADE = 0.015
#: highlights of the texture read from other rows are kept (softly) within this many times the
#: lips' mean |texture|: a lower lip's gloss specks laid in every tile read as light dashes
_GRAIN_GLOSS = 1.0
#: the stretched lips' fine texture (L*a*b* minus a Gaussian of this many mouth widths) is read at
#: 1:1, not stretched (:func:`lip_grain_maps`): stretched up to 3x it drew vertical streaks
_GRAIN_SIGMA = 0.025
#: mouth widths along the lip between the places its texture's tiles are taken from, and
#: the tiles' overlap (:func:`lip_grain_maps`)
_GRAIN_SHIFT = 0.23
_GRAIN_BLEND = 0.02
#: mouth widths of a lip's own rows next to its outline no tile reads (its edge; towards the teeth
#: the mask's halo and the texture's weight keep the teeth's soft edge out)
_GRAIN_MARGIN = 0.008
#: tiles shorter than this many mouth widths lay no texture (a few rows repeated read as
#: horizontal blotches, 134's lower lip), half of it fades in
_GRAIN_MIN_TILE = 0.025
#: mouth widths along the lip over which the texture's mean per row is taken out (it is shading,
#: such as the outline's soft edge: laid down in every tile it drew horizontal bands)
_GRAIN_ALONG = 0.06
#: shadows of the texture read from other rows are kept (softly) within this many times its mean
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


def lip_stretch_rows(mask: np.ndarray, local: np.ndarray, width: float,
                     plan: tuple[np.ndarray, ...] | None = None) -> np.ndarray:
    """``(H, W) float32`` source rows that stretch each lip over the ``mask`` pixels next to the line.

    ``mask``: ``(H, W) bool``, the pixels that are not lip (teeth, cavity) inside the closed lips;
    ``local``: the lips ``(20, 2)`` (48-67, inner lips meeting) in the same pixels. In each column
    between the inner corners the upper lip's rows from its outer outline down to the meeting line
    are read from the outline down to the pixel above the highest masked one in the upper half (the
    lower lip the same, upwards), so the lips meet with their own texture and edge. The stretch is
    the column's lip share, kept to at least ``_STRETCH_KEEP``, then made smooth along the line
    (a minimum over, then a Gaussian of, 0.02 mouth widths): no steps between columns. Rows
    outside the lips map to themselves. ``plan``: :func:`_stretch_plan`'s, if already made.
    """
    h, w = mask.shape
    rows = np.arange(h, dtype=np.float64)[:, None]
    top, line, bot, k_up, k_lo = _stretch_plan(mask, local, width) if plan is None else plan
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


def lip_grain_maps(mask: np.ndarray, local: np.ndarray, width: float,
                   plan: tuple[np.ndarray, ...] | None = None) -> tuple[np.ndarray, ...]:
    """Where each pixel of the lips stretched over ``mask`` (:func:`lip_stretch_rows`) reads its
    fine texture at 1:1: ``(x, y, x_before, y_before, blend, strength)``, ``(H, W) float32`` each.

    A lip of thickness ``T`` keeps ``S = k T`` of its own rows (depth from its outer outline);
    its texture is laid down in tiles of those ``S`` rows (less ``_GRAIN_MARGIN`` next to the
    outline), unstretched, the ``n``-th tile taken
    from ``n * _GRAIN_SHIFT`` mouth widths along the lip (folded back at the inner corners), so
    no crease is drawn twice in a column; each tile is read from its column's own outline down.
    Every tile is read at whole pixels (its shift, the fold and its rows rounded). Tiles overlap by
    ``_GRAIN_BLEND`` mouth widths (at most 0.4 ``S`` and ``T - S``), where the one before
    (``x_before``, ``y_before``) is blended in with weight ``blend`` (1 at the tile's start, 0
    at the overlap's end). ``strength``: how much texture a tile lays, 0 where its step is under
    half ``_GRAIN_MIN_TILE``, 1 from ``_GRAIN_MIN_TILE`` on. Tile 0 is the lip's own rows in place:
    outside the lips, and where a lip is not stretched, both maps are the pixel itself, ``blend``
    is 0 and ``strength`` 1. ``plan``: :func:`_stretch_plan`'s, if already made.
    """
    h, w = mask.shape
    f32 = np.float32
    xs = np.arange(w, dtype=f32)[None]
    rows_all = np.arange(h, dtype=f32)[:, None]
    top, line, bot, k_up, k_lo = (v.astype(f32) for v in (_stretch_plan(mask, local, width) if plan is None else plan))
    lo_x, hi_x = sorted((float(local[12, 0]), float(local[16, 0])))
    lo_x, hi_x = float(np.ceil(lo_x)), float(max(np.floor(hi_x), np.ceil(lo_x)))  # (whole columns)
    shift = f32(max(1, round(_GRAIN_SHIFT * width)))
    maps = [np.broadcast_to(xs, (h, w)).copy(), np.broadcast_to(rows_all, (h, w)).copy(),
            np.broadcast_to(xs, (h, w)).copy(), np.broadcast_to(rows_all, (h, w)).copy(), np.zeros((h, w), f32),
            np.ones((h, w), f32)]
    # both lips at once: row 0 of each (2, W) the upper lip (read down from its outline), row 1 the lower
    outer, k = np.stack([top, bot]), np.stack([k_up, k_lo])
    sign = np.array([[1.0], [-1.0]], f32)
    thick = np.maximum(sign * (line[None] - outer), 0.0)
    span = np.minimum(np.maximum(k * thick, 1.0), thick)  # the own rows kept, deep from the outline
    # the tiles read the rows clear of the outline (its edge); the margin and the overlap shrink to
    # nothing as the stretch does
    start = np.minimum(f32(_GRAIN_MARGIN * width), 0.25 * span)
    blend = np.minimum(np.minimum(f32(_GRAIN_BLEND * width), 0.4 * (span - start)), thick - span)
    step = np.maximum(span - start - blend, 1e-6)
    first = np.where(thick - span > 1e-3, span - blend, np.inf)  # where tile 1 begins (never: unstretched)
    r0 = int(np.clip(np.floor(top.min()), 0, h))
    r1 = int(np.clip(np.ceil(bot.max()) + 1, r0, h))
    rows = rows_all[r0:r1]
    lower = rows > line[None]  # (the lower lip's pixels; row == line is the upper's)
    depth = np.where(lower, bot[None] - rows, rows - top[None])
    rr, cc = np.nonzero(depth > np.where(lower, first[1][None], first[0][None]))  # (the tiled pixels only)
    if rr.size == 0:
        return tuple(maps)
    lip = lower[rr, cc].astype(np.intp)
    f, st, sg = first[lip, cc], step[lip, cc], sign[lip, 0]
    n = (1.0 + np.floor((depth[rr, cc] - f) / st)).astype(np.intp)
    q = depth[rr, cc] - (f + (n - 1) * st)  # depth into tile n
    # each tile's column (both lips) and outline (each lip), per column: a tile index takes a few values
    tiles = np.arange(int(n.max()) + 1, dtype=f32)[:, None]
    tx = np.where(tiles > 0, _reflect(xs + tiles * shift, lo_x, hi_x), xs).astype(f32)
    ty = np.stack([outline_y(pts, tx.ravel()).reshape(tx.shape) for pts in (local[0:7], local[[6, 7, 8, 9, 10, 11, 0]])])
    d = start[lip, cc] + q
    at = (rr + r0, cc)
    maps[0][at] = tx[n, cc]
    maps[1][at] = np.rint(ty[lip, n, cc] + sg * d)  # (whole pixels: read as they are, no interpolation)
    two = n >= 2
    maps[2][rr[two] + r0, cc[two]] = tx[n[two] - 1, cc[two]]
    maps[3][rr[two] + r0, cc[two]] = np.rint(ty[lip[two], n[two] - 1, cc[two]] + sg[two] * (d[two] + st[two]))
    bl = blend[lip, cc]
    maps[4][at] = np.where(q < bl, 1.0 - q / np.maximum(bl, 1e-6), 0.0)
    maps[5][at] = np.clip(st / f32(0.5 * _GRAIN_MIN_TILE * width) - 1.0, 0.0, 1.0)
    return tuple(maps)


def _parts(poly: np.ndarray, local: np.ndarray) -> list[np.ndarray]:
    """The upper and the lower lip (``poly`` above / below the meeting line of ``local``), ``(H, W)
    bool``: the parts a smooth layer is taken within, so that no edge between them blurs."""
    h, w = poly.shape
    below = np.arange(h)[:, None] > outline_y(local[12:17], np.arange(w, dtype=np.float64))[None]
    lips = poly > 0
    return [lips & ~below, lips & below]


def _smooth(light: np.ndarray, parts: list[np.ndarray], use: np.ndarray, sigma: float,
            along: bool = False) -> np.ndarray:
    """``light`` ``(H, W) float32`` made smooth within each of ``parts``: about a Gaussian of ``sigma``
    px (``along``: along the rows only) over the ``use`` pixels of that part only (normalised by their
    weight); ``light`` itself outside the parts and where a part has no ``use`` pixel near. Both
    parts in one 4-channel blur."""
    h, w = light.shape
    wts = [(part & use).astype(np.float32) for part in parts]
    both = np.dstack([light * wts[0], wts[0], light * wts[1], wts[1]])
    # boxes (their cost does not grow with the width): along the rows one as wide as a Gaussian of
    # ``sigma``; else two passes each way, together near a Gaussian of ``sigma``
    if along:
        both = cv2.blur(both, (2 * int(round(0.5 * np.sqrt(12.0 * sigma ** 2 + 1.0))) + 1, 1),
                        borderType=cv2.BORDER_CONSTANT)
    else:
        k = max(3, 2 * int(round(0.5 * np.sqrt(6.0 * sigma ** 2 + 1.0))) + 1)
        both = cv2.blur(cv2.blur(both, (k, k), borderType=cv2.BORDER_CONSTANT), (k, k),
                        borderType=cv2.BORDER_CONSTANT)
    c = cv2.split(both)
    num, wt = np.where(parts[0], c[0], c[2]), np.where(parts[0], c[1], c[3])  # (the parts are disjoint)
    ok = (parts[0] | parts[1]) & (wt > 1e-3)
    return np.where(ok, num / np.maximum(wt, 1e-3), light).astype(np.float32)


def lip_grain(light: np.ndarray, mask: np.ndarray, parts: list[np.ndarray], width: float
              ) -> tuple[np.ndarray, np.ndarray]:
    """The lips' fine texture in L* ``light`` (``(H, W) float32``, before the stretch over ``mask``):
    ``(fine, grain)``, ``fine`` ``(H, W) float32`` as it is, ``grain`` ``(H, W, 2) float32`` the
    texture to be read at 1:1 (:func:`lip_grain_maps`) times its weight, and that weight.

    The texture is ``light`` minus its smooth layer (:func:`_smooth`, ``_GRAIN_SIGMA`` mouth widths,
    within each lip, ``mask`` left out). In ``grain`` it is kept softly (tanh) within ``_GRAIN_CLIP``
    times its mean |texture| over the lips below, within ``_GRAIN_GLOSS`` times above (a speck of
    gloss is not laid down again in every tile); its weight fades from 1 to 0 over 0.01 mouth widths
    towards ``mask`` (the teeth's soft edge is no lip grain) and towards the lips' outline."""
    sigma = max(0.8, _GRAIN_SIGMA * width)
    fine = light - _smooth(light, parts, ~mask, sigma)
    fine = fine - _smooth(fine, parts, ~mask, max(0.8, _GRAIN_ALONG * width), along=True)
    lips = (parts[0] | parts[1]) & ~mask
    mean = max(float(np.abs(fine[lips]).mean()), 0.2) if lips.any() else 3.0
    cap = np.where(fine > 0, _GRAIN_GLOSS * mean, _GRAIN_CLIP * mean).astype(np.float32)
    reach = max(1.0, 0.01 * width)
    off: np.ndarray = cv2.distanceTransform(lips.astype(np.uint8), cv2.DIST_L2, 3)  # (to the teeth or the outline)
    weight = np.clip(off / reach, 0.0, 1.0)
    kept = cap * np.tanh(fine / cap)
    kept -= float(kept[lips].mean()) if lips.any() else 0.0  # (no highlight kept: the lips' mean L* is)
    grain = np.dstack([kept * weight, weight]).astype(np.float32)
    return (fine * weight).astype(np.float32), grain


def regrain(region: np.ndarray, streaky: np.ndarray, filled: np.ndarray, grain: np.ndarray,
            stretch_rows: np.ndarray, maps: tuple[np.ndarray, ...], parts: list[np.ndarray],
            local: np.ndarray, width: float, colour: np.ndarray | None = None) -> np.ndarray:
    """``region`` (``(H, W, 3) uint8``, the lips already stretched and filled) with the stretched
    copy of their fine texture (``streaky``: :func:`lip_grain`'s ``fine`` read through the stretch,
    ``stretch_rows``) taken out of L* and the lips' own texture (``grain``) laid in at 1:1 through
    ``maps`` (:func:`lip_grain_maps`, whole pixels), by its weight and the tile's ``strength``; two
    tiles cross-faded keep their summed texture's strength. ``filled``: the pixels inpainted after the stretch (smooth, no texture to
    take out). The meeting line's rows (``_GRAIN_LINE`` mouth widths either side, faded over
    ``_GRAIN_LINE_FADE``: the crease's) are left as they are; a* and b* everywhere; unmoved
    pixels are unchanged. ``colour``: ``region``'s L*a*b* before the fill, if at hand (the
    ``filled`` pixels' is taken afresh)."""
    h, w = region.shape[:2]
    x, y, xb, yb, blend, strength = maps
    rows = np.arange(h, dtype=np.float32)[:, None]
    line = outline_y(local[12:17], np.arange(w, dtype=np.float64)).astype(np.float32)
    off = (np.abs(rows - line[None]) / np.float32(width) - _GRAIN_LINE) / _GRAIN_LINE_FADE
    # (a tile is read only where the lip is stretched: moved = stretched)
    keep = np.clip(off, 0.0, 1.0) * strength * ((np.abs(stretch_rows - rows) > 0.01) & (parts[0] | parts[1]))
    if not keep.any():
        return region
    rs, cs = np.flatnonzero(keep.any(1)), np.flatnonzero(keep.any(0))
    box = np.s_[rs[0]:rs[-1] + 1, cs[0]:cs[-1] + 1]  # (only the rows and columns that change)
    keep, blend = keep[box], blend[box]
    both = cv2.remap(grain, np.vstack([x[box], xb[box]]), np.vstack([y[box], yb[box]]), cv2.INTER_NEAREST,
                     borderMode=cv2.BORDER_REPLICATE)
    now, before = both[:keep.shape[0]], both[keep.shape[0]:]
    b = blend[..., None]
    read = now + b * (before - now)
    texture = read[..., 0] / np.sqrt((1.0 - blend) ** 2 + blend ** 2)
    weight = np.clip(read[..., 1], 0.0, 1.0)
    change = keep * (texture - weight * np.where(filled[box], 0.0, streaky[box]))
    at = np.flatnonzero(keep > 0)  # (only the pixels that change go to L*a*b* and back)
    sub = np.ascontiguousarray(region[box]).reshape(-1, 3)
    if colour is None:
        c = lab(sub[at])
    else:
        c = np.ascontiguousarray(colour[box]).reshape(-1, 3)[at]
        fresh = filled[box].ravel()[at]
        if fresh.any():
            c[fresh] = lab(sub[at[fresh]])
    c[:, 0] += change.ravel()[at]
    sub[at] = np.clip(np.rint(lab_to_srgb(c)), 0, 255).astype(np.uint8)
    out = region.copy()
    out[box] = sub.reshape(keep.shape + (3,))
    return out


def _grain_box(plan: tuple[np.ndarray, ...], local: np.ndarray, shape: tuple[int, ...]
               ) -> tuple[tuple[slice, slice], int, int]:
    """The rows and columns the stretched lips' texture works in (:func:`_stretch_plan`'s ``plan``):
    from the upper lip's outline to the lower's, between the inner corners (where lips stretch),
    two pixels more each way; ``(box, top row, left column)``."""
    top, _, bot = plan[:3]
    h, w = shape[:2]
    y0 = int(np.clip(np.floor(top.min()) - 2, 0, h - 1))
    y1 = int(np.clip(np.ceil(bot.max()) + 3, y0 + 1, h))
    x0 = int(np.clip(np.floor(min(local[12, 0], local[16, 0])) - 2, 0, w - 1))
    x1 = int(np.clip(np.ceil(max(local[12, 0], local[16, 0])) + 3, x0 + 1, w))
    return (slice(y0, y1), slice(x0, x1)), y0, x0


def _inpaint(region: np.ndarray, mask: np.ndarray, radius: int) -> np.ndarray:
    """``region`` (``(H, W, 3) uint8``) with its ``mask`` (``(H, W) uint8``, 1 to fill) pixels
    filled by OpenCV's Telea inpainting of that ``radius``. With ``_INPAINT_HALF`` (and a radius of
    at least 6) it is run at half resolution: each 2 x 2 block's mean over its unmasked pixels
    (a block with none is filled), a radius of half as many half-pixels (the same reach), read back
    bilinearly at the masked pixels; the rest keep their bytes. Telea's cost is the masked pixels
    times its (2r + 1)^2 window: about a tenth of it."""
    if not (_INPAINT_HALF and radius >= 6):
        return np.asarray(cv2.inpaint(region, mask * 255, radius, cv2.INPAINT_TELEA))
    h, w = mask.shape
    h2, w2 = (h + 1) // 2, (w + 1) // 2
    known = np.zeros((2 * h2, 2 * w2), np.float32)
    known[:h, :w] = mask == 0
    px = np.zeros((2 * h2, 2 * w2, 3), np.float32)
    px[:h, :w] = region * known[:h, :w, None]
    # (2 x 2 block sums: the means over the known pixels of each block)
    n = known.reshape(h2, 2, w2, 2).sum(axis=(1, 3))
    total = px.reshape(h2, 2, w2, 2, 3).sum(axis=(1, 3))
    small = np.clip(np.rint(total / np.maximum(n, 1.0)[..., None]), 0, 255).astype(np.uint8)
    hole = (n == 0).astype(np.uint8) * 255
    if hole.any():
        small = cv2.inpaint(small, hole, max(3, radius // 2), cv2.INPAINT_TELEA)
    big = cv2.resize(small.astype(np.float32), (2 * w2, 2 * h2), interpolation=cv2.INTER_LINEAR)[:h, :w]
    out = region.copy()
    at = mask > 0
    out[at] = np.clip(np.rint(big[at]), 0, 255).astype(np.uint8)
    return out


def _not_lip(colour: np.ndarray, lip_l: float, lip_a: float) -> np.ndarray:
    """``(H, W) bool``: pixels of ``colour`` (L*a*b*) that are no lip of L* ``lip_l`` and a*
    ``lip_a``: far lighter (teeth), far darker (the cavity), or, on a red lip, far less red
    (teeth in the corners' shadow are about as light as lip but nearly grey)."""
    light = colour[..., 0]
    greyish = colour[..., 1] < _GREY * lip_a if lip_a >= _RED_LIP else np.zeros(light.shape, bool)
    return np.asarray((light > lip_l + _BRIGHTER) | (light < lip_l - _DARKER) | greyish)


def close_mouth(image: np.ndarray, lips: np.ndarray, colours: PersonColours,
                crease: np.ndarray | None = None, relief: np.ndarray | None = None,
                tint: np.ndarray | None = None) -> tuple[int, int, int, int] | None:
    """Paint lip over teeth and cavity inside the outer lips of ``image``, **in place**.

    ``image`` ``(H, W, 3) uint8`` RGB in any frame, already warped to the closed shape;
    ``lips`` ``(20, 2)`` landmarks 48-67 there; ``colours`` the person's own colours (lip
    median measured on the input); ``crease``: a real closed lip line's profile
    (:func:`pixelfes.mouth.crease.crease_profile`, e.g. :meth:`MouthBank.crease_goal`) the meeting
    line is darkened to (:func:`pixelfes.mouth.crease.draw_crease`), else a faint seam
    (``_SEAM``); ``relief``: real closed lips' broad shading (:func:`pixelfes.mouth.relief.relief_map`,
    e.g. :meth:`MouthBank.relief_goal`) the lips' own is brought to first
    (:func:`pixelfes.mouth.relief.draw_relief`), with ``tint`` its a*, b* (e.g. :meth:`MouthBank.tint_goal`).
    Returns the changed box, or ``None``.
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
    lip_l = min(float(colours.lips_lab[0]), float(median(light[inside > 0])) if inside.any() else 1e9)
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
            plan = _stretch_plan(mask > 0, local, width)
            src = lip_stretch_rows(mask > 0, local, width, plan)
            mx = np.broadcast_to(np.arange(src.shape[1], dtype=np.float32)[None], src.shape)
            mx, src = np.ascontiguousarray(mx), np.ascontiguousarray(src)
            if _GRAIN:  # the lips' fine texture, before the stretch, to be read at 1:1
                box, oy, ox = _grain_box(plan, local, src.shape)
                local_b = local - (ox, oy)
                plan_b = tuple(v[box[1]] - (0 if j > 2 else oy) for j, v in enumerate(plan))
                mask_b = mask[box] > 0
                parts = _parts(poly[box], local_b)
                fine, grain = lip_grain(light[box], mask_b, parts, width)
                maps = lip_grain_maps(mask_b, local_b, width, plan_b)
                streaky = cv2.remap(fine, np.ascontiguousarray(mx[box] - ox), np.ascontiguousarray(src[box] - oy),
                                    cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
            region[...] = cv2.remap(np.ascontiguousarray(region), mx, src, cv2.INTER_CUBIC,
                                    borderMode=cv2.BORDER_REPLICATE)
            stretched = lab(region)
            odd = _not_lip(stretched, lip_l, lip_a) & zone
            mask = cv2.dilate(odd.astype(np.uint8), halo) & inside
        filled = _inpaint(np.ascontiguousarray(region), mask, max(3, 2 * grow))
        region[...] = filled
        if grain is not None:  # the stretched lips' own texture at 1:1, not stretched
            region[box] = regrain(region[box], streaky, mask[box] > 0, grain, src[box] - oy, maps, parts, local_b, width,
                                  stretched[box])
    if relief is not None:
        draw_relief(region, local, relief, tint=tint)
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
