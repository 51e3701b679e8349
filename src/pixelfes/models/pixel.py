"""The paper's pixel models: Pixel-RR (Eq. 3-6) and Pixel-KR (Eq. 8-16).

Both read one input value per output value and are fitted from the same streaming
statistics (``pixelfes.stats.PixelStats``). Pixel-KR uses the two facts of
``docs/design.md`` section 2: with 8-bit inputs, kernel ridge regression on N samples equals weighted
KRR on the 256 distinct levels, and the Gaussian Gram matrix of those levels is
numerically low-rank, so each pixel is a ridge regression on r shared basis functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import Batch, as_batch, blend, check_pair
from ..alignment import Alignment
from ..stats import PixelStats
from .base import ExpressionModel, check_streaming, default_info, fit_alignment

_CHUNK = 32  # crops per block in the uint8 fast paths: keeps blocks in cache


class _PixelModel(ExpressionModel):
    """Shared streaming machinery: ``partial_fit``, ``fit_stats`` and ``merge`` over ``stats_``."""

    fits_from_stats = True

    def _fit_values(self, x: np.ndarray, t: np.ndarray) -> None:
        self.stats_ = PixelStats(x.shape[1:], histograms=self.needs_histograms).update(x, t)
        self._solve()

    def partial_fit(self, X: np.ndarray, T: np.ndarray, *,
                    alignment: Alignment | None = None) -> _PixelModel:
        """Add a batch of pairs to the statistics and re-solve (same result as one fit)."""
        self._validate_params()
        x, t = as_batch(X, "X"), as_batch(T, "T")
        check_pair(x, t)
        self.alignment_ = check_streaming(self, x, alignment, "stats_")
        if not hasattr(self, "stats_"):
            self.image_shape_ = x.image_shape
            self.stats_ = PixelStats(x.image_shape, histograms=self.needs_histograms)
        self.stats_.update(x.values, t.values)
        self.n_samples_seen_ = self.stats_.n
        self._solve()
        return self

    def fit_stats(self, stats: PixelStats, *, alignment: Alignment | None = None) -> _PixelModel:
        """Fit from precomputed statistics (e.g. shards merged with ``+``). Returns self."""
        self._validate_params()
        if self.needs_histograms and not stats.histograms:
            raise ValueError(f"{type(self).__name__} needs statistics with histograms")
        if stats.n == 0:
            raise ValueError("the statistics hold no training pairs")
        align = fit_alignment(alignment, stats.image_shape)
        self._reset()
        self.image_shape_ = stats.image_shape
        self.alignment_ = align
        self.stats_ = stats
        self.n_samples_seen_ = stats.n
        self._solve()
        return self

    def merge(self, other: _PixelModel) -> _PixelModel:
        """A new model fitted on both models' training data (statistics added)."""
        if type(other) is not type(self) or other.get_params() != self.get_params():
            raise ValueError(f"can only merge two {type(self).__name__} with equal parameters")
        for m in (self, other):
            m._check_fitted()
            if not hasattr(m, "stats_"):
                raise ValueError("merge needs models that keep their statistics (not loaded ones)")
        if self.alignment_ != other.alignment_:
            raise ValueError(f"cannot merge models of different alignments: {self.alignment_} "
                             f"and {other.alignment_}")
        new = type(self)(**self.get_params())
        new.info = dict(self.info)
        new.image_shape_ = self.image_shape_
        new.alignment_ = self.alignment_
        new.stats_ = self.stats_ + other.stats_
        new.n_samples_seen_ = new.stats_.n
        new._solve()
        return new

    def _solve(self) -> None:
        raise NotImplementedError


