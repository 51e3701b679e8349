"""The closed lips' red wedge calmed to real closed lips' tint (pixelfes.mouth.wedge), against a
plain per-pixel reference; one-sided, L* and b* kept, the switch's bytes."""

from __future__ import annotations

import math

import numpy as np
import pytest

import pixelfes.mouth.wedge as wedge_mod
from pixelfes.mouth.colour import lab
from pixelfes.mouth.relief import TINT_GRID, lip_uv
from pixelfes.mouth.wedge import calm_line, calm_share
from test_lip_relief import _bilinear, _lab_to_rgb8, _lips, _reference_uv, _skin_and_lips


def _gaussian_sum(raw: np.ndarray, sigma: float) -> np.ndarray:
    """A plain 2-D Gaussian sum of ``raw`` (zero outside), the kernel sampled over +-4 sigma (OpenCV's
    reach for float images) and normalised, pixel by pixel."""
    r = (int(round(sigma * 8 + 1)) | 1) // 2
    k = np.array([math.exp(-0.5 * (i / sigma) ** 2) for i in range(-r, r + 1)])
    k /= k.sum()
    h, w = raw.shape
    out = np.zeros((h, w))
    for y in range(h):
        for x in range(w):
            s = 0.0
            for dy in range(-r, r + 1):
                yy = y + dy
                if not 0 <= yy < h:
                    continue
                for dx in range(-r, r + 1):
                    xx = x + dx
                    if 0 <= xx < w:
                        s += k[dy + r] * k[dx + r] * raw[yy, xx]
            out[y, x] = s
    return out


def _reference_share(excess: np.ndarray, v: np.ndarray, which: np.ndarray, width: float) -> np.ndarray:
    """The share by hand: 0 at a* 2 over the goal, 1 from 6 (linear), within 0.6 of the lip's thickness
    from the meeting line (smoothstep over 0.15 more), feathered by a Gaussian of 0.012 mouth widths."""
    h, w = excess.shape
    raw = np.zeros((h, w))
    for y in range(h):
        for x in range(w):
            if which[y, x] < 0:
                continue
            ramp = min(max((excess[y, x] - 2.0) / 4.0, 0.0), 1.0)
            t = min(max((v[y, x] - 0.25) / 0.15, 0.0), 1.0)
            raw[y, x] = ramp * t * t * (3 - 2 * t)
    soft = _gaussian_sum(raw, max(0.7, 0.012 * width))
    return np.where(which >= 0, np.clip(soft, 0, 1), 0.0)


def test_share_matches_a_plain_per_pixel_reference() -> None:
    lm = _lips(0.1)[48:68]
    shape = (70, 100)
    lips = lm - (30, 20)
    u, v, which = lip_uv(shape, lips)
    excess = np.random.default_rng(5).uniform(-3, 9, size=shape)
    width = float(np.linalg.norm(lips[6] - lips[0]))
    got = calm_share(excess, v, which, width)
    want = _reference_share(excess, v, which, width)
    assert got.shape == shape and got.dtype == np.float32
    assert (want > 0.05).sum() > 300 and (which >= 0).sum() > 1500  # (the test sees a real zone)
    np.testing.assert_allclose(got, want, atol=2e-5)


def _wedge_image(lm: np.ndarray, ramp: float = 0.0) -> np.ndarray:
    """Skin with lips of L* 45, a* 20 (+ ``ramp`` x (v - 0.5): redder towards the line), b* 10 and a red
    wedge (a* 36) under the meeting line at u 0.15-0.35."""
    c, at = _skin_and_lips(lm)
    u, v, which = lip_uv(at.shape, lm[48:68])
    c[at, 0], c[at, 1], c[at, 2] = 45.0, 20.0 + ramp * (v[at] - 0.5), 10.0
    red = at & (which == 1) & (u > 0.15) & (u < 0.35) & (v > 0.55)
    c[red, 1] = 36.0
    return _lab_to_rgb8(c)


def _tint() -> np.ndarray:
    """``(2, 2, V, U)``: a* of the lower lip redder towards the line and the centre, the upper a little less red."""
    nv, nu = TINT_GRID
    u = (np.arange(nu) + 0.5) / nu
    v = (np.arange(nv) + 0.5) / nv
    a_low = -2.0 + 3.0 * v[:, None] + 3.0 * np.sin(np.pi * u)[None]
    a_up = np.full((nv, nu), -1.0) + 0.5 * v[:, None]
    b = np.random.default_rng(7).uniform(-3, 3, size=(2, nv, nu))  # (b* is never read)
    return np.stack([np.stack([a_up, a_low]), b])


