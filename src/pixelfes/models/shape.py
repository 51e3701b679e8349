"""The landmark shape model: where an expression moves each landmark.

Why: a smile is mostly a change of shape (mouth corners up and out, lips part, cheeks
rise), which per-pixel models cannot make. This tiny model predicts the target
expression's landmarks from the source landmarks, both in the aligned canvas frame;
the synthesis then warps the face onto the predicted shape.

Methods (``K`` landmarks, ``N`` training pairs, coordinates in pixels):

- ``"mean"``: ``pred = src + mean(tgt - src)`` -- one average motion for everyone.
- ``"ridge"``: per-point ridge regression. The motion of point ``k`` is an affine
  function of that point's own position: ``d_k = m_k + (s_k - mu_k) W_k`` with ``W_k``
  ``2 x 2`` and ridge penalty ``lam ||W_k||^2`` (the intercept is not penalised, so a
  large ``lam`` gives back ``"mean"``). ``K x 8`` numbers; it lets, e.g., a wider mouth
  move its corners differently from a narrow one.
- ``"linear"``: every output coordinate is a ridge regression on all ``2K`` source
  coordinates (``2K x (2K + 1)`` numbers, 136 x 137 for 68 points). Offered for
  comparison; with ~100 training pairs it overfits unless ``lam`` is large.
- ``"auto"``: k-fold cross-validation over ``"mean"``, ``"ridge"`` and ``"linear"``
  with ``lam`` from ``lams``; folds are formed from ``groups`` (identity ids) so one
  person is never in the training and test part of one fold. The winner is refitted on
  all data; the choice and every CV error are kept in ``method_``, ``lam_``,
  ``cv_errors_``.

Errors are mean Euclidean point-to-point distances in pixels.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from pixelfes._validation import check_strength
from pixelfes.models.base import NotFittedError
from pixelfes.splits import group_kfold

__all__ = ["ShapeModel", "point_error"]

_METHODS = ("mean", "ridge", "linear", "auto")
_FORMAT = 1


class ShapeModel:
    """Predict target-expression landmarks ``(N, K, 2)`` from source landmarks ``(N, K, 2)``.

    Parameters
    ----------
    method : "mean" | "ridge" | "linear" | "auto"
    lam : ridge penalty for ``"ridge"`` / ``"linear"`` (ignored by ``"auto"``, which
        picks it from ``lams``).
    lams : grid searched by ``"auto"``.
    n_splits : number of identity-disjoint folds used by ``"auto"``.
    random_state : seed for assigning identities to folds.
    """

    def __init__(
        self,
        method: str = "auto",
        lam: float = 100.0,
        lams: tuple[float, ...] = (1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0),
        n_splits: int = 5,
        random_state: int = 0,
    ) -> None:
        self.method = method
        self.lam = lam
        self.lams = lams
        self.n_splits = n_splits
        self.random_state = random_state

    # -- fitting -------------------------------------------------------------------------
    def fit(self, src: np.ndarray, tgt: np.ndarray, groups: np.ndarray | None = None) -> ShapeModel:
        """Learn from pairs of landmark sets ``src``, ``tgt`` ``(N, K, 2)`` float (pixels).

        ``groups`` ``(N,)``: identity of each pair, used by ``"auto"`` for identity-disjoint
        folds; without it every pair is its own group (optimistic if a person appears twice).
        """
        if self.method not in _METHODS:
            raise ValueError(f"method must be one of {', '.join(_METHODS)}; got {self.method!r}")
        s, t = _check_pairs(src, tgt)
        lam = _check_lam(self.lam, "lam")
        if self.method in ("ridge", "linear") and lam == 0:
            raise ValueError(f"lam must be > 0 for method={self.method!r} (the system can be singular)")
        for attr in ("method_", "lam_", "cv_errors_"):
            self.__dict__.pop(attr, None)
        if self.method == "auto":
            g = _check_groups(groups, len(s))
            lams = [_check_lam(v, "lams") for v in self.lams]
            if len(lams) == 0 or min(lams) <= 0:
                raise ValueError(f"lams must hold penalties > 0 for method='auto'; got {self.lams!r}")
            cands: list[tuple[str, float]] = [("mean", 0.0)]
            cands += [("ridge", v) for v in lams] + [("linear", v) for v in lams]
            folds = group_kfold(g, self.n_splits, self.random_state)
            errs: dict[str, float] = {"none": _cv(s, t, folds, "none", 0.0)}
            for m, v in cands:
                errs[_key(m, v)] = _cv(s, t, folds, m, v)
            best_m, best_v = min(cands, key=lambda c: errs[_key(*c)])
            self.cv_errors_ = errs
        else:
            best_m, best_v = self.method, (lam if self.method != "mean" else 0.0)
        self.method_ = best_m
        self.lam_ = float(best_v)
        params = _fit(s, t, best_m, best_v)
        self.n_points_ = s.shape[1]
        self.mean_src_ = params["mean_src"]
        self.mean_disp_ = params["mean_disp"]
        self.coef_ = params["coef"]
        return self

    # -- prediction ----------------------------------------------------------------------
    def predict(self, src: np.ndarray, strength: float = 1.0) -> np.ndarray:
        """Target landmarks for ``src`` ``(K, 2)`` or ``(N, K, 2)``: ``src + strength (pred - src)``.

        ``strength`` 0 returns ``src``, 1 the model, above 1 exaggerates. Same shape as ``src``.
        """
        self._check_fitted()
        a = check_strength(strength)
        arr = np.asarray(src, dtype=np.float64)
        single = arr.ndim == 2
        batch = arr[None] if single else arr
        if batch.ndim != 3 or batch.shape[1:] != (self.n_points_, 2):
            raise ValueError(
                f"src must be shaped ({self.n_points_}, 2) or (N, {self.n_points_}, 2); got {arr.shape}"
            )
        if not np.all(np.isfinite(batch)):
            raise ValueError("src contains NaN or infinite coordinates")
        out = self._predict_checked(batch, a)
        return out[0] if single else out

    def _predict_checked(self, batch: np.ndarray, strength: float) -> np.ndarray:
        """``src + a (pred - src)`` for checked ``(N, K, 2)`` float64 landmarks."""
        disp = _displacement(batch, self.method_, self.mean_src_, self.mean_disp_, self.coef_)
        return batch + strength * disp

    # -- saving --------------------------------------------------------------------------
    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Learned state as float64 arrays + JSON-able parameters (for a safetensors file)."""
        self._check_fitted()
        arrays = {
            "mean_src": self.mean_src_.copy(),
            "mean_disp": self.mean_disp_.copy(),
            "coef": self.coef_.copy(),
        }
        params: dict[str, Any] = {
            "format": _FORMAT,
            "method": self.method,
            "lam": float(self.lam),
            "lams": [float(v) for v in self.lams],
            "n_splits": int(self.n_splits),
            "random_state": int(self.random_state),
            "method_": self.method_,
            "lam_": self.lam_,
            "n_points_": int(self.n_points_),
        }
        if hasattr(self, "cv_errors_"):
            params["cv_errors_"] = {k: float(v) for k, v in self.cv_errors_.items()}
        json.dumps(params)  # fail here, not in the caller's writer, if something is not JSON-able
        return arrays, params

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], params: dict[str, Any]) -> ShapeModel:
        """Rebuild a fitted model from :meth:`to_arrays` output."""
        if params.get("format") != _FORMAT:
            raise ValueError(f"unsupported shape model format {params.get('format')!r}; expected {_FORMAT}")
        missing = {"mean_src", "mean_disp", "coef"} - set(arrays)
        if missing:
            raise ValueError(f"shape model arrays are missing {sorted(missing)}")
        model = cls(
            method=params["method"],
            lam=params["lam"],
            lams=tuple(params["lams"]),
            n_splits=params["n_splits"],
            random_state=params["random_state"],
        )
        k = int(params["n_points_"])
        method = params["method_"]
        if method not in ("mean", "ridge", "linear"):
            raise ValueError(f"unknown fitted method {method!r} in shape model parameters")
        mean_src = np.asarray(arrays["mean_src"], dtype=np.float64)
        mean_disp = np.asarray(arrays["mean_disp"], dtype=np.float64)
        coef = np.asarray(arrays["coef"], dtype=np.float64)
        want = {"mean": (k, 2, 2), "ridge": (k, 2, 2), "linear": (2 * k, 2 * k)}[method]
        if mean_src.shape != (k, 2) or mean_disp.shape != (k, 2) or coef.shape != want:
            raise ValueError(
                f"shape model arrays do not fit {k} points / method {method!r}: mean_src "
                f"{mean_src.shape}, mean_disp {mean_disp.shape}, coef {coef.shape} (expected {want})"
            )
        model.method_ = method
        model.lam_ = float(params["lam_"])
        model.n_points_ = k
        model.mean_src_, model.mean_disp_, model.coef_ = mean_src, mean_disp, coef
        if "cv_errors_" in params:
            model.cv_errors_ = dict(params["cv_errors_"])
        return model

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise NotFittedError("this ShapeModel is not fitted yet; call fit(src, tgt) first")


