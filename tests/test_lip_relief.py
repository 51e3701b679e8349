"""The closed lips' relief (pixelfes.mouth.relief): the lip frame, the map and its relative
application, against plain formulas; the bank's goal and its held-out exclusion."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

import pixelfes.mouth.relief as relief_mod
from conftest import people_bank
from pixelfes.mouth import person_colours
from pixelfes.mouth.colour import lab
from pixelfes.mouth.relief import (
    GRID,
    TINT_GRID,
    broad,
    draw_relief,
    lip_uv,
    relief_layer,
    relief_map,
    tint_map,
)


def _lips(tilt: float = 0.0) -> np.ndarray:
    """68 landmarks with closed lips from x 20 to 140 meeting near y 60, rotated by ``tilt`` rad."""
    lm = np.zeros((68, 2))
    top = [(20, 60), (40, 47), (62, 42), (80, 45), (98, 42), (120, 47), (140, 60)]
    bottom = [(120, 75), (100, 82), (80, 84), (60, 82), (40, 75)]
    lm[48:60] = top + bottom
    lm[60:68] = [(27, 60), (52, 59), (80, 61), (108, 59), (133, 60), (108, 60), (80, 62), (52, 60)]
    c = np.array([80.0, 60.0])
    rot = np.array([[math.cos(tilt), -math.sin(tilt)], [math.sin(tilt), math.cos(tilt)]])
    lm[48:68] = (lm[48:68] - c) @ rot.T + c
    return lm


def _reference_uv(x: float, y: float, lips: np.ndarray) -> tuple[float, float, int]:
    """One pixel, by hand: into the mouth frame (corners at -0.5, 0.5), then the lip's lines by np.interp."""
    a, b = lips[0], lips[6]
    d = b - a
    l2 = float(d @ d)
    mid = (a + b) / 2

    def frame(p: np.ndarray) -> tuple[float, float]:
        q = p - mid
        return (q[0] * d[0] + q[1] * d[1]) / l2, (-q[0] * d[1] + q[1] * d[0]) / l2

    f = np.array([frame(p) for p in lips])
    xf, yf = frame(np.array([x, y]))

    def line(idx: list[int]) -> float:
        pts = f[idx]
        o = np.argsort(pts[:, 0], kind="stable")
        return float(np.interp(xf, pts[o, 0], pts[o, 1]))

    uo, ui = line([0, 1, 2, 3, 4, 5, 6]), line([0, 12, 13, 14, 15, 16, 6])
    lo, li = line([6, 7, 8, 9, 10, 11, 0]), line([0, 12, 19, 18, 17, 16, 6])
    u = xf + 0.5
    if 0 <= u <= 1 and ui - uo > 1e-9 and 0 <= (yf - uo) / (ui - uo) <= 1:
        return u, (yf - uo) / (ui - uo), 0
    if 0 <= u <= 1 and lo - li > 1e-9 and 0 <= (lo - yf) / (lo - li) <= 1:
        return u, (lo - yf) / (lo - li), 1
    return u, 0.0, -1


def _bilinear(g: np.ndarray, gx: float, gy: float) -> float:
    """``g`` at fractional cell (gx, gy), held at the edges, by hand."""
    gx = min(max(gx, 0.0), g.shape[1] - 1)
    gy = min(max(gy, 0.0), g.shape[0] - 1)
    x0, y0 = int(math.floor(gx)), int(math.floor(gy))
    x1, y1 = min(x0 + 1, g.shape[1] - 1), min(y0 + 1, g.shape[0] - 1)
    fx, fy = gx - x0, gy - y0
    return float((g[y0, x0] * (1 - fx) + g[y0, x1] * fx) * (1 - fy) + (g[y1, x0] * (1 - fx) + g[y1, x1] * fx) * fy)