@pytest.mark.parametrize(("tilt", "floor"), [(0.0, False), (0.12, False), (0.0, True), (0.12, True)])
def test_calm_line_is_the_reference_pull_towards_the_goal(tilt: float, floor: bool) -> None:
    # floor: the case where the tint goal lies well below the lips' a* near the line, so that the
    # line's own level (calm_line's floor) decides; without it, the plain set-up
    lm = _lips(tilt)
    img = _wedge_image(lm, 8.0 if floor else 0.0)
    tint = _tint()
    if floor:  # (the goal well below the lips' own a* near the line: the floor decides)
        tint[0] -= 10.0
    out = img.copy()
    calm_line(out, lm[48:68], tint)
    before, after = lab(img), lab(out)
    lips = lm[48:68]
    width = float(np.linalg.norm(lips[6] - lips[0]))
    med = float(before[60, 80, 1])  # (an even lip pixel: more than half the lips are even)
    h, w = img.shape[:2]
    nv, nu = TINT_GRID
    goal = np.zeros((h, w))
    v = np.zeros((h, w))
    which = np.full((h, w), -1)
    for y in range(h):
        for x in range(w):
            ru, rv, rw = _reference_uv(float(x), float(y), lips)
            if rw < 0:
                continue
            v[y, x], which[y, x] = rv, rw
            goal[y, x] = med + _bilinear(tint[0, rw], ru * nu - 0.5, rv * nv - 0.5)
    # the line's own level: the median a* of the lip pixels within 0.6 of the thickness from it
    level = float(np.median(before[..., 1][(which >= 0) & (v >= 0.4)]))
    if floor:
        assert level > goal[(which >= 0) & (v >= 0.4)].max()  # (the test sees the floor)
    goal = np.maximum(goal, level)
    excess = np.where(which >= 0, before[..., 1] - goal, 0.0)
    share = _reference_share(excess, v, which, width)
    want = before[..., 1] - share * np.maximum(excess, 0.0)
    moved = (share > 0) & (excess > 0)
    assert moved.sum() > 100
    np.testing.assert_allclose(after[..., 1][moved], want[moved], atol=0.8)  # (one uint8 level, in a*)
    assert np.abs(after[..., 0] - before[..., 0]).max() < 0.6  # L* kept
    assert np.abs(after[..., 2] - before[..., 2]).max() < 0.8  # b* kept
    assert np.array_equal(out[~moved], img[~moved])  # what does not move keeps its bytes
    assert (after[..., 1] <= before[..., 1] + 0.5).all()  # never redder
    wedge = (which == 1) & (before[..., 1] > 30)
    assert before[..., 1][wedge].mean() > 35 and after[..., 1][wedge & (v > 0.5)].mean() < 30  # the wedge calmed


def test_calm_line_leaves_lips_at_their_goal_alone(monkeypatch) -> None:
    lm = _lips()
    img = _wedge_image(lm)
    tint = _tint()
    tint[0, 1] += 20.0  # real lips redder than the wedge everywhere: nothing to take out
    out = img.copy()
    calm_line(out, lm[48:68], tint)
    assert np.array_equal(out, img)
    monkeypatch.setattr(wedge_mod, "_SLACK", -100.0)  # (and the test can fail: everything above a low goal moves)
    monkeypatch.setattr(wedge_mod, "_FULL", -99.0)
    calm_line(out, lm[48:68], tint - 40.0)
    assert not np.array_equal(out, img)


@pytest.mark.parametrize("target", ["neutral-to-happy", "happy-to-neutral"])
def test_calm_switch_changes_only_a_closing_smile(target: str) -> None:
    """On by default (``"level"``); on, neutral -> happy keeps its bytes and a closing smile changes
    at its lips only."""
    skimage_data = pytest.importorskip("skimage.data")
    import pixelfes.native as native
    from pixelfes.face import detect_faces
    from pixelfes.native import synthesize_face
    from pixelfes.pipeline import resolve_model

    assert native._CALM_LINE == "level"
    photo = skimage_data.astronaut()
    lm = detect_faces(photo)[0].landmarks
    model = resolve_model(target)
    outs = {}
    for key in (None, *native.CALM_LINES):
        out = photo.copy()
        synthesize_face(photo, out, lm, model, 1.0, calm=key)
        outs[key] = out
    assert np.array_equal(outs[None], outs["level"])
    for key in ("level",):
        if target == "neutral-to-happy":
            assert np.array_equal(outs[key], outs["off"])
            continue
        changed = (outs[key] != outs["off"]).any(-1)
        ys, xs = np.nonzero(changed)
        if changed.any():
            assert lm[48:60, 1].min() - 10 < ys.min() and ys.max() < lm[48:60, 1].max() + 10
            assert lm[48:60, 0].min() - 10 < xs.min() and xs.max() < lm[48:60, 0].max() + 10
    for bad in ("on", "goal"):  # ("goal": a candidate not adopted, removed from main after 152500d)
        with pytest.raises(ValueError, match="calm must be one of"):
            synthesize_face(photo, photo.copy(), lm, model, 1.0, calm=bad)
