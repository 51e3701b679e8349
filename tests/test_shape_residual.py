"""pixelfes.models.shape_residual (what the shape model leaves of a strong smile) and its use in native."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from pixelfes.models.shape import ShapeModel
from pixelfes.models.shape_residual import (
    FEATURES,
    ShapeResidual,
    fit_shape_residual,
    shape_features,
)
from pixelfes.splits import group_kfold


def faces(n: int, seed: int = 0) -> np.ndarray:
    """``(n, 68, 2)`` landmark sets: a real-ish layout (the bundled model's reference) plus per-face noise."""
    from pixelfes.pipeline import resolve_model

    ref = resolve_model("happy-to-neutral").reference_
    return ref + np.random.default_rng(seed).normal(0, 1.0, (n, 68, 2))


def plain_features(p: np.ndarray) -> list[float]:
    """The measures of one ``(68, 2)`` face written out point by point (the reference)."""
    def dist(a: int, b: int) -> float:
        return float(np.hypot(p[a, 0] - p[b, 0], p[a, 1] - p[b, 1]))
    le = [sum(p[k, 0] for k in range(36, 42)) / 6, sum(p[k, 1] for k in range(36, 42)) / 6]
    re = [sum(p[k, 0] for k in range(42, 48)) / 6, sum(p[k, 1] for k in range(42, 48)) / 6]
    iod = float(np.hypot(le[0] - re[0], le[1] - re[1]))
    centre = (p[51, 1] + p[57, 1] + p[62, 1] + p[66, 1]) / 4
    lift = ((centre - p[48, 1]) + (centre - p[54, 1])) / 2
    to_eye = ((p[48, 1] - le[1]) + (p[54, 1] - re[1])) / 2
    opening = (dist(37, 41) + dist(38, 40) + dist(43, 47) + dist(44, 46)) / 4
    lid_l = (p[36, 1] + p[39, 1]) / 2 - (p[40, 1] + p[41, 1]) / 2
    lid_r = (p[42, 1] + p[45, 1]) / 2 - (p[46, 1] + p[47, 1]) / 2
    vals = [lift, dist(54, 48), to_eye, opening, p[51, 1] - p[33, 1], dist(35, 31), (lid_l + lid_r) / 2]
    return [v / iod for v in vals]


def test_features_against_the_plain_formulas_and_scale_free() -> None:
    lm = faces(5)
    got = shape_features(lm)
    assert got.shape == (5, len(FEATURES))
    assert_allclose(got, [plain_features(p) for p in lm], rtol=0, atol=1e-12)
    # a face 2.5x larger, moved, reads the same (eye distances)
    assert_allclose(shape_features(2.5 * lm + (40.0, -7.0)), got, atol=1e-12)


def test_fit_equals_a_ridge_on_the_inner_fold_residuals() -> None:
    src = faces(30, seed=1)
    # a target whose motion depends on how high the corners sit: what a mean motion misses
    lift = shape_features(src)[:, 0]
    tgt = src + 0.5
    tgt[:, [48, 54], 1] += 40.0 * (lift - lift.mean())[:, None]
    groups = np.array([f"p{i // 2}" for i in range(30)])  # two pairs per person
    got = fit_shape_residual(src, tgt, groups, ridge=0.7)
    # reference: the residual fold by fold, then the ridge as an augmented least-squares problem
    res = np.zeros_like(src)
    for test in group_kfold(groups, 5, 0):
        train = np.setdiff1d(np.arange(30), test)
        res[test] = tgt[test] - ShapeModel("auto").fit(src[train], tgt[train], groups=groups[train]).predict(src[test])
    iod = np.linalg.norm(src[:, 36:42].mean(1) - src[:, 42:48].mean(1), axis=1)
    r = (res / iod[:, None, None]).reshape(30, -1)
    x = shape_features(src)
    z = (x - x.mean(0)) / x.std(0)
    aug = np.vstack([z, np.sqrt(0.7 * 30) * np.eye(z.shape[1])])
    want = np.linalg.lstsq(aug, np.vstack([r, np.zeros((z.shape[1], r.shape[1]))]), rcond=None)[0]
    assert_allclose(got.coef, want, atol=1e-9)
    assert_allclose(got.mean, x.mean(0), atol=1e-12)
    # delta: the standardised features times the coefficients, in this face's eye distances
    one = src[3]
    assert_allclose(got.delta(one), (((x[3] - x.mean(0)) / x.std(0)) @ want).reshape(68, 2) * iod[3], atol=1e-9)
    # the corner's dependence on its own height is what it learns: the corrected prediction is nearer
    new = faces(10, seed=2)
    nl = shape_features(new)[:, 0]
    truth = new + 0.5
    truth[:, [48, 54], 1] += 40.0 * (nl - lift.mean())[:, None]
    base = ShapeModel("auto").fit(src, tgt, groups=groups).predict(new)
    fixed = base + np.stack([got.delta(p) for p in new])
    assert np.abs(fixed - truth)[:, [48, 54], 1].mean() < 0.8 * np.abs(base - truth)[:, [48, 54], 1].mean()


def test_fit_errors() -> None:
    src = faces(10)
    with pytest.raises(ValueError, match="must both be"):
        fit_shape_residual(src, src[:, :60], np.arange(10))
    with pytest.raises(ValueError, match="one identity per pair"):
        fit_shape_residual(src, src, np.arange(9))


class _Shifted:
    """A shape model predicting ``inner``'s landmarks plus ``strength * shift`` (the plain reference)."""

    def __init__(self, inner: ShapeModel, shift: np.ndarray) -> None:
        self.inner, self.shift = inner, shift

    def _predict_checked(self, batch: np.ndarray, strength: float) -> np.ndarray:
        return self.inner._predict_checked(batch, strength) + strength * self.shift


@pytest.mark.parametrize("strength", [1.0, 0.6])
def test_native_adds_the_residual_closing_a_smile_only_when_switched_on(monkeypatch, strength) -> None:
    from pixelfes import native
    from pixelfes.pipeline import resolve_model

    model = copy.copy(resolve_model("happy-to-neutral"))
    lm = model.reference_ + np.random.default_rng(4).normal(0, 0.5, (68, 2))
    x = shape_features(lm[None])
    rng = np.random.default_rng(5)
    residual = ShapeResidual(x[0] - 0.01, np.full(len(FEATURES), 0.02), rng.normal(0, 0.01, (len(FEATURES), 136)))
    plain = native.target_shape(model, lm, strength, "closed")[0]
    model.shape_residual_ = residual
    assert_array_equal(native.target_shape(model, lm, strength, "closed")[0], plain)  # switch off: main's
    got = native.target_shape(model, lm, strength, "closed", reshape=True)[0]
    monkeypatch.setattr(native, "_NEUTRAL_RESIDUAL", True)  # the default follows the switch
    assert_array_equal(native.target_shape(model, lm, strength, "closed")[0], got)
    assert_array_equal(native.target_shape(model, lm, strength, "closed", reshape=False)[0], plain)
    ref = copy.copy(model)
    del ref.shape_residual_
    ref.shape_model_ = _Shifted(model.shape_model_, residual.delta(lm))
    assert_allclose(got, native.target_shape(ref, lm, strength, "closed")[0], atol=1e-9)
    assert np.abs(got - plain).max() > 0.1
    # a smile's model never takes it (neutral -> happy keeps main's bytes)
    smile = copy.copy(resolve_model("neutral-to-happy"))
    before = native.target_shape(smile, lm, strength, "closed")[0]
    smile.shape_residual_ = residual
    assert_array_equal(native.target_shape(smile, lm, strength, "closed", reshape=True)[0], before)
