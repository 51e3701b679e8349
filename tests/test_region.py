"""Tests for pixelfes.models.region: the learned soft texture-change region."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from numpy.testing import assert_allclose

from conftest import face_layout
from pixelfes.models.region import face_hull, learn_region

S = 96
N = 24  # training pairs in each synthetic test




def disk(centre: np.ndarray, radius: float) -> np.ndarray:
    yy, xx = np.mgrid[0:S, 0:S]
    return ((xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 <= radius**2).astype(np.float64)


def textures(n: int, seed: int) -> np.ndarray:
    """``(n, S, S, 3)`` random smooth textures in [0.2, 0.8] (one 'person' each)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.2, 0.8, (n, S, S, 3))
    return np.stack([cv2.GaussianBlur(im, (0, 0), 2.0) for im in x])


@pytest.fixture
def ref() -> np.ndarray:
    return face_layout()


def test_region_is_one_where_pairs_change_and_zero_elsewhere(ref: np.ndarray) -> None:
    src = textures(N, 0)
    mouth = ref[48:60].mean(axis=0)
    change = disk(mouth, 5)
    tgt = np.clip(src + 0.15 * change[None, :, :, None], 0, 1)
    r = learn_region(src, tgt, ref)
    assert r.dtype == np.float32 and r.shape == (S, S)
    assert 0.0 <= r.min() and r.max() <= 1.0
    assert r[int(round(mouth[1])), int(round(mouth[0]))] > 0.95
    # no change anywhere else: zero beyond the reach of the two Gaussian blurs
    # (pre_sigma 1 * 64/192 and sigma 1 px, so 5 px from the disk is > 4 sigma)
    far = cv2.dilate(change.astype(np.uint8), np.ones((11, 11), np.uint8)) == 0
    assert_allclose(r[far], 0.0, atol=1e-3)
    # and exactly zero outside the face hull
    hull = face_hull(ref, S, ramp=S / 24)
    assert np.all(r[hull == 0] == 0)


def test_change_outside_the_hull_is_ignored(ref: np.ndarray) -> None:
    src = textures(N, 1)
    mouth = ref[48:60].mean(axis=0)
    corner = disk(np.array([4.0, 4.0]), 4)
    tgt = np.clip(src + 0.1 * disk(mouth, 4)[None, :, :, None] + 0.4 * corner[None, :, :, None], 0, 1)
    r = learn_region(src, tgt, ref)
    assert np.all(r[corner > 0] == 0)
    assert r.max() == 1.0


def test_mean_change_ignores_random_sign_changes(ref: np.ndarray) -> None:
    """A big change that goes either way (hair falling left/right) is not an expression."""
    src = textures(N, 2)
    mouth = ref[48:60].mean(axis=0)
    cheek = ref[2] + 0.5 * (ref[30] - ref[2])  # left cheek, inside the hull
    signs = np.where(np.arange(N) % 2 == 0, 1.0, -1.0)  # balanced: mean exactly zero
    nuisance = 0.2 * signs[:, None, None, None] * disk(cheek, 4)[None, :, :, None]
    tgt = src + 0.1 * disk(mouth, 4)[None, :, :, None] + nuisance
    tgt = np.clip(tgt, 0, 1)
    r = learn_region(src, tgt, ref, statistic="mean_change")
    c = (int(round(cheek[1])), int(round(cheek[0])))
    m = (int(round(mouth[1])), int(round(mouth[0])))
    assert r[m] > 0.95
    assert r[c] < 0.05
    # the plain mean |t - s| is fooled by it: the nuisance is the biggest change
    r_abs = learn_region(src, tgt, ref, statistic="abs")
    assert r_abs[c] > r_abs[m]


def test_contrast_subtracts_neutral_pair_changes(ref: np.ndarray) -> None:
    src = textures(N, 3)
    mouth = ref[48:60].mean(axis=0)
    brow = ref[17:22].mean(axis=0) + np.array([0.0, 3.0])
    # both the expression pairs and the neutral pairs change at the brow (lighting, say)
    rng = np.random.default_rng(4)
    drift = 0.2 * rng.uniform(0.5, 1.0, (N, 1, 1, 1)) * disk(brow, 4)[None, :, :, None]
    tgt = np.clip(src + 0.15 * disk(mouth, 4)[None, :, :, None] + drift, 0, 1)
    a = textures(N, 5)
    b = np.clip(a + drift, 0, 1)
    r = learn_region(src, tgt, ref, neutral_pairs=(a, b))
    b_px = (int(round(brow[1])), int(round(brow[0])))
    m_px = (int(round(mouth[1])), int(round(mouth[0])))
    assert r[m_px] > 0.95
    assert r[b_px] < 0.05
    # without the neutral pairs the consistent brow change would count
    assert learn_region(src, tgt, ref, statistic="abs")[b_px] > 0.5


def test_no_change_gives_an_all_zero_region(ref: np.ndarray) -> None:
    src = textures(4, 6)
    assert np.all(learn_region(src, src.copy(), ref) == 0)


def test_uint8_and_grayscale_inputs(ref: np.ndarray) -> None:
    src = textures(N, 7)
    mouth = ref[48:60].mean(axis=0)
    tgt = np.clip(src + 0.15 * disk(mouth, 5)[None, :, :, None], 0, 1)
    r_float = learn_region(src, tgt, ref)
    r_u8 = learn_region((src * 255).round().astype(np.uint8), (tgt * 255).round().astype(np.uint8), ref)
    assert_allclose(r_u8, r_float, atol=0.05)  # 8-bit rounding of a 0.15 step: < 2 %
    r_gray = learn_region(src[..., 0], tgt[..., 0], ref)
    assert r_gray.shape == (S, S) and r_gray.max() == 1.0


def test_face_hull_is_soft_inside_and_zero_outside(ref: np.ndarray) -> None:
    hull = face_hull(ref, S, ramp=4.0)
    centre = ref[30]
    assert hull[int(centre[1]), int(centre[0])] == 1.0
    assert hull[0, 0] == 0.0 and hull[S - 1, 0] == 0.0
    edge = (hull > 0) & (hull < 1)
    assert edge.any()
    # raised brows: the hull reaches above the highest brow point
    top = np.nonzero(hull.max(axis=1) > 0)[0].min()
    assert top < ref[17:27, 1].min() - 1


def test_errors(ref: np.ndarray) -> None:
    src = textures(3, 8)
    with pytest.raises(ValueError, match="neutral_pairs"):
        learn_region(src, src, ref, statistic="contrast")
    with pytest.raises(ValueError, match="statistic"):
        learn_region(src, src, ref, statistic="max")
    with pytest.raises(ValueError, match="same shape"):
        learn_region(src, src[:2], ref)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        learn_region(src * 2, src, ref)
    with pytest.raises(ValueError, match="square"):
        learn_region(src[:, :, :10], src[:, :, :10], ref)
    with pytest.raises(ValueError, match="neutral_pairs must be"):
        learn_region(src, src, ref, neutral_pairs=(src, src[:, :10]))
    with pytest.raises(ValueError, match=r"\(K, 2\)"):
        learn_region(src, src, ref[:, :1])
