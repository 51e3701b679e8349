"""Closing a smile: each lip's own pixels stretched over the leftover teeth (mouth.close)."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.testing import assert_allclose
from scipy.ndimage import gaussian_filter1d, minimum_filter1d

from pixelfes.mouth import PersonColours, close_mouth
from pixelfes.mouth import close as close_mod
from pixelfes.mouth.close import lip_stretch_rows


def _mouth(width=240.0, cx=160.0, cy=90.0):
    """Lips 48-67: an ellipse outline, inner lips meeting on a slightly bent line."""
    t = np.linspace(0, 2 * np.pi, 13)[:-1]
    outer = np.stack([cx - 0.5 * width * np.cos(t), cy - 0.18 * width * np.sin(t)], 1)
    xs = cx + np.array([-0.45, -0.2, 0.0, 0.2, 0.45]) * width
    upper = np.stack([xs, cy + np.array([0.0, 2.0, 3.0, 1.5, 0.0])], 1)
    inner = np.concatenate([upper, upper[[3, 2, 1]]])
    return np.concatenate([outer, inner])


def _reference_rows(mask, local, width):
    """The plain version: a Python loop over columns, scipy's filters for the smoothing."""
    h, w = mask.shape

    def interp(x, pts):
        o = np.argsort(pts[:, 0], kind="stable")
        return float(np.interp(x, pts[o, 0], pts[o, 1]))

    lo_x, hi_x = sorted((local[12, 0], local[16, 0]))
    k_up, k_lo = np.ones(w), np.ones(w)
    tops, lines, bots = np.zeros(w), np.zeros(w), np.zeros(w)
    for x in range(w):
        top, line = interp(x, local[0:7]), interp(x, local[12:17])
        bot = interp(x, local[[6, 7, 8, 9, 10, 11, 0]])
        tops[x], lines[x], bots[x] = top, line, bot
        if not lo_x < x < hi_x:
            continue
        ups = [y for y in range(h) if mask[y, x] and top <= y <= line]
        los = [y for y in range(h) if mask[y, x] and line < y <= bot]
        if ups and line > top:
            k_up[x] = (min(ups) - 1 - top) / (line - top)
        if los and bot > line:
            k_lo[x] = (bot - max(los) - 1) / (bot - line)
    reach = max(1, int(round(0.02 * width)))
    ks = []
    for k in (k_up, k_lo):
        k = np.clip(k, close_mod._STRETCH_KEEP, 1.0)
        k = minimum_filter1d(k, 2 * reach + 1, mode="nearest")
        ks.append(gaussian_filter1d(k, reach, mode="nearest", truncate=4.0))
    src = np.zeros((h, w))
    for x in range(w):
        for y in range(h):
            if tops[x] <= y <= lines[x]:
                src[y, x] = tops[x] + (y - tops[x]) * ks[0][x]
            elif lines[x] < y <= bots[x]:
                src[y, x] = bots[x] - (bots[x] - y) * ks[1][x]
            else:
                src[y, x] = y
    return src


def _teeth_mask(local, shape):
    mask = np.zeros(shape, bool)
    xs = np.arange(shape[1])
    line = np.interp(xs, local[12:17, 0], local[12:17, 1])
    for x in range(95, 230):  # a band of teeth along the line, thicker on the left
        half = 6 if x < 160 else 3
        mask[int(line[x]) - half:int(line[x]) + half + 1, x] = True
    return mask


def test_lip_stretch_rows_against_a_per_column_loop():
    local = _mouth()
    mask = _teeth_mask(local, (180, 320))
    got = lip_stretch_rows(mask, local, 240.0)
    assert_allclose(got, _reference_rows(mask, local, 240.0), atol=1e-3)
    # the upper lip's row at the line reads from above the teeth, the lower lip's from below
    x = 120
    line = np.interp(x, local[12:17, 0], local[12:17, 1])
    y = int(np.floor(line))
    assert got[y, x] < np.flatnonzero(mask[:, x]).min()
    assert got[y + 1, x] > np.flatnonzero(mask[:, x]).max() - 1
    # nothing masked: every row maps to itself
    assert_allclose(lip_stretch_rows(np.zeros_like(mask), local, 240.0),
                    np.broadcast_to(np.arange(180.0)[:, None], (180, 320)), atol=0)


def test_lip_stretch_keeps_at_least_the_share_of_each_lip():
    local = _mouth()
    mask = np.zeros((180, 320), bool)
    mask[60:120, 120:200] = True  # teeth filling the whole lip in these columns
    got = lip_stretch_rows(mask, local, 240.0)
    x = 160
    top = np.interp(x, local[0:7, 0], local[0:7, 1])
    line = np.interp(x, local[12:17, 0], local[12:17, 1])
    y = int(np.floor(line))
    assert_allclose(got[y, x], top + (y - top) * close_mod._STRETCH_KEEP, atol=1e-3)