# -- numerics -------------------------------------------------------------------------------


def point_error(pred: np.ndarray, tgt: np.ndarray) -> float:
    """Mean Euclidean distance (pixels) between corresponding points of ``(N, K, 2)`` arrays."""
    return float(np.mean(np.linalg.norm(np.asarray(pred) - np.asarray(tgt), axis=-1)))


def _key(method: str, lam: float) -> str:
    return method if method == "mean" else f"{method}(lam={lam:g})"


def _cv(s: np.ndarray, t: np.ndarray, folds: list[np.ndarray], method: str, lam: float) -> float:
    """Pooled identity-disjoint CV error (mean point distance over all held-out pairs)."""
    total, count = 0.0, 0
    for test in folds:
        train = np.setdiff1d(np.arange(len(s)), test, assume_unique=True)
        if method == "none":
            pred = s[test]
        else:
            p = _fit(s[train], t[train], method, lam)
            pred = s[test] + _displacement(s[test], method, p["mean_src"], p["mean_disp"], p["coef"])
        d = np.linalg.norm(pred - t[test], axis=-1)
        total += float(d.sum())
        count += d.size
    return total / count


def _fit(s: np.ndarray, t: np.ndarray, method: str, lam: float) -> dict[str, np.ndarray]:
    n, k, _ = s.shape
    d = t - s
    mean_src = s.mean(axis=0)
    mean_disp = d.mean(axis=0)
    if method == "mean":
        coef = np.zeros((k, 2, 2))  # the per-point form with no slope
    elif method == "ridge":
        xc = s - mean_src  # (N, K, 2)
        dc = d - mean_disp
        gram = np.einsum("nki,nkj->kij", xc, xc) + lam * np.eye(2)  # (K, 2, 2)
        rhs = np.einsum("nki,nkj->kij", xc, dc)
        coef = np.linalg.solve(gram, rhs)  # (K, 2, 2): d_k = (s_k - mu_k) @ coef[k]
    elif method == "linear":
        xc = (s - mean_src).reshape(n, 2 * k)
        dc = (d - mean_disp).reshape(n, 2 * k)
        if n < 2 * k:  # dual form: an N x N system instead of 2K x 2K
            alpha = np.linalg.solve(xc @ xc.T + lam * np.eye(n), dc)
            coef = xc.T @ alpha
        else:
            coef = np.linalg.solve(xc.T @ xc + lam * np.eye(2 * k), xc.T @ dc)
    else:  # pragma: no cover - guarded by the callers
        raise ValueError(f"unknown method {method!r}")
    return {"mean_src": mean_src, "mean_disp": mean_disp, "coef": coef}