def _goal(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(-0.3, 0.3, size=(2,) + GRID)


@pytest.mark.parametrize("tilt", [0.0, 0.12])
def test_lip_frame_and_layer_match_a_plain_per_pixel_reference(tilt: float) -> None:
    lips = _lips(tilt)[48:68]
    goal = _goal(1)
    shape = (110, 160)
    u, v, which = lip_uv(shape, lips)
    rel, weight = relief_layer(shape, lips, goal)
    nv, nu = GRID
    rng = np.random.default_rng(2)
    inside = np.argwhere(which >= 0)
    assert len(inside) > 2000
    picks = np.vstack([inside[rng.choice(len(inside), 300, replace=False)],
                       rng.integers(0, (110, 160), size=(100, 2))])
    for r, c in picks:
        ru, rv, rw = _reference_uv(float(c), float(r), lips)
        if min(abs(rv), abs(1 - rv), abs(v[r, c]), abs(1 - v[r, c])) < 1e-9:
            continue  # (exactly on a lip's line: either side, by rounding)
        assert which[r, c] == rw
        if rw < 0:
            assert weight[r, c] == 0
            continue
        assert u[r, c] == pytest.approx(ru, abs=1e-9) and v[r, c] == pytest.approx(rv, abs=1e-9)
        want = _bilinear(goal[rw], ru * nu - 0.5, rv * nv - 0.5)
        assert rel[r, c] == pytest.approx(want, abs=1e-3)
        t = min(max(rv / 0.25, 0), 1) * min(max((1 - rv) / 0.3, 0), 1) * min(max(min(ru, 1 - ru) / 0.12, 0), 1)
        assert weight[r, c] == pytest.approx(t * t * (3 - 2 * t), abs=1e-5)


def _skin_and_lips(lm: np.ndarray, shape: tuple[int, int] = (110, 160)) -> tuple[np.ndarray, np.ndarray]:
    """A float L*a*b* canvas of even skin and the lips' mask (outer outline 48-59)."""
    c = np.zeros(shape + (3,), np.float32)
    c[..., 0], c[..., 1], c[..., 2] = 70.0, 12.0, 16.0
    poly = np.zeros(shape, np.uint8)
    cv2.fillPoly(poly, [np.rint(lm[48:60] * 16).astype(np.int32)], 1, shift=4)
    return c, poly > 0


def _lab_to_rgb8(c: np.ndarray) -> np.ndarray:
    """A float L*a*b* canvas as 8-bit RGB (OpenCV's conversion, rounded)."""
    rgb = cv2.cvtColor(c.reshape(1, -1, 3), cv2.COLOR_LAB2RGB).reshape(c.shape)
    return np.clip(np.rint(rgb * 255), 0, 255).astype(np.uint8)


def _lip_image(lm: np.ndarray, lip_l: float, rel: np.ndarray | None = None) -> np.ndarray:
    """Skin with lips of L* ``lip_l`` (times ``1 + rel`` at each pixel's lip-frame cell, if given)."""
    c, at = _skin_and_lips(lm)
    light = np.full(at.shape, lip_l, np.float32)
    if rel is not None:
        r, _ = relief_layer(at.shape, lm[48:68], rel)
        light = lip_l * (1.0 + r)
    c[at, 0] = light[at]
    c[at, 1], c[at, 2] = 25.0, 10.0
    return _lab_to_rgb8(c)


def _smooth_goal() -> np.ndarray:
    """A relief a low-pass keeps: a darker upper lip, a lighter lower-lip centre, two broad creases."""
    nv, nu = GRID
    u = (np.arange(nu) + 0.5) / nu
    v = (np.arange(nv) + 0.5) / nv
    upper = -0.15 + 0.0 * v[:, None] + 0.05 * np.cos(2 * np.pi * 3 * u)[None]
    lower = 0.2 * np.exp(-0.5 * ((u[None] - 0.5) / 0.15) ** 2) * np.sin(np.pi * v[:, None]) ** 2
    return np.stack([upper, lower])


def test_relief_map_reads_back_a_planted_relief() -> None:
    lm = _lips()
    goal = _smooth_goal()
    got = relief_map(_lip_image(lm, 50.0, goal), lm)
    # (a few cells at the corners, where a lip is thinner than the outline's margin, are nan)
    assert got.shape == (2,) + GRID and np.isfinite(got).mean() > 0.9 and np.isfinite(got[:, :, 20:108]).all()
    core = np.s_[3:9, 20:108]  # (away from the outline and corners: the low-pass's own edge)
    # relative to the lips' median, which the planted relief moves a little: compare the shapes
    for j in (0, 1):
        a, b = got[j][core], goal[j][core]
        assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.9
    assert float(got[0][core].mean()) < -0.05 < 0.05 < float(got[1][4:8, 52:76].mean())
    # soft-limited: a blown-out lower lip is capped at _LIGHT_CAP
    blown = relief_map(_lip_image(lm, 40.0, np.stack([goal[0], goal[1] * 0 + 1.0])), lm)
    assert float(np.nanmax(blown[1])) <= relief_mod._LIGHT_CAP + 1e-6


@pytest.mark.parametrize("lip_l", [50.0, 25.0])
def test_draw_relief_is_relative_to_the_own_lip_lightness(lip_l: float, monkeypatch) -> None:
    lm = _lips()
    img = _lip_image(lm, lip_l)
    before = lab(img)
    goal = _goal(4) * 0.5
    out = img.copy()
    draw_relief(out, lm[48:68], goal)
    after = lab(out)
    rel, weight = relief_layer(img.shape, lm[48:68], goal)
    # plain formula: even lips have no own shading beyond their median (own - med = 0 inside, up to
    # the uint8 rounding), so L* moves by weight * med * rel; a*, b* stay
    at = weight > 0.5
    assert at.sum() > 1500
    med = float(np.median(before[at, 0]))
    np.testing.assert_allclose(after[at, 0] - before[at, 0], (weight * med * rel)[at], atol=0.8)
    assert np.abs(after[at, 1:] - before[at, 1:]).max() < 1.6
    # pixels with no weight (skin, the outline, the meeting line) are untouched, byte for byte
    assert np.array_equal(out[weight == 0], img[weight == 0])


def test_draw_relief_replaces_the_own_broad_shading_and_keeps_the_fine_texture() -> None:
    lm = _lips()
    rng = np.random.default_rng(5)
    shaded = _lip_image(lm, 45.0, _smooth_goal() * -1.0)  # broad shading opposite to the goal
    c = lab(shaded)
    poly = np.zeros(shaded.shape[:2], np.uint8)
    cv2.fillPoly(poly, [np.rint(lm[48:60] * 16).astype(np.int32)], 1, shift=4)
    grain = (rng.standard_normal(shaded.shape[:2]) * 1.5).astype(np.float32)
    c[..., 0] += np.where(poly > 0, grain, 0)
    img = np.clip(np.rint(cv2.cvtColor(c.reshape(1, -1, 3), cv2.COLOR_LAB2RGB).reshape(c.shape) * 255),
                  0, 255).astype(np.uint8)
    out = img.copy()
    draw_relief(out, lm[48:68], _smooth_goal())
    got = relief_map(out, lm)
    core = np.s_[4:8, 28:100]
    want = _smooth_goal()
    for j in (0, 1):  # the measured relief is now the goal's, not its opposite
        assert np.corrcoef(got[j][core].ravel(), want[j][core].ravel())[0, 1] > 0.8
    # the fine texture is kept: the high-pass of L* before and after agree
    w = relief_layer(img.shape, lm[48:68], want)[1] > 0.9
    hp = [x - cv2.GaussianBlur(x, (0, 0), 1.0) for x in (lab(img)[..., 0], lab(out)[..., 0])]
    assert np.corrcoef(hp[0][w], hp[1][w])[0, 1] > 0.9


def test_bank_goal_is_the_nearest_ones_creases_on_the_near_peoples_broad_shading(monkeypatch) -> None:
    import pixelfes.mouth.bank as bank_mod

    monkeypatch.setattr(bank_mod, "_CREASE_LIPS", (0, 1))  # (v1's: both lips given the creases)
    rng = np.random.default_rng(6)
    n = 25
    lips = rng.integers(40, 220, size=(n, 3)).astype(np.uint8)
    maps = rng.uniform(-0.3, 0.3, size=(n, 2) + GRID).astype(np.float32)
    maps[7] = np.nan  # not measured: never chosen
    bank = people_bank(lips, neutral_relief=maps)
    face = person_colours(np.full((40, 40, 3), (150, 90, 85), np.uint8), _lips() * 0.2)
    face_l = float(lab(face.lips)[0])
    dist = sorted((abs(float(lab(lips[i])[0]) - face_l), i) for i in range(n) if i != 7)
    near = [i for _, i in dist[:10]]
    m = maps.astype(np.float64)
    # plain reference: the broad part (a Gaussian of (8, 2) cells, edges replicated) by hand
    def blur(g: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(g.astype(np.float32), (0, 0), 8.0, sigmaY=2.0, borderType=cv2.BORDER_REPLICATE)
    want = np.mean([[blur(m[i, j]) for j in (0, 1)] for i in near], axis=0) \
        + m[near[0]] - np.array([blur(m[near[0], j]) for j in (0, 1)])
    np.testing.assert_allclose(bank.relief_goal(face), want, atol=1e-5)
    np.testing.assert_allclose(broad(m[near[0]]), [blur(m[near[0], j]) for j in (0, 1)], atol=1e-6)
    # held out: the nearest person excluded, the next one's creases
    ex = bank.relief_goal(face, exclude=f"{near[0]:03d}")
    near2 = [i for _, i in dist if i != near[0]][:10]
    want2 = np.mean([[blur(m[i, j]) for j in (0, 1)] for i in near2], axis=0) \
        + m[near2[0]] - np.array([blur(m[near2[0], j]) for j in (0, 1)])
    np.testing.assert_allclose(ex, want2, atol=1e-5)
    monkeypatch.setattr(bank_mod, "_RELIEF_NEAR", 1)
    np.testing.assert_allclose(bank.relief_goal(face), m[near[0]], atol=1e-5)
    old = people_bank(lips, neutral_relief=maps[:0])  # saved before the relief: none
    assert old.relief_goal(face) is None
    # today's: no creases (the broad shading only); the lower lip's alone when asked
    monkeypatch.setattr(bank_mod, "_RELIEF_NEAR", 10)
    soft = np.mean([[blur(m[i, j]) for j in (0, 1)] for i in near], axis=0)
    monkeypatch.setattr(bank_mod, "_CREASE_LIPS", ())
    np.testing.assert_allclose(bank.relief_goal(face), soft, atol=1e-5)
    monkeypatch.setattr(bank_mod, "_CREASE_LIPS", (1,))
    got = bank.relief_goal(face)
    np.testing.assert_allclose(got[0], soft[0], atol=1e-5)
    np.testing.assert_allclose(got[1], soft[1] + m[near[0], 1] - blur(m[near[0], 1]), atol=1e-5)


def test_bank_tint_goal_is_the_mean_of_the_same_nearest_people() -> None:
    rng = np.random.default_rng(9)
    n = 25
    lips = rng.integers(40, 220, size=(n, 3)).astype(np.uint8)
    maps = rng.uniform(-0.3, 0.3, size=(n, 2) + GRID).astype(np.float32)
    tints = rng.uniform(-6, 6, size=(n, 2, 2) + TINT_GRID).astype(np.float32)
    tints[3] = np.nan  # not measured: never chosen
    bank = people_bank(lips, neutral_relief=maps, neutral_lip_tint=tints)
    face = person_colours(np.full((40, 40, 3), (150, 90, 85), np.uint8), _lips() * 0.2)
    face_l = float(lab(face.lips)[0])
    dist = sorted((abs(float(lab(lips[i])[0]) - face_l), i) for i in range(n) if i != 3)
    near = [i for _, i in dist[:10]]
    np.testing.assert_allclose(bank.tint_goal(face), tints[near].astype(np.float64).mean(axis=0), atol=1e-5)
    near2 = [i for _, i in dist if i != near[0]][:10]
    np.testing.assert_allclose(bank.tint_goal(face, exclude=f"{near[0]:03d}"),
                               tints[near2].astype(np.float64).mean(axis=0), atol=1e-5)
    assert people_bank(lips, neutral_relief=maps).tint_goal(face) is None  # saved before the tint: none


def test_pack_round_trips_to_its_step_and_keeps_nan() -> None:
    from pixelfes.mouth.relief import pack, unpack

    a = np.array([-0.4, -0.1234, 0.0, 0.2999, 0.6, 0.9, -2.0, np.nan])
    back = unpack(pack(a))
    step = 1.0 / 254
    np.testing.assert_allclose(back[:5], a[:5], atol=step / 2 + 1e-7)
    assert back[5] == pytest.approx(0.6) and back[6] == pytest.approx(-0.4) and np.isnan(back[7])
    t = np.array([-16.0, -3.21, 0.0, 5.5, 16.0, 30.0, np.nan])
    tb = relief_mod.unpack_tint(relief_mod.pack_tint(t))
    np.testing.assert_allclose(tb[:5], t[:5], atol=32.0 / 254 / 2 + 1e-6)
    assert tb[5] == pytest.approx(16.0) and np.isnan(tb[6])


def test_the_bundled_bank_carries_every_relief_map() -> None:
    from pixelfes.mouth import load_bank

    bank = load_bank()
    assert bank.neutral_relief.shape == (82, 2) + GRID
    # (a few cells at the corners, where a lip is thinner than the outline's margin, are nan)
    finite = np.isfinite(bank.neutral_relief).reshape(82, -1).mean(axis=1)
    assert finite.mean() > 0.93 and finite.min() > 0.85
    # real closed lips: the upper lip darker than the lips' median, the lower lip's centre lighter
    m = bank.neutral_relief.astype(np.float64)
    assert float(np.nanmedian(m[:, 0, 3:9, 32:96])) < -0.05
    assert float(np.nanmedian(m[:, 1, 3:9, 48:80])) > 0.05
    # and in colour: the lower lip's centre redder than the lips' median, the upper lip less red
    t = bank.neutral_lip_tint.astype(np.float64)
    assert t.shape == (82, 2, 2) + TINT_GRID and np.isfinite(t).all()
    assert float(np.median(t[:, 0, 1, 3:9, 6:10])) > 1.0 and float(np.median(t[:, 0, 0, 3:9, 4:12])) < 0.0


@pytest.mark.parametrize("target", ["neutral-to-happy", "happy-to-neutral"])
def test_relief_changes_only_a_closing_smile(target: str) -> None:
    """neutral -> happy: the same bytes with the relief on; happy -> neutral: on is the default."""
    pytest.importorskip("skimage.data")
    from conftest import switch_outputs

    outs, _, lm = switch_outputs(target, "relief")
    assert np.array_equal(outs[None], outs[True])
    if target == "neutral-to-happy":
        assert np.array_equal(outs[True], outs[False])
    else:  # the astronaut smiles with her teeth: the closing lips are given the relief
        changed = (outs[True] != outs[False]).any(-1)
        assert 100 < changed.sum() < 20000  # (a 50 px mouth: 237 pixels today)
        ys, xs = np.nonzero(changed)
        assert lm[48:60, 1].min() - 10 < ys.min() and ys.max() < lm[48:60, 1].max() + 10


def _smooth_tint() -> np.ndarray:
    """``(2, 2, V, U)`` a*, b* a low-pass keeps: the upper lip less red, the lower lip's centre redder and warmer."""
    nv, nu = TINT_GRID
    u = (np.arange(nu) + 0.5) / nu
    v = (np.arange(nv) + 0.5) / nv
    bump = np.exp(-0.5 * ((u[None] - 0.5) / 0.2) ** 2) * np.sin(np.pi * v[:, None]) ** 2
    a = np.stack([np.full((nv, nu), -1.5) + 1.0 * np.cos(2 * np.pi * u)[None], -0.5 + 6.0 * bump])
    b = np.stack([np.full((nv, nu), 1.5), -1.0 + 6.0 * bump])
    return np.stack([a, b])


def _tinted_image(lm: np.ndarray, tint: np.ndarray, lip_l: float = 45.0) -> np.ndarray:
    """Skin with even lips of L* ``lip_l``, a* 25 + tint[0], b* 10 + tint[1] at each pixel's lip-frame cell."""
    shape = (110, 160)
    c = np.zeros(shape + (3,), np.float32)
    c[..., 0], c[..., 1], c[..., 2] = 70.0, 12.0, 16.0
    poly = np.zeros(shape, np.uint8)
    cv2.fillPoly(poly, [np.rint(lm[48:60] * 16).astype(np.int32)], 1, shift=4)
    ta, _ = relief_layer(shape, lm[48:68], tint[0])
    tb, _ = relief_layer(shape, lm[48:68], tint[1])
    at = poly > 0
    c[at, 0], c[at, 1], c[at, 2] = lip_l, 25.0 + ta[at], 10.0 + tb[at]
    rgb = cv2.cvtColor(c.reshape(1, -1, 3), cv2.COLOR_LAB2RGB).reshape(c.shape)
    return np.clip(np.rint(rgb * 255), 0, 255).astype(np.uint8)


def test_tint_map_reads_back_a_planted_tint() -> None:
    lm = _lips()
    want = _smooth_tint()
    got = tint_map(_tinted_image(lm, want), lm)
    assert got.shape == (2, 2) + TINT_GRID and np.isfinite(got).all()
    core = np.s_[3:9, 3:13]
    for ch in (0, 1):
        for j in (0, 1):
            if np.ptp(want[ch, j][core]) > 0:  # (b*'s upper lip is even)
                assert np.corrcoef(got[ch, j][core].ravel(), want[ch, j][core].ravel())[0, 1] > 0.85
            else:
                assert np.ptp(got[ch, j][core]) < 0.3
        # relative to the lips' median (which the planted tint moves): the lower-minus-upper difference,
        # less the broad low-pass's spread of the lower lip's bump
        d_got = float(got[ch, 1][4:8, 6:10].mean() - got[ch, 0][4:8, 6:10].mean())
        d_want = float(want[ch, 1][4:8, 6:10].mean() - want[ch, 0][4:8, 6:10].mean())
        assert d_got == pytest.approx(d_want, abs=2.0) and d_got > 0
    # even lips have no tint relief
    assert np.abs(tint_map(_tinted_image(lm, want * 0), lm)).max() < 0.3


def test_draw_relief_tint_on_even_lips_is_the_weighted_goal_by_a_plain_reference() -> None:
    lm = _lips(0.12)
    img = _tinted_image(lm, _smooth_tint() * 0)
    goal = np.zeros((2,) + GRID)  # no L* relief: only the tint moves
    tint = np.random.default_rng(3).uniform(-4, 4, size=(2, 2) + TINT_GRID)
    out = img.copy()
    draw_relief(out, lm[48:68], goal, tint=tint)
    before, after = lab(img), lab(out)
    _, weight = relief_layer(img.shape, lm[48:68], goal)
    ys, xs = np.nonzero(weight > 0.5)
    pick = np.random.default_rng(4).choice(len(ys), 150, replace=False)
    nv, nu = TINT_GRID
    for k in pick:
        y, x = int(ys[k]), int(xs[k])
        u, v, j = _reference_uv(x + 0.0, y + 0.0, lm[48:68])
        assert j >= 0
        for ch in (0, 1):
            want = weight[y, x] * _bilinear(tint[ch, j], u * nu - 0.5, v * nv - 0.5)
            assert after[y, x, 1 + ch] - before[y, x, 1 + ch] == pytest.approx(want, abs=0.9)
    assert np.abs(after[weight > 0.5, 0] - before[weight > 0.5, 0]).max() < 1.0  # L* stays
    assert np.array_equal(out[weight == 0], img[weight == 0])


def test_draw_relief_replaces_the_own_broad_tint() -> None:
    lm = _lips()
    want = _smooth_tint()
    img = _tinted_image(lm, -want)  # the own broad tint opposite to the goal
    out = img.copy()
    draw_relief(out, lm[48:68], np.zeros((2,) + GRID), tint=want)
    got = tint_map(out, lm)
    read = tint_map(_tinted_image(lm, want), lm)  # the goal painted directly, read back
    core = np.s_[4:8, 4:12]
    for ch in (0, 1):
        # the lower-minus-upper difference is now (most of) the goal's, not its opposite: the own is
        # taken out at a finer low-pass, and less where the weight fades towards the outline
        d_got = float(got[ch, 1][core].mean() - got[ch, 0][core].mean())
        d_read = float(read[ch, 1][core].mean() - read[ch, 0][core].mean())
        assert d_got == pytest.approx(d_read, abs=0.3 * abs(d_read) + 0.3)