def _textured_photo(local, with_teeth=True):
    """Skin, lips with vertical creases (a texture), a band of bright teeth along the line."""
    img = np.full((180, 320, 3), (205, 160, 140), np.uint8)
    cv2.fillPoly(img, [np.rint(local[:12]).astype(np.int32)], (170, 95, 100))
    lips = np.zeros((180, 320), np.uint8)
    cv2.fillPoly(lips, [np.rint(local[:12]).astype(np.int32)], 1)
    crease = (np.arange(320) % 5 == 0)[None] & (lips > 0)
    img[crease] = (140, 72, 80)
    teeth = _teeth_mask(local, (180, 320)) & (lips > 0)
    if with_teeth:
        img[teeth] = (235, 230, 220)
    return img, teeth


def _band_energy(img, local):
    """Mean |L* minus its 1 px blur| within 8 px of the meeting line, over the lips' columns."""
    from pixelfes.mouth.colour import lab

    L = lab(img)[..., 0].astype(np.float32)
    hp = np.abs(L - cv2.GaussianBlur(L, (0, 0), 1.0))
    band = np.zeros(L.shape, np.uint8)
    cv2.polylines(band, [np.rint(local[12:17]).astype(np.int32)], False, 1, 9)
    band[:, :100] = band[:, 225:] = 0
    return float(hp[band > 0].mean())


def test_closing_keeps_the_lips_texture_where_teeth_were(monkeypatch):
    local = _mouth()
    img, teeth = _textured_photo(local)
    colours = PersonColours(skin=np.array([205, 160, 140], np.uint8), lips=np.array([170, 95, 100], np.uint8))
    out = img.copy()
    close_mouth(out, local, colours)
    monkeypatch.setattr(close_mod, "_STRETCH_KEEP", 1.0)  # inpainting alone, as before
    old = img.copy()
    close_mouth(old, local, colours)
    # no tooth left in either
    from pixelfes.mouth.colour import lab

    assert lab(out[teeth])[..., 0].max() < lab(np.array([235, 230, 220], np.uint8))[0] - 10
    # the creases carry on across the line: far more texture there than inpainting leaves
    assert _band_energy(out, local) > 2.0 * _band_energy(old, local)
    # ... and about as much as the same lips had with no teeth at all (the creases only stretched)
    bare = _textured_photo(local, with_teeth=False)[0]
    assert _band_energy(out, local) > 0.6 * _band_energy(bare, local)


def _reference_grain_maps(mask, local, width):
    """The plain version of lip_grain_maps: a loop over each lip's pixels, Python floats."""
    h, w = mask.shape
    top, line, bot, k_up, k_lo = close_mod._stretch_plan(mask, local, width)
    lo_x, hi_x = sorted((local[12, 0], local[16, 0]))

    def reflect(x):
        span = hi_x - lo_x
        u = (x - lo_x) % (2 * span)
        return lo_x + (u if u <= span else 2 * span - u)

    def outline(pts, x):
        o = np.argsort(pts[:, 0], kind="stable")
        return float(np.interp(x, pts[o, 0], pts[o, 1]))

    mx, my = np.tile(np.arange(w, dtype=float), (h, 1)), np.tile(np.arange(h, dtype=float)[:, None], (1, w))
    maps = [mx.copy(), my.copy(), mx.copy(), my.copy(), np.zeros((h, w))]
    shift = close_mod._GRAIN_SHIFT * width
    lips = ((1.0, local[0:7], top, k_up), (-1.0, local[[6, 7, 8, 9, 10, 11, 0]], bot, k_lo))
    for sign, pts, outer, k in lips:
        for x in range(w):
            thick = max(sign * (line[x] - outer[x]), 0.0)
            span = min(max(k[x] * thick, 1.0), thick)
            margin = min(close_mod._GRAIN_MARGIN * width, 0.25 * span)
            end = span - min(margin, thick - span)
            blend = min(close_mod._GRAIN_BLEND * width, 0.4 * (end - margin), thick - end)
            step = max(end - margin - blend, 1e-6)
            first = end - blend
            for y in range(h):
                inside = (outer[x] <= y <= line[x]) if sign > 0 else (line[x] < y <= outer[x])
                depth = max(sign * (y - outer[x]), 0.0)
                if not inside or thick - end <= 1e-3 or depth <= first:
                    continue
                n = 1 + np.floor((depth - first) / step)
                q = depth - (first + (n - 1) * step)
                xn = reflect(x + n * shift)
                maps[0][y, x], maps[1][y, x] = xn, outline(pts, xn) + sign * (margin + q)
                if n >= 2:
                    xb = reflect(x + (n - 1) * shift)
                    maps[2][y, x], maps[3][y, x] = xb, outline(pts, xb) + sign * (margin + q + step)
                if q < blend:
                    maps[4][y, x] = 1.0 - q / blend
    return maps


