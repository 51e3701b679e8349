"""The streak measure (pixelfes.evaluate.streaks): against a plain loop, and what it sees."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.ndimage import gaussian_filter

from pixelfes.evaluate.streaks import (
    STREAK_SIGMA,
    lip_band,
    streak_error,
    streak_ratio,
    summarise_streaks,
)
from pixelfes.mouth_regions import srgb_to_lightness


def _landmarks(width=160.0, cx=150.0, cy=110.0):
    """68 points: only the lips (48-67) matter; closed lips meeting on a slightly bent line."""
    lm = np.zeros((68, 2))
    t = np.linspace(0, 2 * np.pi, 13)[:-1]
    lm[48:60] = np.stack([cx - 0.5 * width * np.cos(t), cy - 0.2 * width * np.sin(t)], 1)
    xs = cx + np.array([-0.42, -0.2, 0.0, 0.2, 0.42]) * width
    upper = np.stack([xs, cy + np.array([0.0, 1.5, 2.0, 1.0, 0.0])], 1)
    lm[60:65] = upper
    lm[65:68] = upper[[3, 2, 1]]
    return lm


def _photo(texture):
    """A skin-coloured photo with lips whose luminance carries ``texture`` (H, W floats)."""
    img = np.full(texture.shape + (3,), (200, 150, 130), np.float64)
    img[..., 0] += texture
    img[..., 1] += 0.6 * texture
    img[..., 2] += 0.6 * texture
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _reference_ratio(rgb, lm, band=None):
    """The plain version: L* blurred whole by scipy, then a loop over the band's pixels."""
    width = float(np.linalg.norm(lm[54] - lm[48]))
    light = srgb_to_lightness(rgb)
    tex = light - gaussian_filter(light, max(1.0, STREAK_SIGMA * width), mode="mirror", truncate=4.0)
    band = lip_band(rgb.shape, lm) if band is None else band
    ex = ey = 0.0
    for y, x in zip(*np.nonzero(band), strict=True):
        if not (band[y - 1, x] and band[y + 1, x] and band[y, x - 1] and band[y, x + 1]):
            continue
        ex += (0.5 * (tex[y, x + 1] - tex[y, x - 1])) ** 2
        ey += (0.5 * (tex[y + 1, x] - tex[y - 1, x])) ** 2
    return ex / ey


@pytest.mark.parametrize("stretch", [1, 3])
def test_streak_ratio_against_a_plain_loop(stretch):
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 12, (240 // stretch + 1, 300))
    texture = np.repeat(noise, stretch, axis=0)[:240]
    rgb, lm = _photo(texture), _landmarks()
    assert_allclose(streak_ratio(rgb, lm), _reference_ratio(rgb, lm), rtol=2e-3)


def test_stretched_texture_reads_streaky():
    """Isotropic grain reads about 1; the same grain drawn 3x taller (a few rows over many) far more."""
    rng = np.random.default_rng(5)
    lm = _landmarks()
    grain = rng.normal(0, 12, (240, 300))
    # each column's rows read 3x slower, cubic (as close_mouth's stretch resamples)
    stretched = cv2.resize(grain[:80], (300, 240), interpolation=cv2.INTER_CUBIC)
    plain, streaky = streak_ratio(_photo(grain), lm), streak_ratio(_photo(stretched), lm)
    assert 0.7 < plain < 1.4
    assert streaky > 1.8 * plain
    # horizontal streaks (texture drawn wider) read below 1
    wide = cv2.resize(grain[:, :100], (300, 240), interpolation=cv2.INTER_CUBIC)
    assert streak_ratio(_photo(wide), lm) < 0.6 * plain


def test_lip_band_leaves_out_the_edges_and_the_line():
    lm = _landmarks()
    band = lip_band((240, 300), lm)
    assert band.sum() > 1000
    ys, xs = np.nonzero(band)
    assert ys.min() > lm[48:60, 1].min() + 2 and ys.max() < lm[48:60, 1].max() - 2
    # nothing within 2 px of the line where the lips meet
    between = (xs > lm[60, 0]) & (xs < lm[64, 0])
    line = np.interp(xs[between], lm[60:65, 0], lm[60:65, 1])
    assert np.abs(ys[between] - line).min() > 2


def test_the_lower_lip_band_is_the_band_below_the_line():
    lm = _landmarks()
    both, lower = lip_band((240, 300), lm), lip_band((240, 300), lm, "lower")
    ys, xs = np.nonzero(both)
    # by hand: the band's pixels on or below the line where the lips meet (the inner lower points)
    line = np.interp(xs, lm[[60, 67, 66, 65, 64], 0], lm[[60, 67, 66, 65, 64], 1])
    below = np.zeros_like(both)
    below[ys[ys >= line], xs[ys >= line]] = True  # (fillPoly keeps the edge from 48 to 60 at y 110)
    assert lower.sum() > 500 and np.array_equal(lower, below)
    rng = np.random.default_rng(4)
    rgb = _photo(rng.normal(0, 12, (240, 300)))
    assert_allclose(streak_ratio(rgb, lm, "lower"), _reference_ratio(rgb, lm, below), rtol=2e-3)
    with pytest.raises(ValueError, match="lip: expected one of"):
        lip_band((240, 300), lm, "upper")


def test_no_band_gives_nan():
    lm = _landmarks(width=10.0)
    assert math.isnan(streak_ratio(_photo(np.zeros((240, 300))), lm))


def test_streak_error_and_summary():
    assert streak_error(2.0, 1.0) == pytest.approx(math.log(2.0))
    assert streak_error(0.5, 1.0) == pytest.approx(math.log(2.0))
    assert math.isnan(streak_error(float("nan"), 1.0)) and math.isnan(streak_error(1.0, 0.0))
    s = summarise_streaks({"real target": {"a": 1.0, "b": 2.0, "c": 1.0},
                           "x": {"a": 2.0, "b": 2.0, "c": float("nan")}})
    assert s["x"]["n"] == 2 and s["x"]["missing"] == 1
    assert s["x"]["error_median"] == pytest.approx(0.5 * math.log(2.0))
    assert s["x"]["ratio_median"] == pytest.approx(2.0)
    assert s["real target"]["error_mean"] == 0.0
