"""The RR baseline (paper Eq. 1-2): every output value regresses every input value."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import ExpressionModel, default_info


class GlobalRR(ExpressionModel):
    """Ridge regression of the whole target face on the whole source face (Eq. 1-2, no bias).

    ``W = [(X^T X + lam I)^-1 X^T T]^T`` is D x K (2.4 billion numbers at 128x128x3),
    so it is kept in the equivalent dual form ``W^T = X^T (X X^T + lam I)^-1 T``: the
    model stores the N training inputs and ``alpha = (X X^T + lam I)^-1 T`` (N x K).
    """

    model_type = "rr"
    _param_names = ("lam",)

    def __init__(self, lam: float = 0.4) -> None:
        self.lam = lam
        self.info = default_info()

    def _fit_values(self, x: np.ndarray, t: np.ndarray) -> None:
        try:
            import scipy.linalg
        except ImportError as exc:
            raise ImportError("training needs scipy: pip install 'pixelfes[train]'") from exc

        n = len(x)
        xf = x.reshape(n, -1)
        gram = xf @ xf.T
        gram[np.diag_indices(n)] += float(self.lam)
        self.train_inputs_ = xf.copy()
        self.dual_coef_ = scipy.linalg.solve(gram, t.reshape(n, -1), assume_a="pos")

    def _predict_values(self, x: np.ndarray) -> np.ndarray:
        xf = x.reshape(len(x), -1)
        return ((xf @ self.train_inputs_.T) @ self.dual_coef_).reshape(x.shape)

    def _state(self) -> dict[str, np.ndarray]:
        return {"train_inputs": self.train_inputs_, "dual_coef": self.dual_coef_}

    def _set_state(self, tensors: dict[str, np.ndarray], learned: dict[str, Any]) -> None:
        self._set_learned_meta(learned)
        self.train_inputs_ = tensors["train_inputs"].astype(np.float64)
        self.dual_coef_ = tensors["dual_coef"].astype(np.float64)
