"""The lips' junction beyond a smile's opening: its measure (pixelfes.evaluate.junction) and the
candidate darkening it (pixelfes.mouth.junction), each against a plain per-pixel reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from colour_reference import linear_to_srgb as _srgb
from colour_reference import srgb_to_linear as _lin
from pixelfes import native
from pixelfes.evaluate import junction as measure
from pixelfes.evaluate.junction import junction_gaps, junction_numbers, junction_profile
from pixelfes.mouth import junction
from pixelfes.mouth.colour import lip_ring
from pixelfes.mouth.junction import darken_junction, junction_gain


def _lips() -> np.ndarray:
    """A 100 px wide mouth, outer corners (10, 50) and (110, 50), inner corners (30, 50), (90, 50)."""
    outer = [(10, 50), (30, 40), (45, 37), (60, 38), (75, 37), (90, 40), (110, 50),
             (90, 60), (75, 63), (60, 64), (45, 63), (30, 60)]
    inner = [(30, 50), (45, 44), (60, 44), (75, 44), (90, 50), (75, 56), (60, 56), (45, 56)]
    return np.array(outer + inner, dtype=np.float64) + (0.3, 0.2)  # (off the pixel grid)


def _landmarks68(lips: np.ndarray) -> np.ndarray:
    lm = np.zeros((68, 2))
    lm[48:68] = lips
    lm[:48] = lips.mean(0)
    return lm


def _image(seed: int = 0) -> np.ndarray:
    """A noisy lip-coloured 80 x 120 image (light lips, lighter skin)."""
    rng = np.random.default_rng(seed)
    img = np.empty((80, 120, 3), np.float64)
    img[:] = (200, 160, 150)
    ring = lip_ring(img.shape, _lips()[:12], _lips()[12:]).astype(bool)
    img[ring] = (170, 100, 110)
    img += rng.normal(0, 8, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


_Y = np.array([0.2126, 0.7152, 0.0722])


def test_profile_against_plain_loops():
    img, lm = _image(), _landmarks68(_lips())
    got = junction_profile(img, lm)
    lum = _lin(img.astype(np.float64)) @ _Y
    ring = lip_ring(img.shape, lm[48:60], lm[60:68]).astype(bool)
    lips = float(np.median(lum[ring]))
    r = max(1.0, measure.RADIUS * 100.0)
    for s, (o, i) in enumerate(((48, 60), (54, 64))):
        for k in range(measure.SAMPLES):
            t = k / (measure.SAMPLES - 1)
            px, py = lm[o] + t * (lm[i] - lm[o])
            vals = [lum[y, x] for y in range(img.shape[0]) for x in range(img.shape[1])
                    if (x - px) ** 2 + (y - py) ** 2 <= r * r]
            assert got[s, k] == pytest.approx(np.mean(vals) / lips, rel=1e-6)


def test_numbers_of_a_known_profile():
    t = np.linspace(0, 1, 21)
    prof = np.vstack([1.0 - 0.8 * t, np.full(21, 0.8)])  # left: at or below 0.5 from t = 0.625 on
    got = junction_numbers(prof)
    mid = (t >= 0.1 - 1e-9) & (t <= 0.9 + 1e-9)
    assert got["level"] == pytest.approx(prof[:, mid].mean())
    assert got["onset"] == pytest.approx((0.65 + 1.0) / 2)  # the right side never dark: 1
    assert math.isnan(junction_numbers(np.full((2, 21), np.nan))["level"])


def test_gaps_paired_and_by_group():
    nums = {"m": {"a": {"level": 0.7, "onset": 0.8}, "b": {"level": 0.6, "onset": 0.6},
                  "c": {"level": 0.5, "onset": 0.5}},
            "real target": {"a": {"level": 0.5, "onset": 0.4}, "b": {"level": 0.5, "onset": 0.5},
                            "c": {"level": 0.45, "onset": 0.2}}}
    got = junction_gaps(nums, "m", groups={"a": "x", "b": "x", "c": "y"})
    d = np.array([0.2, 0.1, 0.05])
    assert got["level"]["gap"] == pytest.approx(d.mean())
    assert got["level"]["se"] == pytest.approx(d.std(ddof=1) / math.sqrt(3))
    assert got["level@x"]["gap"] == pytest.approx(0.15) and got["level@y"]["n"] == 1
    assert junction_gaps(nums, "m", only={"a"})["onset"]["gap"] == pytest.approx(0.4)


def test_gain_formula():
    assert junction_gain(0.8) == pytest.approx(junction._GOAL / 0.8)
    assert junction_gain(0.3) == 1.0  # already darker than the goal: left alone
    assert junction_gain(10.0) == junction._FLOOR
    assert junction_gain(float("nan")) == 1.0 and junction_gain(0.0) == 1.0


def _reference(image: np.ndarray, lips: np.ndarray) -> np.ndarray:
    """The darkening written plainly, pixel by pixel, in float64 (the lips' ring from OpenCV, as the
    module's)."""
    h, w = image.shape[:2]
    width = float(np.hypot(*(lips[6] - lips[0])))
    ho, hi = max(1.0, junction._HALF_OUTER * width), max(1.0, junction._HALF_INNER * width)
    ring = lip_ring(image.shape, lips[:12], lips[12:]).astype(bool)
    lin = _lin(image.astype(np.float64))
    lum = lin @ _Y
    lip_lum = float(np.median(lum[ring]))
    factor = np.ones((h, w))
    centres = [junction._FULL + junction._BIN * (k + 0.5) for k in range(int(round((1 - junction._FULL) / junction._BIN)))]
    assert np.allclose(centres, junction._CENTRES)
    for o, i in ((0, 12), (6, 16)):
        a, b = lips[o], lips[i]
        ax = b - a
        weight, place = np.zeros((h, w)), np.zeros((h, w))
        for y in range(h):
            for x in range(w):
                t = ((x - a[0]) * ax[0] + (y - a[1]) * ax[1]) / (ax @ ax)
                tc = min(max(t, 0.0), 1.0)
                d = math.hypot(x - a[0] - tc * ax[0], y - a[1] - tc * ax[1])
                half = ho + (hi - ho) * tc
                across = min(max(half + 0.5 - d, 0.0), 1.0)
                u = min(max((t - junction._START) / (junction._FULL - junction._START), 0.0), 1.0)
                weight[y, x] = 0.0 if t < 0 or not ring[y, x] else across * u * u * (3 - 2 * u)
                place[y, x] = t
        gains = []
        for c in centres:
            vals = [lum[y, x] for y in range(h) for x in range(w)
                    if weight[y, x] >= 1.0 and abs(place[y, x] - c) <= junction._BIN / 2]
            if len(vals) >= junction._MIN_PIXELS:
                gains.append((c, min(max(junction._GOAL / (np.mean(vals) / lip_lum), junction._FLOOR), 1.0)))
        if not gains:
            continue
        centres_ok = [c for c, _ in gains]
        gains_ok = [g for _, g in gains]
        for y in range(h):
            for x in range(w):
                t = place[y, x]
                if t <= centres_ok[0]:
                    g = gains_ok[0]
                elif t >= centres_ok[-1]:
                    g = gains_ok[-1]
                else:
                    k = max(j for j in range(len(centres_ok) - 1) if centres_ok[j] <= t)
                    f = (t - centres_ok[k]) / (centres_ok[k + 1] - centres_ok[k])
                    g = gains_ok[k] + f * (gains_ok[k + 1] - gains_ok[k])
                factor[y, x] *= 1.0 - weight[y, x] * (1.0 - g)
    out = image.copy()
    sel = factor < 1.0
    out[sel] = _srgb(lin[sel] * factor[sel, None]).astype(np.uint8)
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_darkening_against_plain_reference(seed):
    img, lips = _image(seed), _lips()
    want = _reference(img, lips)
    got = img.copy()
    n = darken_junction(got, lips)
    # float32 light against float64: a level at most, on a handful of pixels
    diff = np.abs(got.astype(int) - want.astype(int))
    assert diff.max() <= 1 and (diff > 0).sum() <= 3
    assert n == int(np.any(got != img, axis=2).sum()) and n > 20


def test_only_the_lips_change_and_a_dark_junction_stays():
    img, lips = _image(), _lips()
    got = img.copy()
    darken_junction(got, lips)
    ring = lip_ring(img.shape, lips[:12], lips[12:]).astype(bool)
    assert np.array_equal(got[~ring], img[~ring])  # no skin, no opening
    moved = np.any(got != img, axis=2)
    ys, xs = np.nonzero(moved)
    assert xs.min() >= 10 + junction._START * 20 - 2 and xs.max() <= 110 - junction._START * 20 + 2
    assert np.all((xs <= 32) | (xs >= 88))  # the junctions only, not the lips beside the opening
    dark = img.copy()
    dark[48:53, 10:31] = 20  # the left junction already darker than the goal
    dark[48:53, 89:111] = 20
    before = dark.copy()
    darken_junction(dark, lips)
    assert np.array_equal(dark, before)


def test_bad_input():
    with pytest.raises(ValueError, match="uint8"):
        darken_junction(np.zeros((10, 10, 3), np.float32), _lips())
    with pytest.raises(ValueError, match="lips"):
        darken_junction(_image(), _lips()[:10])
    with pytest.raises(ValueError, match="landmarks"):
        junction_profile(_image(), _lips())


def test_engine_off_by_default_and_the_factory():
    import inspect

    from pixelfes.evaluate import engines
    from pixelfes.evaluate.mouth_protocol import FACTORIES

    assert native._LIP_JUNCTION is False
    assert inspect.signature(native.synthesize_face).parameters["junction"].default is None
    assert "native-junction" in FACTORIES and callable(engines.native_junction_factory)


def test_a_smile_with_and_without_the_junction(face, monkeypatch):
    # off by default: the default smile is the one without it; on, the same smile with its lip
    # junction darkened after the corner specks, on the lips the teeth were painted in
    from pixelfes.pipeline import resolve_model

    rgb, lm = face
    model = resolve_model(None, "neutral", "happy")
    plain = rgb.copy()
    res = native.synthesize_face(rgb, plain, lm, model, 1.0)
    assert res.mouth == "open" and res.exemplar is not None
    calls = []
    real = junction.darken_junction
    monkeypatch.setattr(junction, "darken_junction",
                        lambda im, lips: calls.append((im.copy(), np.array(lips))) or real(im, lips))
    on = rgb.copy()
    assert native.synthesize_face(rgb, on, lm, model, 1.0, junction=True) == res
    assert len(calls) == 1
    before, lips = calls[0]
    assert np.array_equal(before, plain)  # called on the finished default smile
    again = before.copy()
    real(again, lips)
    assert np.array_equal(on, again)  # (her junction is about as dark as real ones already)
    # her mouth is ~50 px wide (its junction 2-3 px long): a goal lighter than real ones and
    # single-pixel bins, to see a change
    monkeypatch.setattr(junction, "_GOAL", 0.9)
    monkeypatch.setattr(junction, "_MIN_PIXELS", 1)
    on = rgb.copy()
    native.synthesize_face(rgb, on, lm, model, 1.0, junction=True)
    again = plain.copy()
    assert real(again, calls[-1][1]) > 0 and np.array_equal(on, again)
    ring = lip_ring(rgb.shape, lips[:12], lips[12:]).astype(bool)
    assert not (np.any(on != plain, axis=2) & ~ring).any()  # the lips only
    off = rgb.copy()
    native.synthesize_face(rgb, off, lm, model, 1.0, junction=False)
    assert np.array_equal(off, plain) and len(calls) == 2