class PixelRR(_PixelModel):
    """Pixel-based ridge regression: ``y_p = w_p x_p + b_p`` (paper Eq. 3-6).

    The ridge penalty ``lam / 2 (w_p^2 + b_p^2)`` regularises the bias too, exactly as
    the paper writes it. Two numbers per pixel-channel.
    """

    model_type = "pixel-rr"
    _param_names = ("lam",)

    def __init__(self, lam: float = 0.4) -> None:
        self.lam = lam
        self.info = default_info()

    def _solve(self) -> None:
        s, lam = self.stats_, float(self.lam)
        # Eq. 6: [[Sxx + lam, Sx], [Sx, N + lam]] [w, b]^T = [Sxt, St]^T, solved in closed form.
        a11, a12, a22 = s.sxx + lam, s.sx, s.n + lam
        det = a11 * a22 - a12 * a12
        w = (a22 * s.sxt - a12 * s.st) / det
        b = (a11 * s.st - a12 * s.sxt) / det
        self.coef_ = w.reshape(self.image_shape_)
        self.intercept_ = b.reshape(self.image_shape_)

    def _predict_values(self, x: np.ndarray) -> np.ndarray:
        return self.coef_ * x + self.intercept_

    def _predict_uint8(self, x: Batch, strength: float) -> np.ndarray:
        # y = x + a (w x + b - x) is still affine: fold strength into w and b, then work in
        # 0..255 float32 blocks small enough to stay in cache (10x faster than one big pass).
        w = blend(1.0, self.coef_, strength).astype(np.float32).ravel()
        b = (255.0 * blend(0.0, self.intercept_, strength)).astype(np.float32).ravel() + np.float32(0.5)
        src = x.raw.reshape(len(x.raw), -1)
        return _blocked_affine(src, w, b).reshape(x.raw.shape)

    def _state(self) -> dict[str, np.ndarray]:
        return {"coef": self.coef_, "intercept": self.intercept_}

    def _set_state(self, tensors: dict[str, np.ndarray], learned: dict[str, Any]) -> None:
        self._set_learned_meta(learned)
        self.coef_ = tensors["coef"].astype(np.float64).reshape(self.image_shape_)
        self.intercept_ = tensors["intercept"].astype(np.float64).reshape(self.image_shape_)


