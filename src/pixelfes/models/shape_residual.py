"""What the shape model leaves of a strong smile, predicted from the smile's own shape.

Why: closing a smile (happy -> neutral), the shape model (:mod:`pixelfes.models.shape`) moves
each face by about the training people's mean motion plus a heavily penalised regression; a
person who smiles harder than the mean keeps part of the smile in the predicted landmarks. On
London's held-out people whose native output face-api does not call neutral, the predicted
mouth corners stay +0.024 eye distances above the real neutral's (others: -0.002), the mouth
+0.029 too wide (docs/mouth.md, "What is left of a smile"). Here the shape model's own
held-out residual (inner folds over people) is regressed, by ridge, on a few scale-free
measures of the source shape (:data:`FEATURES`: how far the corners are above the lips'
centre, the mouth's width, ... in eye distances), so that a smile stronger than the mean is
moved back further.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FEATURES", "ShapeResidual", "fit_shape_residual", "shape_features"]

#: the source shape's measures the residual is regressed on (all in eye distances)
FEATURES = ("corner_lift", "mouth_width", "corner_to_eye_y", "eye_open", "upper_lip_to_nose",
            "nose_wing_w", "lower_lid")


def eye_distance(lm: np.ndarray) -> np.ndarray:
    """``(N,)``: distance between the two eyes' centres of ``(N, 68, 2)`` landmarks."""
    return np.linalg.norm(lm[:, 36:42].mean(axis=1) - lm[:, 42:48].mean(axis=1), axis=1)


def shape_features(lm: np.ndarray) -> np.ndarray:
    """``(N, len(FEATURES))`` measures of ``(N, 68, 2)`` landmarks (x, y; y down), in eye distances.

    corner_lift: the mouth's centre (mean of 51, 57, 62, 66) minus the corners' height (positive:
    corners above it); mouth_width |54 - 48|; corner_to_eye_y: each corner's height below its
    eye's centre; eye_open: mean upper-lower lid gap (37-41, 38-40, 43-47, 44-46); upper_lip_to_nose:
    51 below 33; nose_wing_w |35 - 31|; lower_lid: the eye corners' mean height minus the lower
    lid's (40, 41 / 46, 47; positive: lid above its corners).
    """
    p = np.asarray(lm, dtype=np.float64)
    iod = eye_distance(p)
    y = p[..., 1]
    centre = (y[:, 51] + y[:, 57] + y[:, 62] + y[:, 66]) / 4
    gap = lambda a, b: np.linalg.norm(p[:, a] - p[:, b], axis=1)  # noqa: E731
    f = np.stack([
        (2 * centre - y[:, 48] - y[:, 54]) / 2,
        gap(54, 48),
        (y[:, 48] - y[:, 36:42].mean(axis=1) + y[:, 54] - y[:, 42:48].mean(axis=1)) / 2,
        (gap(37, 41) + gap(38, 40) + gap(43, 47) + gap(44, 46)) / 4,
        y[:, 51] - y[:, 33],
        gap(35, 31),
        ((y[:, 36] + y[:, 39]) / 2 - (y[:, 40] + y[:, 41]) / 2
         + (y[:, 42] + y[:, 45]) / 2 - (y[:, 46] + y[:, 47]) / 2) / 2,
    ], axis=1)
    return f / iod[:, None]


@dataclass(frozen=True)
class ShapeResidual:
    """``delta(lm)`` = (standardised features of ``lm``) @ ``coef``, in eye distances of ``lm``."""

    mean: np.ndarray  # (F,) the training sources' features
    scale: np.ndarray  # (F,) their standard deviations
    coef: np.ndarray  # (F, 136) ridge coefficients of the residual (eye distances)

    def delta(self, lm: np.ndarray) -> np.ndarray:
        """``(68, 2)`` float64: the correction to add to the shape model's prediction for ``lm`` ``(68, 2)``."""
        p = np.asarray(lm, dtype=np.float64)[None]
        z = (shape_features(p) - self.mean) / self.scale
        return (z @ self.coef).reshape(68, 2) * eye_distance(p)[0]


def fit_shape_residual(src: np.ndarray, tgt: np.ndarray, groups: np.ndarray, ridge: float = 1.0,
                       n_splits: int = 5, seed: int = 0) -> ShapeResidual:
    """Fit :class:`ShapeResidual` on training pairs' landmarks ``src``, ``tgt`` ``(N, 68, 2)``.

    The residual is the shape model's (``ShapeModel("auto")``) on people it did not see: inner
    identity-disjoint folds over ``groups`` ``(N,)`` (in-sample residuals of the 136-input
    ``"linear"`` model are too small). ``ridge``: penalty per pair on the standardised features
    (``(Z'Z + ridge N I) coef = Z'R``); 1.0 had the lowest point error of 0.1 / 1.0 with 3 or 7
    features over London's 82 people (outer folds, docs/mouth.md).
    """
    from pixelfes.models.shape import ShapeModel
    from pixelfes.splits import group_kfold

    s, t = np.asarray(src, dtype=np.float64), np.asarray(tgt, dtype=np.float64)
    g = np.asarray(groups)
    if s.shape != t.shape or s.ndim != 3 or s.shape[1:] != (68, 2):
        raise ValueError(f"src and tgt must both be (N, 68, 2); got {s.shape} and {t.shape}")
    if len(g) != len(s):
        raise ValueError(f"groups must hold one identity per pair ({len(s)}); got {len(g)}")
    res = np.zeros_like(s)
    for test in group_kfold(g, n_splits, seed):
        train = np.setdiff1d(np.arange(len(s)), test)
        m = ShapeModel("auto").fit(s[train], t[train], groups=g[train])
        res[test] = t[test] - m.predict(s[test])
    res /= eye_distance(s)[:, None, None]
    x = shape_features(s)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    z = (x - mean) / scale
    coef = np.linalg.solve(z.T @ z + ridge * len(z) * np.eye(z.shape[1]), z.T @ res.reshape(len(res), -1))
    return ShapeResidual(mean, scale, coef)
