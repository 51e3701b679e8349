"""The shape + texture model on small synthetic faces with a planted expression."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import pixelfes
from conftest import face_layout
from pixelfes.models.shape_texture import ShapeTextureModel
from pixelfes.warp import PiecewiseAffineWarp

S = 96


def smile(points: np.ndarray) -> np.ndarray:
    """Planted motion: mouth corners 3 px out and 2 px up."""
    out = points.copy()
    out[[48, 60], 0] -= 3
    out[[54, 64], 0] += 3
    out[[48, 54, 60, 64], 1] -= 2
    return out


def synthetic_pairs(n: int, seed: int = 0):
    """Faces = smooth texture + dark mouth line; targets = planted motion + brighter mouth."""
    rng = np.random.default_rng(seed)
    base = face_layout(S)
    warp = PiecewiseAffineWarp(base, S)
    xs, ts, ls, lt = [], [], [], []
    for _ in range(n):
        lm = base + rng.normal(0, 0.6, base.shape)
        tex = cv2.GaussianBlur(rng.uniform(60, 200, (S, S, 3)), (0, 0), 3)
        mouth = np.zeros((S, S), np.float64)
        cv2.fillConvexPoly(mouth, np.rint(lm[48:60]).astype(np.int32), 1.0)
        x = np.clip(tex - 50 * mouth[..., None], 0, 255).astype(np.uint8)
        lt_i = smile(lm)
        moved = warp.warp(x, lm, lt_i)
        tmouth = warp.warp(mouth.astype(np.float32), lm, lt_i)
        t = np.clip(moved + 40 * tmouth[..., None], 0, 255).astype(np.uint8)
        xs.append(x)
        ts.append(t)
        ls.append(lm)
        lt.append(lt_i)
    return np.stack(xs), np.stack(ts), np.stack(ls), np.stack(lt)


@pytest.fixture(scope="module")
def fitted():
    X, T, Ls, Lt = synthetic_pairs(24)
    model = ShapeTextureModel(shape="mean", texture_gain=1.0).fit(X, T, landmarks_source=Ls, landmarks_target=Lt)
    return model, synthetic_pairs(4, seed=7)


def test_recovers_planted_motion_and_texture(fitted):
    model, (X, T, Ls, Lt) = fitted
    assert_allclose(model.predict_shape(Ls[0]), Lt[0], atol=0.35)  # noise 0.6 px / sqrt(24)
    Y = model.predict(X, landmarks=Ls)
    err_model = np.abs(Y.astype(float) - T).mean()
    err_input = np.abs(X.astype(float) - T).mean()
    assert err_model < 0.5 * err_input


def test_strength_zero_is_the_identity_and_strength_scales(fitted):
    model, (X, _, Ls, _) = fitted
    assert_array_equal(model.predict(X, landmarks=Ls, strength=0), X)
    small = np.abs(model.predict(X, landmarks=Ls, strength=0.5).astype(float) - X).mean()
    full = np.abs(model.predict(X, landmarks=Ls, strength=1.0).astype(float) - X).mean()
    assert 0 < small < full


def test_region_stays_off_where_pairs_do_not_differ(fitted):
    model, _ = fitted
    assert model.region_.max() == pytest.approx(1.0)
    assert model.region_[:15].max() == 0.0  # forehead and hair: nothing changes there


def test_fold_over_is_caught_and_the_motion_limited(fitted):
    model, (_, _, Ls, _) = fitted
    shape = model.shape_model_
    saved = shape.mean_disp_.copy()
    try:
        shape.mean_disp_ = saved.copy()
        shape.mean_disp_[62, 1] += 30.0  # upper inner lip dragged through the lower lip
        wanted = shape.predict(Ls[0])
        assert model.warp_.find_folds(wanted).any()
        used = model.predict_shape(Ls[0])
        assert not model.warp_.find_folds(used).any()
        assert 0 < np.abs(used - Ls[0]).max() < np.abs(wanted - Ls[0]).max()
    finally:
        shape.mean_disp_ = saved


def test_save_load_round_trip(tmp_path, fitted):
    model, (X, _, Ls, _) = fitted
    model.info.update(source="neutral", target="happy")
    loaded = pixelfes.load(model.save(tmp_path / "st.safetensors", precision="float64"))
    assert isinstance(loaded, ShapeTextureModel) and loaded.get_params() == model.get_params()
    assert_array_equal(loaded.warp_.simplices, model.warp_.simplices)
    assert_array_equal(loaded.predict(X, landmarks=Ls), model.predict(X, landmarks=Ls))
    small = pixelfes.load(model.save(tmp_path / "st16.safetensors", precision="float16"))
    assert np.abs(small.predict(X, landmarks=Ls).astype(int) - model.predict(X, landmarks=Ls)).mean() < 0.5


@pytest.mark.parametrize("texture", ["pixel-kr", "mr"])
def test_other_texture_models_and_grayscale(texture):
    X, T, Ls, Lt = synthetic_pairs(10)
    gray = X[..., :1], T[..., :1]
    model = ShapeTextureModel(texture=texture, shape="mean").fit(*gray, landmarks_source=Ls, landmarks_target=Lt)
    Y = model.predict(gray[0][:2], landmarks=Ls[:2])
    assert Y.shape == (2, S, S, 1) and Y.dtype == np.uint8
    assert model.texture_model_.model_type == texture


def test_errors():
    X, T, Ls, Lt = synthetic_pairs(4)
    with pytest.raises(ValueError, match="landmarks_source"):
        ShapeTextureModel().fit(X, T)
    with pytest.raises(ValueError, match=r"\(N, K, 2\)"):
        ShapeTextureModel().fit(X, T, landmarks_source=Ls[:3], landmarks_target=Lt)
    model = ShapeTextureModel(shape="mean").fit(X, T, landmarks_source=Ls, landmarks_target=Lt)
    with pytest.raises(ValueError, match="landmarks"):
        model.predict(X)
    with pytest.raises(ValueError, match="texture_gain"):
        ShapeTextureModel(texture_gain=-1).fit(X, T, landmarks_source=Ls, landmarks_target=Lt)
    with pytest.raises(ValueError, match="unknown model type"):
        ShapeTextureModel(texture="gan").fit(X, T, landmarks_source=Ls, landmarks_target=Lt)


def test_texture_gain_amplifies_only_the_average_change():
    X, T, Ls, Lt = synthetic_pairs(12)
    one = ShapeTextureModel(shape="mean", texture_gain=1.0).fit(X, T, landmarks_source=Ls, landmarks_target=Lt)
    three = ShapeTextureModel(shape="mean", texture_gain=3.0).fit(X, T, landmarks_source=Ls, landmarks_target=Lt)
    mean = one.mean_source_
    average = one.texture_model_.predict(mean[None])[0].astype(np.float32) - mean
    assert_allclose(one._average_change, average)  # the mean face's change, gain-free
    assert np.any(one.predict(X, landmarks=Ls) != three.predict(X, landmarks=Ls))
    # set_params on a fitted model takes effect at once (no stale precomputed change)
    one.set_params(texture_gain=3.0)
    assert_array_equal(one.predict(X, landmarks=Ls), three.predict(X, landmarks=Ls))


def _composed(model, img, lm, a):
    """The model's synthesis written out from its parts: motion lm + a (pred - lm), one cubic
    warp of the input, and a times the texture change warped onto the predicted shape."""
    from pixelfes.warp import remap

    pred = model.shape_model_.predict(lm)  # strength 1, then blended here
    target = lm + a * (pred - lm)
    tri = model.warp_.triangulation
    raster = tri.raster(target)
    moved = remap(img, raster.backward_map(tri.full_points(lm)), interpolation="cubic")
    ref = model.warp_.to_reference(img, lm).reshape(img.shape)
    mean = model.mean_source_
    f = model.texture_model_.predict
    change = (f(ref[None])[0].astype(np.float32) - ref
              + np.float32(model.texture_gain - 1) * (f(mean[None])[0].astype(np.float32) - mean))
    change *= model.region_[..., None].astype(np.float32)
    back = remap(change, raster.backward_map(tri.full_points(model.reference_)),
                 interpolation="linear")
    return np.clip(np.rint(moved.astype(np.float32) + np.float32(a) * back), 0, 255)


@pytest.mark.parametrize("a", [0.5, 1.0, 1.5])
def test_synthesis_equals_its_formula(a):
    """Motion lm + a (pred - lm) and texture a * change: pinned against the written-out formula."""
    X, T, Ls, Lt = synthetic_pairs(16)
    model = ShapeTextureModel(shape="mean", texture_gain=2.5).fit(
        X, T, landmarks_source=Ls, landmarks_target=Lt)
    Xq, _, Lq, _ = synthetic_pairs(3, seed=11)
    for img, lm in zip(Xq, Lq, strict=True):
        pred = model.predict_shape(lm, strength=1.0)
        assert model.warp_.limit_motion(lm, pred) >= 1.0  # small motion: no fold limiting here
        assert_allclose(model.predict_shape(lm, strength=a), lm + a * (pred - lm), atol=1e-12)
        got = model.predict(img[None], landmarks=lm[None], strength=a)[0]
        assert np.abs(got.astype(int) - _composed(model, img, lm, a)).max() <= 1


def test_texture_change_is_linear_in_strength():
    """With no motion, output - input = a * (texture change): doubling a doubles the change."""
    X, T, Ls, _ = synthetic_pairs(16)
    model = ShapeTextureModel(shape="mean").fit(X, T, landmarks_source=Ls, landmarks_target=Ls)
    x, lm = X[:1], Ls[:1]
    d = {a: model.predict(x, landmarks=lm, strength=a).astype(float) - x for a in (0.5, 1.0)}
    ok = (np.abs(d[1.0]) > 2) & (x.astype(float) + 2 * d[1.0] > 0) & (x + 2 * d[1.0] < 255)
    assert ok.sum() > 100  # the texture model changes these pixels, far from clipping
    assert np.abs(d[1.0][ok] - 2 * d[0.5][ok]).max() <= 1.0  # 8-bit rounding of each output
