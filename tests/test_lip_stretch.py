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
    lo_x, hi_x = np.ceil(lo_x), max(np.floor(hi_x), np.ceil(lo_x))

    def reflect(x):
        span = hi_x - lo_x
        u = (x - lo_x) % (2 * span)
        return lo_x + (u if u <= span else 2 * span - u)

    def outline(pts, x):
        o = np.argsort(pts[:, 0], kind="stable")
        return float(np.interp(x, pts[o, 0], pts[o, 1]))

    mx, my = np.tile(np.arange(w, dtype=float), (h, 1)), np.tile(np.arange(h, dtype=float)[:, None], (1, w))
    maps = [mx.copy(), my.copy(), mx.copy(), my.copy(), np.zeros((h, w)), np.ones((h, w))]
    shift = max(1, round(close_mod._GRAIN_SHIFT * width))
    lips = ((1.0, local[0:7], top, k_up), (-1.0, local[[6, 7, 8, 9, 10, 11, 0]], bot, k_lo))
    for sign, pts, outer, k in lips:
        for x in range(w):
            thick = max(sign * (line[x] - outer[x]), 0.0)
            span = min(max(k[x] * thick, 1.0), thick)
            start = min(close_mod._GRAIN_MARGIN * width, 0.25 * span)
            blend = min(close_mod._GRAIN_BLEND * width, 0.4 * (span - start), thick - span)
            step = max(span - start - blend, 1e-6)
            first = span - blend
            for y in range(h):
                inside = (outer[x] <= y <= line[x]) if sign > 0 else (line[x] < y <= outer[x])
                depth = sign * (y - outer[x])
                if not inside or thick - span <= 1e-3 or depth <= first:
                    continue
                n = 1 + np.floor((depth - first) / step)
                q = depth - (first + (n - 1) * step)
                xn = reflect(x + n * shift)
                maps[0][y, x], maps[1][y, x] = xn, np.rint(outline(pts, xn) + sign * (start + q))
                if n >= 2:
                    xb = reflect(x + (n - 1) * shift)
                    maps[2][y, x], maps[3][y, x] = xb, np.rint(outline(pts, xb) + sign * (start + q + step))
                if q < blend:
                    maps[4][y, x] = 1.0 - q / blend
                maps[5][y, x] = min(max(step / (0.5 * close_mod._GRAIN_MIN_TILE * width) - 1.0, 0.0), 1.0)
    return maps


def test_lip_grain_maps_against_a_per_pixel_loop():
    local = _mouth()
    mask = _teeth_mask(local, (180, 320))
    got = close_mod.lip_grain_maps(mask, local, 240.0)
    want = _reference_grain_maps(mask, local, 240.0)
    for g, r in zip(got, want, strict=True):
        # (float32 against float64: a tile boundary or a rounding may fall either side on a rare pixel)
        assert np.mean(np.abs(g - r) < 1e-2) > 0.998
    assert np.any(want[4] > 0) and np.any(np.abs(want[0] - np.arange(320)[None]) > 1)  # tiles are used
    # short tiles fade out (the lips as if 2.5x wider: their tiles short for such a mouth)
    got = close_mod.lip_grain_maps(mask, local, 600.0)
    want = _reference_grain_maps(mask, local, 600.0)
    for g, r in zip(got, want, strict=True):
        assert np.mean(np.abs(g - r) < 1e-2) > 0.998
    tiled = np.abs(want[0] - np.arange(320)[None]) > 1
    assert np.any(want[5][tiled] < 0.99) and np.any(want[5][tiled] > 0.01)


def _lip_parts(local, shape):
    poly = cv2.fillPoly(np.zeros(shape, np.uint8), [np.rint(local[:12] * 16).astype(np.int32)], 1, shift=4)
    return close_mod._parts(poly, local)


