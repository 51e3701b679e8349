"""A smile's opening darkened at its ends (pixelfes.mouth.ends) against a plain per-pixel reference."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pixelfes import native
from pixelfes.mouth import ends
from pixelfes.mouth.ends import end_gain, end_profile, shade_opening_ends
from pixelfes.mouth.specks import clear_corner_specks
from plain_reference import linear_to_srgb as _linear_to_srgb
from plain_reference import srgb_to_linear as _srgb_to_linear

skimage_data = pytest.importorskip("skimage.data")


def _lips() -> np.ndarray:
    """A 100 px wide mouth, outer corners (10, 50) and (110, 50), inner corners (18, 50), (102, 50)."""
    outer = [(10, 50), (30, 40), (45, 37), (60, 38), (75, 37), (90, 40), (110, 50),
             (90, 60), (75, 63), (60, 64), (45, 63), (30, 60)]
    inner = [(18, 50), (40, 42), (60, 42), (80, 42), (102, 50), (80, 58), (60, 58), (40, 58)]
    return np.array(outer + inner, dtype=np.float64)


def _plain_opening(image: np.ndarray, lips: np.ndarray, inside: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Both references' frame, pixel by pixel: linear RGB, luminance, each pixel's place ``t`` along
    the opening's axis 60 -> 64 and its share from the nearer end, the middle's median luminance."""
    h, w = image.shape[:2]
    a, b = lips[12], lips[16]
    ax = b - a
    lin = _srgb_to_linear(image.astype(np.float64))
    lum = lin @ np.array([0.2126, 0.7152, 0.0722])
    t = np.zeros((h, w))
    for y in range(h):
        for x in range(w):
            t[y, x] = ((x - a[0]) * ax[0] + (y - a[1]) * ax[1]) / (ax @ ax)
    share = np.minimum(t, 1 - t)
    mid = float(np.median([lum[y, x] for y in range(h) for x in range(w) if inside[y, x] and share[y, x] >= 0.3]))
    return lin, lum, t, share, mid


def _reference(image: np.ndarray, lips: np.ndarray) -> np.ndarray:
    """The change written plainly, pixel by pixel (the opening's raster and the grown outline's
    disc taken from OpenCV, as the module's; the test image keeps the outline well inside)."""
    h, w = image.shape[:2]
    width = float(np.hypot(*(lips[6] - lips[0])))
    grow = max(1, int(round(ends._GROW * width)))
    inside = np.zeros((h, w), np.uint8)
    cv2.fillPoly(inside, [np.rint(lips[12:]).astype(np.int32)], 1)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2)
    lin, lum, t, share, mid = _plain_opening(image, lips, inside)
    end = {}
    for left in (True, False):
        vals = [lum[y, x] for y in range(h) for x in range(w)
                if inside[y, x] and (t[y, x] < 0.5) == left and share[y, x] < ends._END]
        own = np.mean(vals) / mid
        end[left] = min(1.0, max(ends._FLOOR, ends._GOAL / own))
    r = grow
    grown = np.zeros((h, w))  # the outline grown by the disc, then its (2r+1)^2 box mean
    for y in range(h):
        for x in range(w):
            grown[y, x] = any(disc[ey + r, ex + r] and 0 <= y + ey < h and 0 <= x + ex < w
                              and inside[y + ey, x + ex] for ey in range(-r, r + 1) for ex in range(-r, r + 1))
    out = image.copy()
    for y in range(h):
        for x in range(w):
            weight = np.mean([grown[y + dy, x + dx] if 0 <= y + dy < h and 0 <= x + dx < w else 0.0
                              for dy in range(-r, r + 1) for dx in range(-r, r + 1)])
            if weight == 0:
                continue
            g0 = end[t[y, x] < 0.5]
            u = min(1.0, max(0.0, share[y, x] / ends._REACH))
            gain = g0 + (1 - g0) * u * u * (3 - 2 * u)
            factor = 1 - weight * (1 - gain)
            if factor < 1:
                out[y, x] = _linear_to_srgb(lin[y, x] * factor)
    return out


def test_end_gain_and_profile_are_their_formulas():
    assert end_gain(ends._GOAL * 2) == pytest.approx(0.5)
    assert end_gain(ends._GOAL / 2) == 1.0  # already darker than real ends: left as it is
    assert end_gain(ends._GOAL * 100) == ends._FLOOR
    assert end_gain(float("nan")) == 1.0 and end_gain(0.0) == 1.0
    s = np.array([-0.1, 0.0, ends._REACH / 2, ends._REACH, 0.4])
    assert np.allclose(end_profile(s, 0.3), [0.3, 0.3, 0.3 + 0.7 * 0.5, 1.0, 1.0], atol=1e-7)


