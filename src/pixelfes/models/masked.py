"""The MR baseline (Khan et al., IJCV 2020): each output value regresses its k x k neighbourhood."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_batch, check_pair
from ..alignment import Alignment
from .base import ExpressionModel, check_streaming, default_info


def neighbourhood_features(x: np.ndarray, k: int) -> np.ndarray:
    """(N, H, W, C) -> (N, H*W*C, k*k + 1): each value's k x k same-channel patch and a 1.

    Pixels outside the image count as 0 (zero padding), so border pixels simply see
    fewer inputs.
    """
    n, h, w, c = x.shape
    r = k // 2
    padded = np.zeros((n, h + 2 * r, w + 2 * r, c), dtype=np.float64)
    padded[:, r : r + h, r : r + w] = x
    feats = np.empty((n, h, w, c, k * k + 1), dtype=np.float64)
    for i in range(k):
        for j in range(k):
            feats[..., i * k + j] = padded[:, i : i + h, j : j + w]
    feats[..., -1] = 1.0
    return feats.reshape(n, h * w * c, k * k + 1)


class MaskedRR(ExpressionModel):
    """Masked ridge regression (MR): ``y_p = w_p . patch_k(x)_p + b_p``, ridge ``lam``.

    One regression per output value over its ``k x k`` neighbourhood in the same
    channel plus a bias (the bias is regularised, as in the paper's Pixel-RR). The
    normal equations are sums, so ``partial_fit`` streams over batches.
    """

    model_type = "mr"
    _param_names = ("lam", "k")

    def __init__(self, lam: float = 0.4, k: int = 3) -> None:
        self.lam = lam
        self.k = k
        self.info = default_info()

    def _validate_params(self) -> None:
        super()._validate_params()
        if not (isinstance(self.k, int | np.integer) and self.k >= 1 and self.k % 2 == 1):
            raise ValueError(f"k must be an odd positive integer; got {self.k!r}")

    def _fit_values(self, x: np.ndarray, t: np.ndarray) -> None:
        f = self.k * self.k + 1
        p = int(np.prod(x.shape[1:]))
        self.gram_sums_ = np.zeros((p, f, f), dtype=np.float64)
        self.rhs_sums_ = np.zeros((p, f), dtype=np.float64)
        self._accumulate(x, t)

    def partial_fit(self, X: np.ndarray, T: np.ndarray, *,
                    alignment: Alignment | None = None) -> MaskedRR:
        """Add a batch of pairs to the normal equations and re-solve."""
        self._validate_params()
        xb, tb = as_batch(X, "X"), as_batch(T, "T")
        check_pair(xb, tb)
        self.alignment_ = check_streaming(self, xb, alignment, "gram_sums_")
        if not hasattr(self, "gram_sums_"):
            self.image_shape_ = xb.image_shape
            self.n_samples_seen_ = 0
            self._fit_values(xb.values, tb.values)
        else:
            self._accumulate(xb.values, tb.values)
        self.n_samples_seen_ += len(xb.raw)
        return self

    def _accumulate(self, x: np.ndarray, t: np.ndarray, chunk: int = 16) -> None:
        f = self.k * self.k + 1
        for i in range(0, len(x), chunk):
            feats = neighbourhood_features(x[i : i + chunk], self.k)
            tf = t[i : i + chunk].reshape(len(feats), -1)
            for a in range(f):
                self.rhs_sums_[:, a] += np.einsum("np,np->p", feats[..., a], tf)
                for b in range(a, f):
                    v = np.einsum("np,np->p", feats[..., a], feats[..., b])
                    self.gram_sums_[:, a, b] += v
                    if b != a:
                        self.gram_sums_[:, b, a] += v
        eye = float(self.lam) * np.eye(f)
        self.coef_ = np.linalg.solve(self.gram_sums_ + eye, self.rhs_sums_[..., None])[..., 0]

    def _predict_values(self, x: np.ndarray) -> np.ndarray:
        out = np.empty((len(x), self.coef_.shape[0]), dtype=np.float64)
        for i in range(0, len(x), 16):
            feats = neighbourhood_features(x[i : i + 16], self.k)
            out[i : i + 16] = np.einsum("npf,pf->np", feats, self.coef_)
        return out.reshape(x.shape)

    def _state(self) -> dict[str, np.ndarray]:
        return {"coef": self.coef_}

    def _set_state(self, tensors: dict[str, np.ndarray], learned: dict[str, Any]) -> None:
        self._set_learned_meta(learned)
        self.coef_ = tensors["coef"].astype(np.float64)