def test_lip_grain_maps_read_own_rows_at_one_to_one():
    local = _mouth()
    mask = _teeth_mask(local, (180, 320))
    x, y, xb, yb, blend, strength = close_mod.lip_grain_maps(mask, local, 240.0)
    # a tile read along the lip may reach another column's teeth (its own lip share is larger):
    # rarely, and there lip_grain's weight is 0, so nothing of a tooth is laid down
    weight = close_mod.lip_grain(np.zeros((180, 320), np.float32), mask, _lip_parts(local, (180, 320)), 240.0)[1][..., 1]
    assert not weight[mask].any()
    for j, (mx_, my_) in enumerate(((x, y), (xb, yb))):
        tiled = (np.abs(mx_ - np.arange(320)[None]) > 1e-3) | (np.abs(my_ - np.arange(180)[:, None]) > 1e-3)
        read = mask[np.clip(np.rint(my_), 0, 179).astype(int), np.clip(np.rint(mx_), 0, 319).astype(int)]
        assert tiled.sum() > (500 if j == 0 else -1) and (not tiled.any() or read[tiled].mean() < 0.05)
        # whole pixels: read as they are, never interpolated
        assert_allclose(mx_, np.rint(mx_), atol=1e-4)
        assert_allclose(my_, np.rint(my_), atol=1e-4)
    # down a column, within a tile, the texture's row moves one row a row: never stretched
    same_tile = np.abs(np.diff(x, axis=0)) < 1e-3
    step = np.abs(np.diff(y, axis=0))
    line = np.interp(np.arange(320), local[12:17, 0], local[12:17, 1])
    rows = np.arange(179)[:, None]
    across = (rows <= line[None]) & (rows + 1 > line[None])  # from one lip to the other
    moved = same_tile & ~across & (np.abs(y[1:] - np.arange(1, 180)[:, None]) > 1e-3)
    assert moved.sum() > 200
    assert np.mean(np.abs(step[moved] - 1.0) < 1e-3) > 0.9
    assert not np.any((step[moved] < 0.99) | ((step[moved] > 1.01) & (step[moved] < 2.0)))
    # no teeth: every map is the pixel itself
    none = close_mod.lip_grain_maps(np.zeros_like(mask), local, 240.0)
    assert_allclose(none[0], np.broadcast_to(np.arange(320.0)[None], mask.shape))
    assert_allclose(none[1], np.broadcast_to(np.arange(180.0)[:, None], mask.shape))
    assert not none[4].any() and np.all(none[5] == 1)