def test_lip_grain_maps_against_a_per_pixel_loop():
    local = _mouth()
    mask = _teeth_mask(local, (180, 320))
    got = close_mod.lip_grain_maps(mask, local, 240.0)
    want = _reference_grain_maps(mask, local, 240.0)
    for g, r in zip(got, want, strict=True):
        # (float32 against float64: a tile boundary may fall a rounding either side on a rare pixel)
        assert np.mean(np.abs(g - r) < 1e-2) > 0.998
    assert np.any(want[4] > 0) and np.any(np.abs(want[0] - np.arange(320)[None]) > 1)  # tiles are used


def test_lip_grain_maps_read_own_rows_at_one_to_one():
    local = _mouth()
    mask = _teeth_mask(local, (180, 320))
    x, y, xb, yb, blend = close_mod.lip_grain_maps(mask, local, 240.0)
    # a tile read along the lip may reach another column's teeth (its own lip share is larger):
    # rarely, and there lip_grain's weight is 0, so nothing of a tooth is laid down
    lip_part = close_mod._parts(cv2.fillPoly(np.zeros((180, 320), np.uint8), [np.rint(local[:12] * 16).astype(np.int32)], 1,
                                             shift=4), local)
    weight = close_mod.lip_grain(np.zeros((180, 320, 3), np.uint8), mask, lip_part, 240.0)[..., 3]
    assert not weight[mask].any()
    for j, (mx_, my_) in enumerate(((x, y), (xb, yb))):
        tiled = (np.abs(mx_ - np.arange(320)[None]) > 1e-3) | (np.abs(my_ - np.arange(180)[:, None]) > 1e-3)
        read = mask[np.clip(np.rint(my_), 0, 179).astype(int), np.clip(np.rint(mx_), 0, 319).astype(int)]
        assert tiled.sum() > (500 if j == 0 else -1) and (not tiled.any() or read[tiled].mean() < 0.05)
    # down a column, within a tile, the texture's row moves one row a row: never stretched (a
    # step well away from 1 only where the tile or the lip changes: a jump of rows, never a fraction)
    same_tile = np.abs(np.diff(x, axis=0)) < 1e-3
    step = np.abs(np.diff(y, axis=0))
    line = np.interp(np.arange(320), local[12:17, 0], local[12:17, 1])
    rows = np.arange(179)[:, None]
    across = (rows <= line[None]) & (rows + 1 > line[None])  # from one lip to the other
    moved = same_tile & ~across & (np.abs(y[1:] - np.arange(1, 180)[:, None]) > 1e-3)
    assert moved.sum() > 200
    assert np.mean(np.abs(step[moved] - 1.0) < 1e-3) > 0.9
    assert not np.any((step[moved] < 0.99) | ((step[moved] > 1.01) & (step[moved] < 3.0)))
    # no teeth: every map is the pixel itself
    none = close_mod.lip_grain_maps(np.zeros_like(mask), local, 240.0)
    assert_allclose(none[0], np.broadcast_to(np.arange(320.0)[None], mask.shape))
    assert_allclose(none[1], np.broadcast_to(np.arange(180.0)[:, None], mask.shape))
    assert not none[4].any()


def test_regrain_keeps_grain_where_the_stretch_streaks(monkeypatch):
    """Grainy lips (noise, no creases) closed over teeth: stretched alone they streak; with their
    texture at 1:1 their streak ratio stays near the bare lips'."""
    from pixelfes.evaluate.streaks import streak_ratio

    local = _mouth()
    rng = np.random.default_rng(0)
    img = np.full((180, 320, 3), (205, 160, 140), np.float64)
    lips = np.zeros((180, 320), np.uint8)
    cv2.fillPoly(lips, [np.rint(local[:12]).astype(np.int32)], 1)
    noise = cv2.GaussianBlur(rng.normal(0, 14, (180, 320)), (0, 0), 0.8)
    img[lips > 0] = np.array([170, 95, 100]) + noise[lips > 0][:, None] * [1.0, 0.7, 0.7]
    bare = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    teeth = _teeth_mask(local, (180, 320)) & (lips > 0)
    photo = bare.copy()
    photo[teeth] = (235, 230, 220)
    colours = PersonColours(skin=np.array([205, 160, 140], np.uint8), lips=np.array([170, 95, 100], np.uint8))
    lm = np.zeros((68, 2))
    lm[48:68] = local
    outs = {}
    for on in (False, True):
        monkeypatch.setattr(close_mod, "_GRAIN", on)
        out = photo.copy()
        close_mouth(out, local, colours)
        outs[on] = streak_ratio(out, lm)
    real = streak_ratio(bare, lm)
    assert outs[False] > 1.2 * real  # the stretch alone streaks
    assert abs(np.log(outs[True] / real)) < 0.5 * abs(np.log(outs[False] / real))
