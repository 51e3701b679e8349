"""The lips' junction beyond a smile's opening: its measure (pixelfes.evaluate.junction) against a
plain per-pixel reference (the candidate darkening it, pixelfes.mouth.junction, and its tests were
removed from main after 152500d: docs/mouth.md, "The lips' junction beyond the opening")."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pixelfes.evaluate import junction as measure
from pixelfes.evaluate.junction import junction_gaps, junction_numbers, junction_profile
from pixelfes.mouth.colour import lip_ring
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