def _blocked_affine(src: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``clip(w * src + b)`` to uint8 (``b`` already holds the +0.5 for rounding)."""
    out = np.empty_like(src)
    buf = np.empty((min(_CHUNK, len(src)), src.shape[1]), dtype=np.float32)
    for i in range(0, len(src), _CHUNK):
        block = src[i : i + _CHUNK]
        tmp = buf[: len(block)]
        np.multiply(block, w, out=tmp)
        tmp += b
        np.clip(tmp, 0.0, 255.0, out=tmp)
        out[i : i + _CHUNK] = tmp  # truncation of (value + 0.5) rounds to nearest
    return out


def gaussian_kernel(a: np.ndarray, b: np.ndarray, sigma: float) -> np.ndarray:
    """The paper's kernel ``k(a, b) = exp(-(a - b)^2 / (2 sigma^2))`` for vectors a (M,), b (L,): (M, L)."""
    return np.exp(-((a[:, None] - b[None, :]) ** 2) / (2.0 * sigma**2))


def level_grid(levels: int) -> np.ndarray:
    """The input levels ``v / (levels - 1)`` in [0, 1]."""
    return np.arange(levels, dtype=np.float64) / (levels - 1)


def gaussian_gram(levels: int, sigma: float) -> np.ndarray:
    """Gram matrix of the Gaussian kernel on the level grid ``v / (levels - 1)``."""
    g = level_grid(levels)
    return gaussian_kernel(g, g, sigma)


def gaussian_basis(levels: int, sigma: float, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Low-rank factor ``Phi`` (levels, r) with ``Phi Phi^T = G`` up to ``tol * max eig``.

    Returns ``(Phi, eigvals)``; r is the number of eigenvalues above ``tol`` times the
    largest, which keeps the model exact (to ~tol) for any sigma: r = 6 at sigma 3,
    close to ``levels`` at sigma 0.01.
    """
    evals, evecs = np.linalg.eigh(gaussian_gram(levels, sigma))
    keep = evals > tol * evals[-1]
    evals, evecs = evals[keep][::-1], evecs[:, keep][:, ::-1]
    return evecs * np.sqrt(evals), evals


class PixelKR(_PixelModel):
    """Pixel-based Gaussian kernel ridge regression (paper Eq. 8-16).

    ``y = t_p (K_p + lam I)^-1 kappa(x)`` with ``k(a, b) = exp(-(a - b)^2 / (2 sigma^2))``
    on values in [0, 1], computed exactly through per-pixel value histograms and a
    low-rank basis of the shared Gram matrix (rank chosen by the relative eigenvalue
    tolerance ``tol``). Training inputs are taken as 8-bit levels (exact for uint8
    crops; float inputs are rounded to the nearest of 256 levels).
    """

    model_type = "pixel-kr"
    _param_names = ("lam", "sigma", "tol")
    needs_histograms = True

    def __init__(self, lam: float = 0.4, sigma: float = 3.0, tol: float = 1e-13) -> None:
        self.lam = lam
        self.sigma = sigma
        self.tol = tol
        self.info = default_info()

    def _validate_params(self) -> None:
        super()._validate_params()
        if not (np.isfinite(self.sigma) and self.sigma > 0):
            raise ValueError(f"sigma must be a positive number; got {self.sigma!r}")
        if not (0 < self.tol < 1):
            raise ValueError(f"tol must be in (0, 1); got {self.tol!r}")

    def _solve(self) -> None:
        s = self.stats_
        assert s.counts is not None and s.tsums is not None
        phi, evals = gaussian_basis(s.levels, float(self.sigma), float(self.tol))
        r = phi.shape[1]
        p = s.n_values
        coef = np.empty((p, r), dtype=np.float64)
        outer = (phi[:, :, None] * phi[:, None, :]).reshape(s.levels, r * r)
        eye = float(self.lam) * np.eye(r)
        step = max(1, int(2e7 // (r * r)))
        for i in range(0, p, step):
            # beta_p = (Phi^T diag(n_p) Phi + lam I)^-1 Phi^T s_p for a block of pixels
            gram = (s.counts[i : i + step] @ outer).reshape(-1, r, r) + eye
            rhs = s.tsums[i : i + step] @ phi
            coef[i : i + step] = np.linalg.solve(gram, rhs[..., None])[..., 0]
        self.coef_ = coef.reshape(*self.image_shape_, r)
        self.basis_ = phi
        self.eigvals_ = evals
        self._lut_cache: tuple[float, np.ndarray] | None = None

    @property
    def rank_(self) -> int:
        """Number of shared basis functions r."""
        return int(self.basis_.shape[1])

    def lookup_table(self) -> np.ndarray:
        """Output value (float64, [0, 1] before clipping) for each pixel and input level: (H, W, C, 256)."""
        self._check_fitted()
        return self.coef_ @ self.basis_.T

    def _predict_values(self, x: np.ndarray) -> np.ndarray:
        levels = self.basis_.shape[0]
        q = x * (levels - 1)
        on_grid = np.abs(q - np.rint(q)) < 1e-9
        if np.all(on_grid):
            return _gather(self.lookup_table(), np.rint(q).astype(np.intp))
        # Off-grid inputs: exact Nystroem extension phi(x) = k(x, grid) U Lambda^-1/2.
        grid = level_grid(levels)
        proj = self.basis_ / self.eigvals_  # U Lambda^-1/2 = Phi Lambda^-1
        coef = self.coef_.reshape(-1, self.rank_)
        flat = x.reshape(len(x), -1)
        out = np.empty_like(flat)
        for n in range(len(flat)):
            for i in range(0, flat.shape[1], 4096):
                v = flat[n, i : i + 4096]
                k = gaussian_kernel(v, grid, float(self.sigma))
                out[n, i : i + 4096] = np.einsum("pr,pr->p", k @ proj, coef[i : i + 4096])
        return out.reshape(x.shape)

    def _predict_uint8(self, x: Batch, strength: float) -> np.ndarray:
        cache = getattr(self, "_lut_cache", None)
        if cache is None or cache[0] != strength:
            lut = self.lookup_table().reshape(-1, self.basis_.shape[0])
            lut = blend(level_grid(lut.shape[1]), lut, strength)
            lut8 = np.rint(np.clip(lut, 0.0, 1.0) * 255.0).astype(np.uint8)
            self._lut_cache = cache = (strength, lut8)
        return _gather(cache[1].reshape(*self.image_shape_, -1), x.raw)

    def _state(self) -> dict[str, np.ndarray]:
        return {"coef": self.coef_, "basis": self.basis_, "eigvals": self.eigvals_}

    def _set_state(self, tensors: dict[str, np.ndarray], learned: dict[str, Any]) -> None:
        self._set_learned_meta(learned)
        self.basis_ = tensors["basis"].astype(np.float64)
        self.eigvals_ = tensors["eigvals"].astype(np.float64)
        self.coef_ = tensors["coef"].astype(np.float64).reshape(*self.image_shape_, -1)
        self._lut_cache = None


def _gather(table: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``out[n, h, w, c] = table[h, w, c, idx[n, h, w, c]]`` for a (H, W, C, Q) table."""
    q = table.shape[-1]
    flat = table.reshape(-1)
    offsets = np.arange(flat.size // q, dtype=np.intp) * q
    out = np.empty(idx.shape, dtype=table.dtype)
    n = len(idx)
    idx2 = idx.reshape(n, -1)
    out2 = out.reshape(n, -1)
    for i in range(0, n, _CHUNK):
        block = np.add(idx2[i : i + _CHUNK], offsets, dtype=np.intp)
        np.take(flat, block, out=out2[i : i + _CHUNK])
    return out

