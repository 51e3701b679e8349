"""Each model against a plain implementation of the paper's formula, on tiny problems."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import pixelfes
from conftest import make_pairs
from pixelfes import GlobalRR, MaskedRR, NotFittedError, PixelKR, PixelRR


def f64(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float64) / 255.0


# -- plain references, one formula each, no tricks -------------------------------------
def ref_pixel_rr(x: np.ndarray, t: np.ndarray, lam: float, xq: np.ndarray) -> np.ndarray:
    """Eq. 6 solved pixel by pixel with a 2x2 linear solve."""
    n = len(x)
    xf, tf, qf = x.reshape(n, -1), t.reshape(n, -1), xq.reshape(len(xq), -1)
    out = np.empty_like(qf)
    for p in range(xf.shape[1]):
        xp, tp = xf[:, p], tf[:, p]
        a = np.array([[xp @ xp + lam, xp.sum()], [xp.sum(), n + lam]])
        w, b = np.linalg.solve(a, np.array([tp @ xp, tp.sum()]))
        out[:, p] = w * qf[:, p] + b
    return np.clip(out, 0, 1).reshape(xq.shape)


def ref_pixel_kr(x, t, lam, sigma, xq):
    """Eq. 14-16: c_p = t_p (K_p + lam I)^-1, y = c_p kappa(x), one N x N solve per pixel."""
    n = len(x)
    xf, tf, qf = x.reshape(n, -1), t.reshape(n, -1), xq.reshape(len(xq), -1)
    out = np.empty_like(qf)
    for p in range(xf.shape[1]):
        xp = xf[:, p]
        k = np.exp(-((xp[:, None] - xp[None, :]) ** 2) / (2 * sigma**2))
        c = np.linalg.solve(k + lam * np.eye(n), tf[:, p])  # K symmetric: t (K+lam I)^-1
        kappa = np.exp(-((xp[:, None] - qf[None, :, p]) ** 2) / (2 * sigma**2))
        out[:, p] = c @ kappa
    return np.clip(out, 0, 1).reshape(xq.shape)


def ref_masked(x, t, lam, k, xq):
    """Per output value: ridge on its zero-padded k x k same-channel patch plus a bias."""
    n, h, w, c = x.shape
    r = k // 2

    def patch(img, i, j, ch):
        vals = []
        for di in range(-r, r + 1):
            for dj in range(-r, r + 1):
                ii, jj = i + di, j + dj
                vals.append(img[ii, jj, ch] if 0 <= ii < h and 0 <= jj < w else 0.0)
        return np.array(vals + [1.0])

    out = np.empty(xq.shape)
    for i in range(h):
        for j in range(w):
            for ch in range(c):
                f = np.stack([patch(img, i, j, ch) for img in x])
                wts = np.linalg.solve(f.T @ f + lam * np.eye(k * k + 1), f.T @ t[:, i, j, ch])
                for m, img in enumerate(xq):
                    out[m, i, j, ch] = patch(img, i, j, ch) @ wts
    return np.clip(out, 0, 1)


def ref_global(x, t, lam, xq):
    """Eq. 2 in its primal form: W = [(X^T X + lam I)^-1 X^T T]^T, y = W x."""
    xf, tf = x.reshape(len(x), -1), t.reshape(len(t), -1)
    w = np.linalg.solve(xf.T @ xf + lam * np.eye(xf.shape[1]), xf.T @ tf).T
    return np.clip(xq.reshape(len(xq), -1) @ w.T, 0, 1).reshape(xq.shape)


# -- exactness --------------------------------------------------------------------------
def test_pixel_rr_matches_eq6(rng):
    x, t = make_pairs(rng)
    xq, _ = make_pairs(rng, n=5)
    model = PixelRR(lam=0.4).fit(x, t)
    assert_allclose(model.predict(f64(xq)), ref_pixel_rr(f64(x), f64(t), 0.4, f64(xq)), atol=1e-12)


def test_pixel_rr_exact_on_float_inputs(rng):
    x = rng.random((15, 4, 3, 2))
    t = rng.random((15, 4, 3, 2))
    model = PixelRR(lam=0.1).fit(x, t)
    assert_allclose(model.predict(x[:4]), ref_pixel_rr(x, t, 0.1, x[:4]), atol=1e-12)


def test_pixel_rr_uint8_fast_path_rounds_the_float_result(rng):
    x, t = make_pairs(rng, n=40)
    model = PixelRR().fit(x, t)
    exact = ref_pixel_rr(f64(x), f64(t), 0.4, f64(x))
    for strength in (1.0, 0.5, 1.5):
        want = f64(x) + strength * (ref_pixel_rr(f64(x), f64(t), 0.4, f64(x)) - f64(x))
        got = model.predict(x, strength=strength)
        assert got.dtype == np.uint8
        # float32 arithmetic then rounding to 8 bits: at most one level off the exact value
        assert np.abs(got.astype(float) - np.clip(want, 0, 1) * 255).max() <= 0.5 + 1e-3
    assert exact.shape == x.shape


@pytest.mark.parametrize("sigma", [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0])
def test_pixel_kr_matches_eq14_15(rng, sigma):
    x, t = make_pairs(rng, n=30, h=3, w=3, c=2, distinct=25)
    xq = rng.integers(0, 256, size=(4, 3, 3, 2)).astype(np.uint8)  # any level, seen or not
    model = PixelKR(lam=0.4, sigma=sigma).fit(x, t)
    want = ref_pixel_kr(f64(x), f64(t), 0.4, sigma, f64(xq))
    assert np.abs(model.predict(f64(xq)) - want).max() < 1e-6
    # uint8 in -> the same values rounded to 8 bits
    assert np.abs(model.predict(xq).astype(float) / 255 - want).max() <= 0.5 / 255 + 1e-9


@pytest.mark.parametrize("sigma", [0.3, 3.0])
def test_pixel_kr_off_grid_float_inputs_match_eq15(rng, sigma):
    x, t = make_pairs(rng, n=20, h=2, w=3, c=1)
    xq = rng.random((3, 2, 3, 1))  # not on the 8-bit grid: Nystroem extension path
    model = PixelKR(lam=0.4, sigma=sigma).fit(x, t)
    assert_allclose(model.predict(xq), ref_pixel_kr(f64(x), f64(t), 0.4, sigma, xq), atol=1e-6)


def test_pixel_kr_rank_is_small_for_large_sigma(rng):
    x, t = make_pairs(rng)
    assert PixelKR(sigma=3.0).fit(x, t).rank_ <= 8
    assert PixelKR(sigma=0.01).fit(x, t).rank_ > 200


def test_masked_rr_matches_reference(rng):
    x, t = make_pairs(rng, n=20, h=5, w=4, c=2)
    xq, _ = make_pairs(rng, n=3, h=5, w=4, c=2)
    for k in (1, 3):
        model = MaskedRR(lam=0.4, k=k).fit(x, t)
        assert_allclose(model.predict(f64(xq)), ref_masked(f64(x), f64(t), 0.4, k, f64(xq)), atol=1e-10)


def test_global_rr_dual_form_matches_primal_eq2(rng):
    x, t = make_pairs(rng, n=10, h=4, w=4, c=1)
    xq, _ = make_pairs(rng, n=3, h=4, w=4, c=1)
    model = GlobalRR(lam=0.4).fit(x, t)
    assert_allclose(model.predict(f64(xq)), ref_global(f64(x), f64(t), 0.4, f64(xq)), atol=1e-10)


# -- invariances ------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [PixelRR, PixelKR, MaskedRR])
def test_fit_in_ten_batches_equals_fit_once(rng, cls):
    x, t = make_pairs(rng, n=50)
    once = cls().fit(x, t)
    streamed = cls()
    for xb, tb in zip(np.array_split(x, 10), np.array_split(t, 10), strict=True):
        streamed.partial_fit(xb, tb)
    assert streamed.n_samples_seen_ == 50
    assert_allclose(streamed.predict(f64(x)), once.predict(f64(x)), atol=1e-12)


@pytest.mark.parametrize("cls", [PixelRR, PixelKR])
def test_merging_statistics_equals_fit_on_union(rng, cls):
    x, t = make_pairs(rng, n=40)
    a, b = cls().fit(x[:15], t[:15]), cls().fit(x[15:], t[15:])
    merged = a.merge(b)
    assert_allclose(merged.predict(f64(x)), cls().fit(x, t).predict(f64(x)), atol=1e-12)
    stats, whole = a.stats_ + b.stats_, cls().fit(x, t).stats_
    assert stats.n == 40
    assert_allclose(stats.sxt, whole.sxt, rtol=1e-12)
    if cls is PixelKR:
        assert_array_equal(stats.counts, whole.counts)
        assert_allclose(stats.tsums, whole.tsums, rtol=1e-12)


@pytest.mark.parametrize("cls", [PixelRR, PixelKR, GlobalRR])
def test_duplicating_every_pair_equals_halving_lambda(rng, cls):
    x, t = make_pairs(rng, n=12)
    doubled = cls(lam=0.4).fit(np.concatenate([x, x]), np.concatenate([t, t]))
    halved = cls(lam=0.2).fit(x, t)
    assert_allclose(doubled.predict(f64(x)), halved.predict(f64(x)), atol=1e-9)


def test_target_equal_to_input_with_small_lambda_is_identity(rng):
    x, _ = make_pairs(rng, n=30, distinct=40)
    model = PixelRR(lam=1e-9).fit(x, x)
    assert_allclose(model.predict(f64(x)), f64(x), atol=1e-6)


@pytest.mark.parametrize("cls", [PixelRR, PixelKR, MaskedRR, GlobalRR])
def test_strength_blends_and_zero_is_the_input(rng, cls):
    x, t = make_pairs(rng, n=20)
    model = cls().fit(x, t)
    xf = f64(x[:3])
    assert_array_equal(model.predict(x[:3], strength=0), x[:3])
    assert_array_equal(model.predict(xf, strength=0.0), xf)
    full = model.predict(xf)
    assert_allclose(model.predict(xf, strength=0.5), xf + 0.5 * (full - xf), atol=1e-12)
    assert_allclose(model.predict(xf, strength=1.5), np.clip(xf + 1.5 * (full - xf), 0, 1), atol=1e-12)


@pytest.mark.parametrize("cls", [PixelRR, PixelKR, MaskedRR, GlobalRR])
def test_dtype_and_layout_round_trip(rng, cls):
    x, t = make_pairs(rng, n=10, c=1)
    model = cls().fit(x[..., 0], t[..., 0])  # (N, H, W) grayscale
    y = model.predict(x[:2, ..., 0])
    assert y.shape == (2, 6, 5) and y.dtype == np.uint8
    y32 = model.predict(f64(x[:2, ..., 0]).astype(np.float32))
    assert y32.dtype == np.float32 and y32.min() >= 0 and y32.max() <= 1


# -- bad input --------------------------------------------------------------------------
def test_bad_inputs_raise_clear_errors(rng):
    x, t = make_pairs(rng, n=6)
    with pytest.raises(ValueError, match="same shape"):
        PixelRR().fit(x, t[:5])
    with pytest.raises(ValueError, match="empty batch"):
        PixelRR().fit(x[:0], t[:0])
    bad = f64(x)
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        PixelRR().fit(bad, f64(t))
    with pytest.raises(ValueError, match="dtype int32"):
        PixelRR().fit(x.astype(np.int32), t.astype(np.int32))
    with pytest.raises(ValueError, match=r"floats in \[0, 1\]"):
        PixelRR().fit(f64(x) * 2, f64(t))
    with pytest.raises(ValueError, match="shaped"):
        PixelRR().fit(x[0, 0], t[0, 0])
    with pytest.raises(NotFittedError, match="not fitted"):
        PixelKR().predict(x)
    model = PixelRR().fit(x, t)
    with pytest.raises(ValueError, match="trained on"):
        model.predict(x[:, :4])
    with pytest.raises(ValueError, match="lam must be a positive"):
        PixelRR(lam=-1).fit(x, t)
    with pytest.raises(ValueError, match="sigma must be a positive"):
        PixelKR(sigma=0).fit(x, t)
    with pytest.raises(ValueError, match="odd positive"):
        MaskedRR(k=2).fit(x, t)
    with pytest.raises(ValueError, match="strength must be finite"):
        model.predict(x, strength=float("inf"))
    with pytest.raises(ValueError, match="earlier batches"):
        PixelRR().partial_fit(x, t).partial_fit(x[:, :3], t[:, :3])


def test_refit_starts_from_scratch(rng):
    x, t = make_pairs(rng, n=20)
    model = PixelKR().fit(x[:5], t[:5]).fit(x, t)
    assert model.n_samples_seen_ == 20
    assert_allclose(model.predict(f64(x)), PixelKR().fit(x, t).predict(f64(x)))


def test_make_model_by_name():
    assert isinstance(pixelfes.make_model("pixel-kr", sigma=1.0), PixelKR)
    with pytest.raises(ValueError, match="unknown model type"):
        pixelfes.make_model("gan")


@pytest.mark.parametrize("strength", [0.5, 1.5])
def test_pixel_kr_uint8_lookup_blends_like_the_float_reference(rng, strength):
    """The uint8 look-up table path equals Eq. 15 blended by ``x + a (f(x) - x)``, rounded."""
    x, t = make_pairs(rng, n=30, h=3, w=3, c=2, distinct=25)
    xq = rng.integers(0, 256, size=(6, 3, 3, 2)).astype(np.uint8)
    model = PixelKR(lam=0.4, sigma=0.3).fit(x, t)
    f = ref_pixel_kr(f64(x), f64(t), 0.4, 0.3, f64(xq))
    want = np.clip(f64(xq) + strength * (f - f64(xq)), 0, 1)
    got = model.predict(xq, strength=strength)
    assert got.dtype == np.uint8
    assert np.abs(got.astype(float) / 255 - want).max() <= 0.5 / 255 + 1e-9


# -- alignment: recorded by fit, one default, checked ---------------------------------------
def test_fit_records_the_alignment(rng):
    x, t = make_pairs(rng, n=6)  # 6x5 crops: no alignment can say that
    assert PixelRR().fit(x, t).alignment_ is None
    sq = rng.integers(0, 256, (4, 192, 192, 1)).astype(np.uint8)
    assert PixelRR().fit(sq, sq).alignment_ == pixelfes.DEFAULT_ALIGNMENT  # the one default
    paper = pixelfes.Alignment(size=192, margin=1.0)
    assert PixelRR().fit(sq, sq, alignment=paper).alignment_ == paper
    with pytest.raises(ValueError, match="alignment says 64 px crops"):
        PixelRR().fit(sq, sq, alignment=pixelfes.Alignment(size=64))
    with pytest.raises(TypeError, match="pixelfes.Alignment"):
        PixelRR().fit(sq, sq, alignment={"size": 192})  # type: ignore[arg-type]
    streamed = PixelRR().partial_fit(sq[:2], sq[:2], alignment=paper).partial_fit(sq[2:], sq[2:])
    assert streamed.alignment_ == paper
    with pytest.raises(ValueError, match="differs from earlier batches"):
        streamed.partial_fit(sq, sq, alignment=pixelfes.DEFAULT_ALIGNMENT)
    with pytest.raises(ValueError, match="different alignments"):
        streamed.merge(PixelRR().fit(sq, sq))


@pytest.mark.parametrize("cls", [PixelRR, MaskedRR])
def test_partial_fit_on_a_loaded_model_is_refused(rng, tmp_path, cls):
    """A loaded model has no running sums: streaming into it must not silently start over."""
    x, t = make_pairs(rng, n=8)
    loaded = pixelfes.load(cls().fit(x, t).save(tmp_path / "m.safetensors"))
    with pytest.raises(ValueError, match="without its training statistics"):
        loaded.partial_fit(x, t)