def _displacement(
    s: np.ndarray, method: str, mean_src: np.ndarray, mean_disp: np.ndarray, coef: np.ndarray
) -> np.ndarray:
    if method in ("mean", "ridge"):
        return mean_disp + np.einsum("nki,kij->nkj", s - mean_src, coef)
    n, k, _ = s.shape
    return mean_disp + ((s - mean_src).reshape(n, 2 * k) @ coef).reshape(n, k, 2)


# -- validation -----------------------------------------------------------------------------


def _check_pairs(src: object, tgt: object) -> tuple[np.ndarray, np.ndarray]:
    out = []
    for name, a in (("src", src), ("tgt", tgt)):
        try:
            arr = np.asarray(a, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be an array of landmark sets (N, K, 2)") from exc
        if arr.ndim != 3 or arr.shape[2] != 2:
            raise ValueError(f"{name} must be shaped (N, K, 2); got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or infinite coordinates")
        out.append(arr)
    s, t = out
    if s.shape != t.shape:
        raise ValueError(f"src and tgt must have the same shape (N, K, 2); got {s.shape} and {t.shape}")
    if len(s) < 2:
        raise ValueError(f"need at least 2 training pairs; got {len(s)}")
    return s, t


def _check_groups(groups: object, n: int) -> np.ndarray:
    if groups is None:
        return np.arange(n)
    g = np.asarray(groups)
    if g.shape != (n,):
        raise ValueError(f"groups must be shaped (N,) = ({n},), one identity per pair; got {g.shape}")
    return g


def _check_lam(lam: object, name: str) -> float:
    try:
        v = float(lam)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a number; got {lam!r}") from exc
    if not np.isfinite(v) or v < 0:
        raise ValueError(f"{name} must be a finite number >= 0; got {lam!r}")
    return v
