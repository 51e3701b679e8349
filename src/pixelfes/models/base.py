"""What every pixelfes model shares: the estimator contract, strength, metadata, saving."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .._validation import Batch, as_batch, check_pair, check_strength, restore


class NotFittedError(RuntimeError):
    """Raised when a model is used before ``fit`` (or ``load``)."""


class ExpressionModel:
    """Base class: maps aligned crops of one expression to the same faces with another.

    Subclasses implement ``_fit_values``, ``_predict_values`` (float64 (N, H, W, C) in
    [0, 1] in, same out) and ``_state``/``_set_state`` for model files. ``info`` is a
    free description saved with the model (source/target expression, alignment
    template, training-set summary); it is not learned state.
    """

    model_type: ClassVar[str] = ""
    _param_names: ClassVar[tuple[str, ...]] = ()

    info: dict[str, Any]

    # -- scikit-learn style parameters -------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """The constructor parameters of this model."""
        return {name: getattr(self, name) for name in self._param_names}

    def set_params(self, **params: Any) -> ExpressionModel:
        """Set constructor parameters (the model must be refitted)."""
        for key, value in params.items():
            if key not in self._param_names:
                raise ValueError(f"{type(self).__name__} has no parameter {key!r}; "
                                 f"parameters are {', '.join(self._param_names)}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _validate_params(self) -> None:
        lam = getattr(self, "lam", None)
        if lam is not None and not (np.isfinite(lam) and lam > 0):
            raise ValueError(f"lam must be a positive number; got {lam!r}")

    # -- fitting and prediction --------------------------------------------------------
    def fit(self, X: np.ndarray, T: np.ndarray) -> ExpressionModel:
        """Learn the mapping from source crops ``X`` to target crops ``T``.

        ``X``, ``T``: ``(N, H, W, C)`` (or ``(N, H, W)``) uint8 in [0, 255] or floats in
        [0, 1], pair ``n`` being one person in both expressions. Refitting starts afresh.
        """
        self._validate_params()
        x, t = as_batch(X, "X"), as_batch(T, "T")
        check_pair(x, t)
        self._reset()
        self.image_shape_ = x.image_shape
        self._fit_values(x.values, t.values)
        self.n_samples_seen_ = len(x.values)
        return self

    def predict(self, X: np.ndarray, strength: float = 1.0) -> np.ndarray:
        """Synthesize the target expression for crops ``X`` (same shape, dtype family).

        ``strength`` a returns ``x + a (f(x) - x)``: 0 gives the input, 1 the model,
        values in between blend and above 1 exaggerate; the result is clipped to the
        valid range.
        """
        self._check_fitted()
        a = check_strength(strength)
        x = self._check_input(X)
        if a == 0.0:
            return x.in_layout(x.raw.copy())
        fast = self._predict_uint8(x, a) if x.dtype == np.uint8 else None
        if fast is not None:
            return x.in_layout(fast)
        y = self._predict_values(x.values)
        if a != 1.0:
            y = x.values + a * (y - x.values)
        return restore(y, x)

    def _predict_uint8(self, x: Batch, strength: float) -> np.ndarray | None:
        """Optional fast path for uint8 batches; ``None`` means use the float path."""
        return None

    def _check_input(self, X: np.ndarray) -> Batch:
        x = as_batch(X, "X")
        if x.image_shape != tuple(self.image_shape_):
            raise ValueError(
                f"X holds images of shape {x.image_shape} (H, W, C); this model was "
                f"trained on {tuple(self.image_shape_)}"
            )
        return x

    def _check_fitted(self) -> None:
        if not hasattr(self, "image_shape_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet: call fit(X, T) or "
                "pixelfes.load(path) first"
            )

    def _reset(self) -> None:
        for name in list(vars(self)):
            if name.endswith("_") and not name.startswith("__"):
                delattr(self, name)

    @property
    def n_parameters(self) -> int:
        """Number of learned numbers needed to apply the model."""
        self._check_fitted()
        return int(sum(np.asarray(v).size for v in self._state().values()))

    # -- persistence -------------------------------------------------------------------
    def save(self, path: str | Path, precision: str = "float32") -> Path:
        """Write the model to a safetensors file (atomic; see ``pixelfes.modelfile``)."""
        from ..modelfile import save_model

        return save_model(self, path, precision=precision)

    def _state(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _set_state(self, tensors: dict[str, np.ndarray], learned: dict[str, Any]) -> None:
        raise NotImplementedError

    def _learned_meta(self) -> dict[str, Any]:
        """JSON-able learned values saved beside the tensors."""
        return {"image_shape": list(self.image_shape_), "n_samples_seen": int(self.n_samples_seen_)}

    def _set_learned_meta(self, learned: dict[str, Any]) -> None:
        h, w, c = (int(v) for v in learned["image_shape"])
        self.image_shape_ = (h, w, c)
        self.n_samples_seen_ = int(learned.get("n_samples_seen", 0))

    def _fit_values(self, x: np.ndarray, t: np.ndarray) -> None:
        raise NotImplementedError

    def _predict_values(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def clone(self) -> ExpressionModel:
        """An unfitted copy with the same parameters and info."""
        new = type(self)(**self.get_params())
        new.info = copy.deepcopy(self.info)
        return new


def default_info() -> dict[str, Any]:
    """The description a new model starts with (filled in by training code)."""
    return {"source": None, "target": None, "template": None, "training": {}}
