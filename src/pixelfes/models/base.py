"""What every pixelfes model shares: the estimator contract, strength, metadata, saving."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .._validation import (
    Batch,
    as_batch,
    blend,
    check_groups,
    check_landmarks,
    check_pair,
    check_strength,
    restore,
)
from ..alignment import DEFAULT_ALIGNMENT, Alignment


class NotFittedError(RuntimeError):
    """Raised when a model is used before ``fit`` (or ``load``)."""


class ExpressionModel:
    """Base class: maps aligned crops of one expression to the same faces with another.

    Subclasses implement ``_fit_values``, ``_predict_values`` (float64 (N, H, W, C) in
    [0, 1] in, same out) and ``_state``/``_set_state`` for model files; models that use
    side inputs override ``_fit``/``_predict``, which receive them already checked.
    ``alignment_`` says how the training crops were aligned (the photo pipeline needs
    it). ``info`` is a free description saved with the model (source/target expression,
    training-set summary); it is not learned state.
    """

    model_type: ClassVar[str] = ""
    requires_landmarks: ClassVar[bool] = False  # predict/fit need the crops' landmarks
    fits_from_stats: ClassVar[bool] = False  # has fit_stats(PixelStats): CV sums fold statistics
    needs_histograms: ClassVar[bool] = False  # its PixelStats need per-pixel value histograms
    _param_names: ClassVar[tuple[str, ...]] = ()
    alignment_: Alignment | None

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
    def fit(self, X: np.ndarray, T: np.ndarray, *, landmarks_source: np.ndarray | None = None,
            landmarks_target: np.ndarray | None = None, groups: Any = None,
            alignment: Alignment | None = None) -> ExpressionModel:
        """Learn the mapping from source crops ``X`` to target crops ``T``.

        ``X``, ``T``: ``(N, H, W, C)`` (or ``(N, H, W)``) uint8 in [0, 255] or floats in
        [0, 1], pair ``n`` being one person in both expressions. ``landmarks_*``:
        ``(N, K, 2)`` (x, y) crop coordinates (models with ``requires_landmarks``);
        ``groups``: one person label per pair (identity-disjoint inner choices);
        ``alignment``: how the crops were aligned (default: :data:`DEFAULT_ALIGNMENT`
        for crops of its size, else unknown, and the photo pipeline will refuse the
        model). Refitting starts afresh.
        """
        self._validate_params()
        x, t = as_batch(X, "X"), as_batch(T, "T")
        check_pair(x, t)
        n = len(x.raw)
        ls = lt = None
        if landmarks_source is not None or landmarks_target is not None or self.requires_landmarks:
            if landmarks_source is None or landmarks_target is None:
                raise ValueError(f"{self.model_type} needs landmarks_source and landmarks_target "
                                 "(N, 68, 2) in crop coordinates")
            ls = check_landmarks(landmarks_source, n, "landmarks_source")
            lt = check_landmarks(landmarks_target, n, "landmarks_target")
        align = fit_alignment(alignment, x.image_shape)
        g = check_groups(groups, n)
        self._reset()
        self.image_shape_ = x.image_shape
        self.alignment_ = align
        self._fit(x, t, landmarks_source=ls, landmarks_target=lt, groups=g)
        self.n_samples_seen_ = n
        return self

    def _fit(self, x: Batch, t: Batch, *, landmarks_source: np.ndarray | None,
             landmarks_target: np.ndarray | None, groups: np.ndarray | None) -> None:
        """Fit on checked inputs (pixel models use only the values)."""
        self._fit_values(x.values, t.values)

    def predict(self, X: np.ndarray, *, landmarks: np.ndarray | None = None,
                strength: float = 1.0) -> np.ndarray:
        """Synthesize the target expression for crops ``X`` (same shape, dtype family).

        ``landmarks``: ``(N, K, 2)`` (x, y) of each crop (required by models with
        ``requires_landmarks``, ignored by the pixel models). ``strength`` a returns
        ``x + a (f(x) - x)``: 0 gives the input, 1 the model, values in between blend and
        above 1 exaggerate; the result is clipped to the valid range.
        """
        self._check_fitted()
        a = check_strength(strength)
        x = self._check_input(X)
        lm = None if landmarks is None else check_landmarks(landmarks, len(x.raw))
        if lm is None and self.requires_landmarks:
            raise ValueError(f"{self.model_type} needs the crops' landmarks: "
                             "predict(X, landmarks=...) with (N, 68, 2) crop coordinates")
        if a == 0.0:
            return x.in_layout(x.raw.copy())
        return self._predict(x, lm, a)

    def _predict(self, x: Batch, landmarks: np.ndarray | None, strength: float) -> np.ndarray:
        """Predict on checked inputs; returns the caller's layout and dtype family."""
        fast = self._predict_uint8(x, strength) if x.dtype == np.uint8 else None
        if fast is not None:
            return x.in_layout(fast)
        y = self._predict_values(x.values)
        return restore(blend(x.values, y, strength) if strength != 1.0 else y, x)

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


def fit_alignment(alignment: Alignment | None, image_shape: tuple[int, ...]) -> Alignment | None:
    """The alignment a model fitted on crops of ``image_shape`` records (checked against it)."""
    h, w = int(image_shape[0]), int(image_shape[1])
    if alignment is None:
        return DEFAULT_ALIGNMENT if h == w == DEFAULT_ALIGNMENT.size else None
    if not isinstance(alignment, Alignment):
        raise TypeError("alignment must be a pixelfes.Alignment (or None); "
                        f"got {type(alignment).__name__}")
    if (h, w) != (alignment.size, alignment.size):
        raise ValueError(f"alignment says {alignment.size} px crops but X holds {w}x{h} crops")
    return alignment


def check_streaming(model: ExpressionModel, x: Batch, alignment: Alignment | None,
                    state: str) -> Alignment | None:
    """Checks shared by every ``partial_fit``: a later batch must match the first one.

    Returns the alignment the model keeps. A model loaded from a file has no running
    sums (``state``), so streaming more pairs into it would silently start afresh.
    """
    if not hasattr(model, state):
        if hasattr(model, "image_shape_"):
            raise ValueError(
                "this model was loaded from a file without its training statistics; "
                "partial_fit needs a model fitted in this session (or start with fit)"
            )
        return fit_alignment(alignment, x.image_shape)
    if x.image_shape != tuple(model.image_shape_):
        raise ValueError(
            f"X holds images of shape {x.image_shape}; earlier batches had "
            f"{tuple(model.image_shape_)}"
        )
    if alignment is not None and alignment != model.alignment_:
        raise ValueError(f"alignment {alignment} differs from earlier batches' {model.alignment_}")
    return model.alignment_


def default_info() -> dict[str, Any]:
    """The description a new model starts with (filled in by training code)."""
    return {"source": None, "target": None, "training": {}}