def _reference_smooth(light, parts, use, sigma, along):
    """The plain version of _smooth: each part's normalised box means (zeros past the edges), loops."""
    h, w = light.shape
    if along:
        kx, ky, passes = 2 * int(round(0.5 * np.sqrt(12.0 * sigma ** 2 + 1.0))) + 1, 1, 1
    else:
        kx = ky = max(3, 2 * int(round(0.5 * np.sqrt(6.0 * sigma ** 2 + 1.0))) + 1)
        passes = 2

    def box(a):
        out = np.zeros_like(a)
        for yy in range(h):
            for xx in range(w):
                ys = slice(max(yy - ky // 2, 0), min(yy + ky // 2 + 1, h))
                xs = slice(max(xx - kx // 2, 0), min(xx + kx // 2 + 1, w))
                out[yy, xx] = a[ys, xs].sum() / (kx * ky)
        return out

    out = light.astype(np.float64).copy()
    for part in parts:
        wt = (part & use).astype(np.float64)
        num, den = light * wt, wt
        for _ in range(passes):
            num, den = box(num), box(den)
        ok = part & (den > 1e-3)
        out[ok] = num[ok] / den[ok]
    return out


def test_smooth_within_each_lip_against_plain_box_means():
    rng = np.random.default_rng(3)
    local = _mouth(width=40.0, cx=25.0, cy=16.0)
    parts = _lip_parts(local, (32, 50))
    light = rng.uniform(20, 80, (32, 50)).astype(np.float32)
    use = rng.uniform(size=(32, 50)) > 0.2
    for sigma, along in ((2.5, False), (3.0, True), (1.0, False)):
        got = close_mod._smooth(light, parts, use, sigma, along=along)
        assert_allclose(got, _reference_smooth(light, parts, use, sigma, along), atol=2e-3)
    # within each lip: a step between the lips does not blur across the line
    step = np.where(parts[1], 70.0, 30.0).astype(np.float32)
    sm = close_mod._smooth(step, parts, np.ones_like(use), 3.0)
    assert_allclose(sm[parts[0]], 30.0, atol=1e-3)
    assert_allclose(sm[parts[1]], 70.0, atol=1e-3)


def _grainy_lips(local, shape=(180, 320), bands=0.0, speck=False, seed=0):
    """Lips of vertical creases (noise blurred along y) on a face, teeth in the middle: photo, bare lips."""
    rng = np.random.default_rng(seed)
    img = np.full(shape + (3,), (205, 160, 140), np.float64)
    lips = np.zeros(shape, np.uint8)
    cv2.fillPoly(lips, [np.rint(local[:12]).astype(np.int32)], 1)
    noise = cv2.GaussianBlur(rng.normal(0, 14, shape), (0, 0), 0.8)
    if bands:  # horizontal stripes, 4 rows apart: shading of the outline's kind, not grain
        noise = noise + bands * np.sin(np.arange(shape[0]) * np.pi / 2.0)[:, None]
    img[lips > 0] = np.array([170, 95, 100]) + noise[lips > 0][:, None] * [1.0, 0.7, 0.7]
    if speck:  # gloss specks on the lower lip's own rows, near the outline
        for x in range(110, 220, 18):
            img[int(np.interp(x, local[[6, 7, 8, 9, 10, 11, 0], 0][::-1], local[[6, 7, 8, 9, 10, 11, 0], 1][::-1])) - 5, x] = 250
    bare = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    teeth = _teeth_mask(local, shape) & (lips > 0)
    photo = bare.copy()
    photo[teeth] = (235, 230, 220)
    return photo, bare


def _close(photo, local, grain, monkeypatch, **consts):
    colours = PersonColours(skin=np.array([205, 160, 140], np.uint8), lips=np.array([170, 95, 100], np.uint8))
    monkeypatch.setattr(close_mod, "_GRAIN", grain)
    for name, value in consts.items():
        monkeypatch.setattr(close_mod, name, value)
    out = photo.copy()
    close_mouth(out, local, colours)
    return out


def test_regrain_keeps_grain_where_the_stretch_streaks(monkeypatch):
    """Grainy lips (noise, no creases) closed over teeth: stretched alone they streak; with their
    texture at 1:1 their streak ratio stays near the bare lips'."""
    from pixelfes.evaluate.streaks import streak_ratio

    local = _mouth()
    photo, bare = _grainy_lips(local)
    lm = np.zeros((68, 2))
    lm[48:68] = local
    outs = {on: streak_ratio(_close(photo, local, on, monkeypatch), lm) for on in (False, True)}
    real = streak_ratio(bare, lm)
    assert outs[False] > 1.2 * real  # the stretch alone streaks
    assert abs(np.log(outs[True] / real)) < 0.5 * abs(np.log(outs[False] / real))


def test_regrain_leaves_the_meeting_line_and_the_lips_mean(monkeypatch):
    """The rows within _GRAIN_LINE mouth widths of the line (the crease's) are the stretched lips'
    as they were; the lips' mean L* moves by a small fraction of an L* level."""
    from pixelfes.mouth.colour import lab

    local = _mouth()
    photo, _ = _grainy_lips(local)
    off, on = _close(photo, local, False, monkeypatch), _close(photo, local, True, monkeypatch)
    line = np.interp(np.arange(320), local[12:17, 0], local[12:17, 1])
    d = np.abs(np.arange(180)[:, None] - line[None]) / 240.0
    changed = np.any(off != on, axis=2)
    assert changed.sum() > 1000
    assert not changed[d < close_mod._GRAIN_LINE].any()
    lips = cv2.fillPoly(np.zeros((180, 320), np.uint8), [np.rint(local[:12]).astype(np.int32)], 1) > 0
    assert abs(float(lab(on)[..., 0][lips].mean() - lab(off)[..., 0][lips].mean())) < 0.3


def test_regrain_lays_no_gloss_specks(monkeypatch):
    """Gloss specks on the lower lip's own rows (teeth over most of the lip, so its rows are
    stretched far and tiled): stretched they draw long light dashes; with the texture at 1:1 they
    are not laid down again in the tiles (highlights capped at _GRAIN_GLOSS times the mean)."""
    from pixelfes.mouth.colour import lab

    local = _mouth()
    photo, _ = _grainy_lips(local, seed=0)
    bot = np.interp(np.arange(320), local[[6, 7, 8, 9, 10, 11, 0], 0][::-1], local[[6, 7, 8, 9, 10, 11, 0], 1][::-1])
    line = np.interp(np.arange(320), local[12:17, 0], local[12:17, 1])
    lips = cv2.fillPoly(np.zeros((180, 320), np.uint8), [np.rint(local[:12]).astype(np.int32)], 1) > 0
    for x in range(100, 225, 9):  # specks, 5-10 rows above the lower lip's outline
        photo[int(bot[x]) - 10:int(bot[x]) - 4, x] = 250
    for x in range(95, 230):  # teeth over 15 rows either side of the line
        for y in range(int(line[x]) - 15, int(line[x]) + 16):
            if lips[y, x]:
                photo[y, x] = (235, 230, 220)
    off, on = _close(photo, local, False, monkeypatch), _close(photo, local, True, monkeypatch)
    rows = np.arange(180)[:, None]
    lower = (rows > line[None] + 0.045 * 240) & (rows < bot[None] - 12) & np.any(off != on, axis=2)
    assert lower.sum() > 1000
    light_on, light_off = lab(on)[..., 0], lab(off)[..., 0]
    median = float(np.median(light_off[lower]))
    bright_on, bright_off = (light_on[lower] > median + 8).sum(), (light_off[lower] > median + 8).sum()
    assert bright_off > 50  # the stretch draws dashes
    assert bright_on < 0.5 * bright_off and bright_on < 35


def test_lip_grain_takes_out_shading_along_the_lip():
    """Stripes along the lip (constant along each row: shading, such as the outline's soft edge)
    are no texture to lay in tiles: lip_grain's texture holds almost none of them, while grain of
    the same strength is kept."""
    local = _mouth()
    parts = _lip_parts(local, (180, 320))
    none = np.zeros((180, 320), bool)
    stripes = (50 + 4 * np.sin(np.arange(180) * np.pi / 2.0))[:, None] * np.ones((1, 320))
    grain = close_mod.lip_grain(stripes.astype(np.float32), none, parts, 240.0)[1]
    inner = (parts[0] | parts[1]) & (grain[..., 1] > 0.99)
    inner[:, :110] = inner[:, 210:] = False  # (away from the corners, where a row's mean is short)
    assert inner.sum() > 2000
    assert np.abs(grain[..., 0][inner]).mean() < 0.3
    noise = 50 + 4 * np.random.default_rng(2).standard_normal((180, 320))
    kept = close_mod.lip_grain(noise.astype(np.float32), none, parts, 240.0)[1]
    assert np.abs(kept[..., 0][inner]).mean() > 1.5


def test_lip_grain_against_its_formula():
    """lip_grain's texture, where its weight is 1, against the plain formula: the texture (light
    minus the smooth layer, then minus its mean along the rows), highlights kept within
    _GRAIN_GLOSS times its mean |texture| and shadows within _GRAIN_CLIP times (tanh), re-centred
    over the lips; the weight against scipy's exact distance to the teeth or the outline."""
    from scipy.ndimage import distance_transform_edt

    local = _mouth()
    parts = _lip_parts(local, (180, 320))
    mask = _teeth_mask(local, (180, 320))
    rng = np.random.default_rng(5)
    light = 50 + 3 * rng.standard_normal((180, 320))
    light[rng.uniform(size=light.shape) > 0.995] += 30  # gloss specks
    light = light.astype(np.float32)
    fine_b, grain = close_mod.lip_grain(light, mask, parts, 240.0)
    fine = light - close_mod._smooth(light, parts, ~mask, close_mod._GRAIN_SIGMA * 240.0)
    fine = fine - close_mod._smooth(fine, parts, ~mask, close_mod._GRAIN_ALONG * 240.0, along=True)
    lips = (parts[0] | parts[1]) & ~mask
    mean = np.abs(fine[lips]).mean()
    kept = np.where(fine > 0, close_mod._GRAIN_GLOSS * mean * np.tanh(fine / (close_mod._GRAIN_GLOSS * mean)),
                    close_mod._GRAIN_CLIP * mean * np.tanh(fine / (close_mod._GRAIN_CLIP * mean)))
    kept -= kept[lips].mean()
    weight = np.clip(distance_transform_edt(lips) / (0.01 * 240.0), 0.0, 1.0)
    assert_allclose(grain[..., 1], weight, atol=0.15)
    full = (grain[..., 1] == 1) & (weight == 1)
    assert full.sum() > 5000
    assert_allclose(grain[..., 0][full], kept[full], atol=1e-3)
    assert_allclose(fine_b[full], fine[full], atol=1e-3)
    # a speck's highlight is kept within the cap; the texture's mean over the lips is 0
    assert grain[..., 0][full].max() < 1.5 * close_mod._GRAIN_GLOSS * mean  # (the re-centring lifts it a little)
    assert fine[full].max() > 3 * close_mod._GRAIN_GLOSS * mean
    assert abs(float((grain[..., 0] / np.maximum(grain[..., 1], 1e-6))[full].mean())) < 0.05