def test_opening_ends_against_the_plain_reference():
    rng = np.random.default_rng(5)
    image = np.empty((100, 120, 3), np.uint8)
    image[...] = (150, 100, 90)  # lips and skin
    inner = np.zeros((100, 120), np.uint8)
    cv2.fillPoly(inner, [np.rint(_lips()[12:]).astype(np.int32)], 1)
    ys, xs = np.nonzero(inner)
    near = np.minimum(xs - 18, 102 - xs) / 84.0  # (about the share from the nearer end)
    tooth = 90 + 145 * np.minimum(1.0, near / 0.25)  # lent teeth dimming a little towards the corners
    image[ys, xs] = np.rint(tooth[:, None] * [1.0, 0.98, 0.94]).astype(np.uint8)
    image[48:52, 60:62] = (40, 30, 30)  # a gap between the front teeth
    image = np.clip(image.astype(int) + rng.integers(-8, 9, image.shape), 0, 255).astype(np.uint8)
    want = _reference(image, _lips())
    got = image.copy()
    n = shade_opening_ends(got, _lips())
    assert n == int(np.any(got != image, axis=2).sum()) and n >= 100
    # (float32 against float64 linear light: a level apart at most)
    assert np.abs(got.astype(int) - want).max() <= 1
    assert np.array_equal(got[:, 45:75], image[:, 45:75])  # the middle untouched
    assert got[50, 22].mean() < image[50, 22].mean() - 25  # the ends dark
    far = np.ones((100, 120), bool)
    far[30:70, 5:115] = False
    assert np.array_equal(got[far], image[far])  # nothing away from the opening


def test_an_end_as_dark_as_real_ones_is_left_alone():
    image = np.full((100, 120, 3), (150, 100, 90), np.uint8)
    inner = np.zeros((100, 120), np.uint8)
    cv2.fillPoly(inner, [np.rint(_lips()[12:]).astype(np.int32)], 1)
    image[inner.astype(bool)] = (235, 230, 220)
    image[:, :32][inner[:, :32].astype(bool)] = (10, 8, 8)  # the left end already in shadow
    got = image.copy()
    shade_opening_ends(got, _lips())
    assert np.array_equal(got[:, :60], image[:, :60])
    assert not np.array_equal(got[:, 60:], image[:, 60:])


def test_a_smile_with_and_without_the_dark_ends(face, monkeypatch):
    # on by default (adopted): off, the smile without it; on (the default), the same smile
    # with its opening's ends shaded on the very lips the teeth were painted in
    from pixelfes.pipeline import resolve_model

    rgb, lm = face
    model = resolve_model(None, "neutral", "happy")
    assert native._OPENING_ENDS is True
    plain = rgb.copy()
    res = native.synthesize_face(rgb, plain, lm, model, 1.0, ends=False)
    assert res.mouth == "open" and res.exemplar is not None
    default = rgb.copy()
    assert native.synthesize_face(rgb, default, lm, model, 1.0) == res
    calls = []
    real = ends.shade_opening_ends
    monkeypatch.setattr(ends, "shade_opening_ends",
                        lambda im, lips, **kw: calls.append((im.copy(), lips, kw)) or real(im, lips, **kw))
    on = rgb.copy()
    native.synthesize_face(rgb, on, lm, model, 1.0, ends=True)
    assert len(calls) == 1 and calls[0][2] == {}  # (v1, "grown": called as before v2)
    before, lips, _ = calls[0]
    shaded = before.copy()
    assert real(shaded, lips) > 0
    again = shaded.copy()
    clear_corner_specks(again, lips)  # (the corners' specks are toned down after it)
    assert np.array_equal(on, again)  # the smile, its opening's ends shaded, then the specks
    assert np.array_equal(default, on) and not np.array_equal(default, plain)
    changed = np.any(shaded != before, axis=2)
    # the shading reaches no further than the opening grown twice by _GROW
    width = float(np.linalg.norm(lips[6] - lips[0]))
    reach = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillPoly(reach, [np.rint(lips[12:]).astype(np.int32)], 1)
    g = 4 * max(1, int(round(ends._GROW * width))) + 1  # (grown by it, then feathered over as much)
    reach = cv2.dilate(reach, np.ones((g, g), np.uint8))
    assert changed.any() and not (changed & ~reach.astype(bool)).any()


def test_the_removed_styles_are_refused(face):
    # ends="inside" (v2) and crisp="luma" were candidates, not adopted, removed from main after
    # 152500d: a string is a TypeError now, not a silently different output
    from pixelfes.pipeline import resolve_model

    rgb, lm = face
    model = resolve_model(None, "neutral", "happy")
    with pytest.raises(TypeError, match="ends must be a bool or None; got str"):
        native.synthesize_face(rgb, rgb.copy(), lm, model, 1.0, ends="inside")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="crisp must be a bool or None; got str"):
        native.synthesize_face(rgb, rgb.copy(), lm, model, 1.0, crisp="luma")  # type: ignore[arg-type]
    for gone in ("junction", "rim", "outline", "reshape"):
        with pytest.raises(TypeError, match=gone):
            native.synthesize_face(rgb, rgb.copy(), lm, model, 1.0, **{gone: True})
