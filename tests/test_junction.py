"""The lips' junction beyond a smile's opening: its measure (pixelfes.evaluate.junction) and the
candidate darkening it (pixelfes.mouth.junction), each against a plain per-pixel reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pixelfes import native
from pixelfes.evaluate import junction as measure
from pixelfes.evaluate.junction import junction_gaps, junction_numbers, junction_profile
from pixelfes.mouth import junction
from pixelfes.mouth.colour import lip_ring
from pixelfes.mouth.junction import darken_junction, junction_gain
from plain_reference import linear_to_srgb as _srgb
from plain_reference import srgb_to_linear as _lin


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


# -- v2: the output's own crease traced and deepened (junction="crease") ---------------------

def _crease_y(x: np.ndarray) -> np.ndarray:
    """The known dark curve of the left junction: from the inner corner (30.3, 50.2) bending up
    to 2 px above the corner line at x = 16.3 (on the lips throughout), where it ends."""
    return 50.2 - 2.0 * ((30.3 - x) / 14.0) ** 2


_CREASE_END = 16.3


def _crease_image(depth: float = 0.5, seed: int = 0) -> np.ndarray:
    """Flat lips (little noise) with the known curve painted about 2 px wide on the left junction
    from the inner corner to x = 16.3, linear luminance times ``1 - depth``; none on the right."""
    rng = np.random.default_rng(seed)
    lips = _lips()
    lin = np.empty((80, 120, 3))
    lin[:] = _lin(np.array([200.0, 160.0, 150.0]))
    ring = lip_ring(lin.shape, lips[:12], lips[12:]).astype(bool)
    lin[ring] = _lin(np.array([170.0, 100.0, 110.0]))
    ys, xs = np.mgrid[0:80, 0:120].astype(np.float64)
    near = ring & (xs >= _CREASE_END) & (xs <= 31) & (np.abs(ys - _crease_y(xs)) <= 1.0)
    lin[near] *= 1.0 - depth
    out = _srgb(lin) + rng.normal(0, 1.0, lin.shape)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def test_the_trace_finds_a_known_dark_curve():
    import cv2

    img, lips = _crease_image(), _lips()
    lum = _lin(img.astype(np.float64)) @ _Y
    ring = lip_ring(img.shape, lips[:12], lips[12:]).astype(bool)
    lip = float(np.median(lum[ring]))
    tr = junction.trace_crease(cv2.GaussianBlur(lum, (0, 0), 1.0, borderType=cv2.BORDER_REFLECT),
                               lips[0], lips[12], 100.0, lip)
    first, stop = junction.crease_extent(tr["contrast"])
    # found from the inner corner and ended where the curve ends (s = 14), give or take the smoothing
    assert first <= 2 and abs(tr["s"][stop - 1] - 14.0) <= 2.5
    pts = lips[12] + tr["s"][:, None] * tr["axis"] + tr["off"][:, None] * tr["normal"]
    # the smoothed trace on the curve within 0.6 px up to 2 px before its end (there the curve is
    # 1.47 px off the corner line: the straight line would miss it by that; the trace lags its
    # last 2 px, bent and smoothed)
    inside = (pts[:, 0] >= _CREASE_END + 2) & (np.arange(len(pts)) >= first)  # (on its extent)
    err = np.abs(pts[inside, 1] - _crease_y(pts[inside, 0]))
    assert err.max() <= 0.6
    assert np.all(tr["contrast"][first:stop] >= junction._C0)


def _plan_reference(contrast: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """crease_plan written plainly: (loss, sigma) per step."""
    on = [c >= junction._C0 for c in contrast]
    lead = max(1, len(on) // 3)
    first = next((k for k in range(lead) if on[k]), None)
    n = len(contrast)
    loss, sigma = np.zeros(n), np.full(n, junction._SIGMA_OUT)
    if first is None:
        return loss, sigma
    stop = next((k for k in range(first, n) if not on[k]), n)

    def ss(x: float) -> float:
        x = min(max(x, 0.0), 1.0)
        return x * x * (3 - 2 * x)
    for k in range(first, stop):
        taper = ss((stop - 1 - k) / max(4.0, junction._TAPER * width)) * ss((k - first + 1) / 3.0)
        c = min(max(contrast[k], 0.0), 0.99)
        gain = min((1 - min(junction._DEEPEN * c, junction._CMAX)) / (1 - c), 1.0)
        presence = ss((contrast[k] - junction._C0) / (junction._C1 - junction._C0))
        loss[k] = taper * presence * (1 - gain)
        sigma[k] = junction._SIGMA_OUT + (max(1.0, junction._SIGMA_IN * width) - junction._SIGMA_OUT) * taper
    return loss, sigma


def test_plan_against_plain_reference():
    c = np.array([0.05, 0.15, 0.2, 0.35, 0.6, 0.3, 0.2, 0.14, 0.13, 0.1, 0.3, 0.4])
    for width in (100.0, 250.0):
        got = junction.crease_plan({"contrast": c}, width)
        loss, sigma = _plan_reference(c, width)
        assert np.allclose(got["loss"], loss, atol=1e-12) and np.allclose(got["sigma"], sigma)
        # tapered to nothing at the crease's outer end (step 9 the first faded one), nothing past it
        assert got["loss"][8] == 0.0 and np.all(got["loss"][9:] == 0.0)
        assert got["loss"][0] == 0.0 and got["loss"][4] == 0.0  # not yet a crease; deep already
    assert np.all(junction.crease_plan({"contrast": np.full(12, 0.05)}, 100.0)["loss"] == 0.0)


def test_crease_darkening_against_plain_reference():
    img, lips = _crease_image(), _lips()
    got = img.copy()
    info: list = []
    n = junction.darken_crease(got, lips, info)
    assert n > 5 and len(info) == 2
    # the module's crop: the factor pixel by pixel from each side's trace and plan, plainly
    width = float(np.hypot(*(lips[6] - lips[0])))
    pad = int(np.ceil(max(3.0, junction._BAND * width) + max(2.0, junction._FLANK * width)
                      + 3 * max(1.0, junction._SIGMA_IN * width))) + 3
    x0, y0 = (int(v) for v in np.maximum(0, np.floor(lips.min(0)) - pad))
    local = lips - (x0, y0)
    lin = _lin(img.astype(np.float64))
    want = img.copy()
    opening = np.zeros(img.shape[:2], np.uint8)
    import cv2
    cv2.fillPoly(opening, [np.rint(lips[12:] * 16).astype(np.int32)], 1, shift=4)
    for y in range(img.shape[0]):
        for x in range(img.shape[1]):
            f = 1.0
            for i, (tr, pl) in zip((12, 16), info, strict=True):
                dx, dy = x - x0 - local[i][0], y - y0 - local[i][1]
                s = dx * tr["axis"][0] + dy * tr["axis"][1]
                u = dx * tr["normal"][0] + dy * tr["normal"][1]
                st = tr["s"]
                if s < st[0] or s > st[-1]:
                    continue
                k = min(int(np.searchsorted(st, s, side="right")) - 1, len(st) - 2)
                w = (s - st[k]) / (st[k + 1] - st[k])
                loss = pl["loss"][k] + w * (pl["loss"][k + 1] - pl["loss"][k])
                sig = pl["sigma"][k] + w * (pl["sigma"][k + 1] - pl["sigma"][k])
                d = u - (tr["off"][k] + w * (tr["off"][k + 1] - tr["off"][k]))
                if abs(d) <= 3 * sig:
                    f *= 1.0 - loss * math.exp(-0.5 * (d / sig) ** 2)
            if f < 1.0 and not opening[y, x]:
                want[y, x] = _srgb(lin[y, x] * f).astype(np.uint8)
    diff = np.abs(got.astype(int) - want.astype(int))
    assert diff.max() <= 1 and (diff > 0).sum() <= 3  # float32 light against float64
    # off the crease unchanged: nothing farther than 3 sigma (+1 px) from the curve, nothing on
    # the right side (no crease there), nothing in the opening
    moved = np.any(got != img, axis=2)
    ys, xs = np.nonzero(moved)
    reach = 3 * max(1.0, junction._SIGMA_IN * width) + 1.0
    assert np.all(xs <= 31) and np.all(xs >= _CREASE_END - 3)
    assert np.all(np.abs(ys - _crease_y(xs.astype(float))) <= reach)
    assert not (moved & opening.astype(bool)).any()
    # deepened, never lightened, and darker on the crease than beside it
    lum_in, lum_out = _lin(img.astype(float)) @ _Y, _lin(got.astype(float)) @ _Y
    assert np.all(lum_out[moved] <= lum_in[moved] + 1e-9)


def test_no_crease_no_new_line():
    lips = _lips()
    flat = _crease_image(depth=0.0)
    got = flat.copy()
    assert junction.darken_crease(got, lips) == 0 and np.array_equal(got, flat)


def test_the_crease_mode_in_the_engine(face, monkeypatch):
    from pixelfes.evaluate import engines
    from pixelfes.evaluate.mouth_protocol import FACTORIES
    from pixelfes.pipeline import resolve_model

    assert "native-junction2" in FACTORIES and callable(engines.native_junction2_factory)
    rgb, lm = face
    model = resolve_model(None, "neutral", "happy")
    plain = rgb.copy()
    native.synthesize_face(rgb, plain, lm, model, 1.0)
    calls = []
    real = junction.darken_crease
    monkeypatch.setattr(junction, "darken_crease",
                        lambda im, lips: calls.append((im.copy(), np.array(lips))) or real(im, lips))
    on = rgb.copy()
    native.synthesize_face(rgb, on, lm, model, 1.0, junction="crease")
    assert len(calls) == 1 and np.array_equal(calls[0][0], plain)
    again = plain.copy()
    real(again, calls[0][1])
    assert np.array_equal(on, again)
    with pytest.raises(ValueError, match="junction"):
        native.synthesize_face(rgb, rgb.copy(), lm, model, 1.0, junction="wedge")
