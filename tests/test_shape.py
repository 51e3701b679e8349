"""Tests for pixelfes.models.shape: the landmark shape model."""

from __future__ import annotations

import json

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from pixelfes.models.base import NotFittedError
from pixelfes.models.shape import ShapeModel, point_error

K = 12


def random_shapes(n: int, seed: int = 0) -> np.ndarray:
    """``(n, K, 2)`` landmark sets: a fixed layout plus a few pixels of per-face variation."""
    rng = np.random.default_rng(seed)
    base = np.random.default_rng(99).uniform(20, 80, (K, 2))
    return base + rng.normal(0, 3.0, (n, K, 2))


def test_mean_recovers_planted_displacement() -> None:
    src = random_shapes(30)
    shift = np.random.default_rng(1).normal(0, 2.0, (K, 2))
    m = ShapeModel(method="mean").fit(src, src + shift)
    new = random_shapes(5, seed=2)
    assert_allclose(m.predict(new), new + shift, atol=1e-12)
    assert m.method_ == "mean"


def test_ridge_recovers_planted_per_point_affine_motion() -> None:
    src = random_shapes(40)
    rng = np.random.default_rng(3)
    shift = rng.normal(0, 2.0, (K, 2))
    slope = rng.normal(0, 0.3, (K, 2, 2))
    mu = src.mean(axis=0)
    tgt = src + shift + np.einsum("nki,kij->nkj", src - mu, slope)
    m = ShapeModel(method="ridge", lam=1e-9).fit(src, tgt)
    # exact data, lam 1e-9 against a Gram matrix of ~40 * 9: bias ~1e-11 relative
    assert_allclose(m.coef_, slope, atol=1e-8)
    new = random_shapes(5, seed=4)
    want = new + shift + np.einsum("nki,kij->nkj", new - mu, slope)
    assert_allclose(m.predict(new), want, atol=1e-8)


def test_linear_recovers_planted_global_linear_motion() -> None:
    src = random_shapes(60)  # N > 2K: the primal system is well determined
    rng = np.random.default_rng(5)
    a = rng.normal(0, 0.05, (2 * K, 2 * K))
    mu = src.mean(axis=0)
    tgt = src + 1.0 + ((src - mu).reshape(60, -1) @ a).reshape(60, K, 2)
    m = ShapeModel(method="linear", lam=1e-9).fit(src, tgt)
    assert_allclose(m.coef_, a, atol=1e-7)  # as above, conditioning of a 24 x 24 Gram matrix


def test_linear_dual_form_equals_primal() -> None:
    src = random_shapes(10)  # N < 2K: dual form
    tgt = random_shapes(10, seed=7)
    m = ShapeModel(method="linear", lam=5.0).fit(src, tgt)
    x = (src - src.mean(0)).reshape(10, -1)
    d = (tgt - src - (tgt - src).mean(0)).reshape(10, -1)
    primal = np.linalg.solve(x.T @ x + 5.0 * np.eye(2 * K), x.T @ d)
    assert_allclose(m.coef_, primal, atol=1e-10)


def test_strength() -> None:
    src = random_shapes(20)
    m = ShapeModel(method="ridge", lam=10.0).fit(src, src + 2.0)
    new = random_shapes(3, seed=8)
    assert_array_equal(m.predict(new, strength=0.0), new)
    full = m.predict(new)
    assert_allclose(m.predict(new, strength=0.5), 0.5 * (new + full), atol=1e-12)
    assert_allclose(m.predict(new, strength=2.0) - new, 2 * (full - new), atol=1e-12)
    assert m.predict(new[0]).shape == (K, 2)  # a single shape in, a single shape out


def test_large_lam_ridge_is_mean() -> None:
    src, tgt = random_shapes(20), random_shapes(20, seed=9)
    ridge = ShapeModel(method="ridge", lam=1e12).fit(src, tgt)
    mean = ShapeModel(method="mean").fit(src, tgt)
    new = random_shapes(4, seed=10)
    assert_allclose(ridge.predict(new), mean.predict(new), atol=1e-6)  # slope ~ 1/lam


def test_duplicating_pairs_equals_halving_lam() -> None:
    src, tgt = random_shapes(15), random_shapes(15, seed=11)
    once = ShapeModel(method="ridge", lam=4.0).fit(src, tgt)
    twice = ShapeModel(method="ridge", lam=8.0).fit(np.concatenate([src, src]), np.concatenate([tgt, tgt]))
    assert_allclose(once.coef_, twice.coef_, atol=1e-12)


def test_auto_picks_ridge_for_per_point_motion_and_mean_for_constant() -> None:
    rng = np.random.default_rng(12)
    src = random_shapes(60)
    groups = np.repeat(np.arange(30), 2)  # two pairs per "person"
    mu = src.mean(0)
    tgt = src + 1.5 + 0.5 * (src - mu) + rng.normal(0, 0.3, src.shape)
    m = ShapeModel(method="auto").fit(src, tgt, groups=groups)
    assert m.method_ in ("ridge", "linear")
    assert m.cv_errors_[f"ridge(lam={m.lam_:g})"] < m.cv_errors_["mean"] < m.cv_errors_["none"]
    flat = src + 1.5 + rng.normal(0, 0.3, src.shape)
    m2 = ShapeModel(method="auto", lams=(1e-3, 1e-2)).fit(src, flat, groups=groups)
    assert m2.method_ == "mean"
    assert set(m2.cv_errors_) == {"none", "mean", "ridge(lam=0.001)", "ridge(lam=0.01)",
                                  "linear(lam=0.001)", "linear(lam=0.01)"}


def test_refit_starts_from_scratch() -> None:
    src, tgt = random_shapes(20), random_shapes(20, seed=13)
    m = ShapeModel(method="auto").fit(src, tgt)
    assert hasattr(m, "cv_errors_")
    m.method = "mean"
    m.fit(src, tgt)
    assert not hasattr(m, "cv_errors_") and m.method_ == "mean"


def test_arrays_round_trip() -> None:
    src, tgt = random_shapes(30), random_shapes(30, seed=14)
    for method in ("mean", "ridge", "linear", "auto"):
        m = ShapeModel(method=method, lam=3.0).fit(src, tgt)
        arrays, params = m.to_arrays()
        json.dumps(params)
        assert all(a.dtype == np.float64 for a in arrays.values())
        again = ShapeModel.from_arrays(arrays, params)
        assert again.method_ == m.method_ and again.lam_ == m.lam_
        assert_array_equal(again.predict(src), m.predict(src))
    with pytest.raises(ValueError, match="format"):
        ShapeModel.from_arrays(arrays, {**params, "format": 99})
    with pytest.raises(ValueError, match="do not fit"):
        ShapeModel.from_arrays({**arrays, "coef": np.zeros((3, 3))}, params)


def test_errors() -> None:
    with pytest.raises(NotFittedError, match="not fitted"):
        ShapeModel().predict(random_shapes(1)[0])
    with pytest.raises(ValueError, match="method"):
        ShapeModel(method="svm").fit(random_shapes(4), random_shapes(4))
    with pytest.raises(ValueError, match=r"same shape"):
        ShapeModel().fit(random_shapes(4), random_shapes(5))
    with pytest.raises(ValueError, match=r"\(N, K, 2\)"):
        ShapeModel().fit(np.zeros((4, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="groups"):
        ShapeModel().fit(random_shapes(10), random_shapes(10), groups=np.arange(3))
    with pytest.raises(ValueError, match="lam must be > 0"):
        ShapeModel(method="ridge", lam=0).fit(random_shapes(4), random_shapes(4))
    m = ShapeModel(method="mean").fit(random_shapes(4), random_shapes(4))
    with pytest.raises(ValueError, match=rf"\({K}, 2\)"):
        m.predict(np.zeros((5, 2)))
    with pytest.raises(TypeError, match="strength"):
        m.predict(random_shapes(1), strength="big")


def test_point_error() -> None:
    a = np.zeros((2, 3, 2))
    b = a.copy()
    b[..., 0] = 3.0
    b[..., 1] = 4.0
    assert point_error(a, b) == 5.0
