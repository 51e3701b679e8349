"""``ActionUnitModel``: expressions and facial actions with no training, from the ICT basis.

Each face's pose is fitted to its landmarks (:mod:`.pose`), the recipe's 3D landmark
motion is rotated and projected with that pose into the aligned crop, shortened where it
would fold the triangulation, and the crop is warped once (cubic) onto the moved
landmarks; folds are shaded (:mod:`.folds`) and a mouth that opens gets an interior
(:mod:`.mouth`). "Fitting" only reads the shipped asset: the model works for every face,
expression and strength at once.

Recipes: ``expression`` (one of :data:`~.recipes.RECIPES`), plus ``au`` extra unit
intensities on top; ``expression="neutral"`` removes the actions estimated on each face
(:func:`~.analysis.estimate_units`); ``relative=True`` makes ``au`` a *target*: each face
gets ``au`` minus its own estimated actions (expression transfer, ``--like``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .._validation import Batch, as_batch
from ..alignment import DEFAULT_ALIGNMENT, Alignment
from ..models import register_model
from ..models.base import ExpressionModel, default_info
from ..warp import PiecewiseAffineWarp, remap
from .analysis import ANALYSIS_UNITS, estimate_units
from .basis import load_basis, parse_units
from .folds import FoldShading
from .mouth import inner_gap, old_interior_mask, paint_mouth
from .pose import fit_pose
from .recipes import recipe_for

__all__ = ["ActionUnitModel", "ActionsOnTop"]

# Unit intensity left in place by --to neutral (analysis noise on real neutral faces). Chosen
# on the 82 London smiles -> their own neutral photos (mean landmark error 1.68 px unchanged;
# floor 0: 1.51, 0.1: 1.49, 0.25: 1.52), the only choice made on London for --to neutral.
NEUTRAL_FLOOR = 0.1
_FOLD_SAFETY = 0.95  # as the shape + texture model: 95 % of the largest fold-free motion


def _check_landmarks(landmarks: object, n: int) -> np.ndarray:
    arr = np.asarray(landmarks, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1:] != (68, 2) or len(arr) != n:
        raise ValueError(f"landmarks must be shaped (N, 68, 2) (x, y) with N = {n} crops; "
                         f"got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("landmarks contain NaN or infinite coordinates")
    return arr


@register_model
class ActionUnitModel(ExpressionModel):
    """Facial actions as landmark motion plus fold shading and a mouth interior; no training.

    Parameters: ``expression`` a recipe name (or "neutral": undo each face's own actions;
    None: only ``au``), ``au`` unit intensities (``{"AU12": 0.8}``, ``{12: 0.8}`` or
    ``"12=0.8,1=0.5"``), ``relative`` (``au`` is the target, each face's own actions are
    subtracted), ``fold_gain`` the strength of the fold shading (0 = none), ``mouth``
    whether an opening mouth gets an interior, ``teeth`` whether it shows upper teeth.
    """

    model_type = "action-units"
    requires_landmarks = True
    _param_names = ("expression", "au", "relative", "fold_gain", "mouth", "teeth")

    def __init__(self, expression: str | None = None, au: Any = None, relative: bool = False,
                 fold_gain: float = 1.0, mouth: bool = True, teeth: bool = True) -> None:
        self.expression = expression
        self.au = au
        self.relative = relative
        self.fold_gain = fold_gain
        self.mouth = mouth
        self.teeth = teeth
        self.info = default_info()

    # -- "fitting": read the asset ---------------------------------------------------------
    def fit(self, X: Any = None, T: Any = None, *,
            landmarks_source: Any = None, landmarks_target: Any = None, groups: Any = None,
            alignment: Alignment | None = None) -> ActionUnitModel:
        """Prepare the model from the shipped basis; nothing is learned, so data is ignored.

        ``alignment``: the crops' framing (default :data:`pixelfes.alignment.DEFAULT_ALIGNMENT`,
        192 px, margin 1.5, template "pixelfes-eyes-nose-v1", as the bundled models).
        """
        if not (np.isfinite(self.fold_gain) and 0 <= self.fold_gain <= 5):
            raise ValueError(f"fold_gain must be within [0, 5]; got {self.fold_gain!r}")
        if alignment is not None and not isinstance(alignment, Alignment):
            raise TypeError(f"alignment must be a pixelfes.Alignment; got {type(alignment).__name__}")
        self._reset()
        align = alignment or DEFAULT_ALIGNMENT
        self.weights_ = self._recipe_weights()
        self.alignment_ = align
        self.image_shape_ = (align.size, align.size, 3)
        self.n_samples_seen_ = 0
        self._prepare()
        target = None if self.expression is None else str(self.expression)
        self.info = {**default_info(), "source": None if target == "neutral" else "neutral",
                     "target": target,
                     "training": {"data": "ICT Face Model Light (MIT), no photos"}}
        return self

    def _recipe_weights(self) -> dict[str, float]:
        weights: dict[str, float] = {}
        if self.expression is not None and str(self.expression).lower() != "neutral":
            weights.update(recipe_for(str(self.expression)).units)
        for k, v in parse_units(self.au).items():
            weights[k] = weights.get(k, 0.0) + v
        return weights

    def _prepare(self) -> None:
        basis = load_basis()
        size = self.image_shape_[0]
        # the shipped reference lives on a 192 px canvas (pixel centres on integers)
        ref = (basis.shading_reference + 0.5) * (size / basis.shading.shape[1]) - 0.5
        self.warp_ = PiecewiseAffineWarp(ref, size)
        self.folds_ = FoldShading(basis, self.warp_, gain=float(self.fold_gain))

    def self_test_landmarks(self) -> np.ndarray:
        """``(68, 2)`` landmarks of the ICT mean face on this model's canvas (file self-test)."""
        self._check_fitted()
        return self.warp_.reference.copy()

    @property
    def neutralizes(self) -> bool:
        return self.expression is not None and str(self.expression).lower() == "neutral"

    # -- synthesis -----------------------------------------------------------------------
    def face_weights(self, landmarks: np.ndarray) -> dict[str, float]:
        """The unit intensities applied to the face with these ``(68, 2)`` landmarks."""
        self._check_fitted()
        weights = dict(self.weights_)
        if self.neutralizes or self.relative:
            own = estimate_units(landmarks).units
            for k in ANALYSIS_UNITS:
                # --to neutral removes only what exceeds the analysis' noise floor (real
                # neutral faces read 0.1-0.7 on some units: face shape and dlib's landmark
                # conventions, see analysis.py); --like takes the difference of two
                # estimates, in which that bias cancels
                remove = max(own[k] - NEUTRAL_FLOOR, 0.0) if self.neutralizes else own[k]
                weights[k] = weights.get(k, 0.0) - remove
        return weights

    def predict_shape(self, landmarks: np.ndarray, strength: float = 1.0,
                      weights: Mapping[str, float] | None = None) -> np.ndarray:
        """Moved landmarks ``(68, 2)`` of one face at ``strength``, shortened to avoid folds.

        Two things keep a fold in one place from weakening the whole expression: lips
        pressed together stop where they meet (inner-lip pairs never cross, along the
        face's own vertical), and the upper face (brows, eyes, nose: points 17-47) and the
        lower face (jaw and mouth) are fold-limited one after the other, each by its own
        factor (95 % of the largest fold-free fraction, as the shape + texture model).
        """
        self._check_fitted()
        lm = _check_landmarks(landmarks, 1)[0]
        w = self.face_weights(lm) if weights is None else dict(weights)
        motion = strength * self.motion(lm, w)
        target = _stop_lips_at_contact(lm, lm + motion, self._down(lm))
        out = lm.copy()
        for part in (_UPPER, _LOWER):
            step = out.copy()
            step[part] = target[part]
            limit = self.warp_.limit_motion(out, step)
            if limit < 1.0:
                step = out + _FOLD_SAFETY * limit * (step - out)
            out = step
        return out

    def _down(self, landmarks: np.ndarray) -> np.ndarray:
        """The face's own downward direction in the image (unit 2-vector, from its pose)."""
        basis = load_basis()
        pose = fit_pose(landmarks, basis.mean_shape)
        d = pose.project_motion(np.array([[0.0, -1.0, 0.0]]))[0]
        return d / max(float(np.linalg.norm(d)), 1e-12)

    def motion(self, landmarks: np.ndarray, weights: Mapping[str, float]) -> np.ndarray:
        """``(68, 2)`` image motion of ``weights`` for a face with these landmarks (its pose)."""
        basis = load_basis()
        pose = fit_pose(landmarks, basis.mean_shape)
        return pose.project_motion(basis.motion_3d(weights))

    def _check_input(self, X: np.ndarray) -> Batch:
        """Crops of the model's canvas size, gray (C = 1) or colour (C = 3)."""
        x = as_batch(X, "X")
        s = self.image_shape_[0]
        if x.image_shape[:2] != (s, s):
            raise ValueError(f"X holds crops of {x.image_shape[:2]}; this model works on {s} x {s} "
                             "aligned crops (see its alignment_)")
        return x

    def _predict(self, x: Batch, landmarks: np.ndarray | None, strength: float) -> np.ndarray:
        """Apply the actions to checked crops with landmarks ``(N, 68, 2)``."""
        if landmarks is None:  # pragma: no cover - the base class checks requires_landmarks
            raise ValueError("action units need the crops' landmarks: predict(X, landmarks=...)")
        lms = _check_landmarks(landmarks, len(x.raw))
        raw = x.raw if x.dtype == np.uint8 else np.rint(np.clip(x.values, 0, 1) * 255).astype(np.uint8)
        out = np.stack([self.synthesize_one(img, lm, strength) for img, lm in zip(raw, lms, strict=True)])
        if x.dtype != np.uint8:
            out = (out.astype(np.float64) / 255.0).astype(x.dtype)
        return x.in_layout(out)

    def _plan(self, lm: np.ndarray, strength: float) -> tuple[np.ndarray, Any, tuple[np.ndarray, np.ndarray], dict[str, float]]:
        """Moved landmarks, their raster, the backward map and the fold weights of one face."""
        weights = self.face_weights(lm)
        scaled = {k: strength * v for k, v in weights.items()}
        target = self.predict_shape(lm, 1.0, scaled)
        tri = self.warp_.triangulation
        raster = tri.raster(target)
        maps = raster.backward_map(tri.full_points(lm))
        # the folds follow the motion actually applied (after fold limiting), per face half
        full = self.motion(lm, scaled)
        applied = {part: _applied_fraction(lm[idx], target[idx], full[idx])
                   for part, idx in (("upper", _UPPER), ("lower", _LOWER))}
        folds = {k: applied[_unit_part(k)] * v for k, v in scaled.items()}
        return target, raster, maps, folds

    def synthesize_one(self, image: np.ndarray, landmarks: np.ndarray, strength: float = 1.0
                       ) -> np.ndarray:
        """One crop ``(S, S, C)`` uint8 with landmarks ``(68, 2)`` -> the changed crop (uint8)."""
        lm = np.asarray(landmarks, dtype=np.float64)
        target, raster, maps, folds = self._plan(lm, strength)
        img = image if image.ndim == 3 else image[..., None]
        moved = remap(img, maps, interpolation="cubic").reshape(img.shape)
        moved = self.folds_.apply(moved, raster, folds, target)
        if self.mouth:
            closing = inner_gap(target) < inner_gap(lm)
            old = old_interior_mask(lm, maps, img.shape[:2]) if closing else None
            moved = paint_mouth(moved, lm, target, img, teeth=bool(self.teeth), old_interior=old)
        return moved.reshape(image.shape)

    def synthesize_in_photo(self, photo: np.ndarray, landmarks: np.ndarray,
                            strength: float = 1.0) -> np.ndarray:
        """Change one face of ``photo`` ``(H, W, C)`` uint8 at the photo's own resolution.

        ``landmarks``: the face's ``(68, 2)`` points in the photo. The motion is planned on
        the aligned canvas as in :meth:`synthesize_one`, but the photo itself is resampled
        once (cubic) through that warp composed with the alignment, and the folds and the
        mouth are drawn at the photo's resolution: no detail of the moved face is lost, and
        nothing of the old face stays behind where it moved away (pasting a low-resolution
        *change* onto the photo leaves the photo's own fine detail, e.g. teeth, in place).
        Returns a new photo; pixels outside the face's canvas are unchanged.
        """
        import cv2

        from ..face.align import crop_matrix, invert_affine, transform_points

        self._check_fitted()
        plm = np.asarray(landmarks, dtype=np.float64)
        m = crop_matrix(plm, self.alignment_ or DEFAULT_ALIGNMENT)
        lm = transform_points(m, plm)
        target, raster, maps, folds = self._plan(lm, float(strength))
        size = self.image_shape_[0]
        inv = invert_affine(m)
        corners = transform_points(inv, np.array([[-0.5, -0.5], [size - 0.5, -0.5],
                                                  [-0.5, size - 0.5], [size - 0.5, size - 0.5]]))
        h, w = photo.shape[:2]
        x0, y0 = np.floor(corners.min(0)).astype(int).clip(0)
        x1 = int(min(w, np.ceil(corners[:, 0].max()) + 1))
        y1 = int(min(h, np.ceil(corners[:, 1].max()) + 1))
        if x1 <= x0 or y1 <= y0:
            return photo.copy()
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        qx = (m[0, 0] * xx + m[0, 1] * yy + m[0, 2]).astype(np.float32)  # crop coordinates
        qy = (m[1, 0] * xx + m[1, 1] * yy + m[1, 2]).astype(np.float32)
        # the canvas warp is the identity on its border: outside it, the map is q itself
        inside = (qx >= 0) & (qy >= 0) & (qx <= size - 1) & (qy <= size - 1)
        sx = np.where(inside, cv2.remap(maps[0], qx, qy, cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_REPLICATE), qx)
        sy = np.where(inside, cv2.remap(maps[1], qx, qy, cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_REPLICATE), qy)
        px = (inv[0, 0] * sx + inv[0, 1] * sy + inv[0, 2]).astype(np.float32)
        py = (inv[1, 0] * sx + inv[1, 1] * sy + inv[1, 2]).astype(np.float32)
        src = photo if photo.ndim == 3 else photo[..., None]
        roi = cv2.remap(src, px, py, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
        roi = roi.reshape(y1 - y0, x1 - x0, -1)
        factor = self.folds_.factor(raster, folds, target)
        if factor is not None:
            f = np.where(inside, cv2.remap(factor, qx, qy, cv2.INTER_LINEAR,
                                           borderMode=cv2.BORDER_REPLICATE), 1.0)
            roi = np.clip(np.rint(roi.astype(np.float32) * f[..., None]), 0, 255).astype(np.uint8)
        if self.mouth:
            off = np.array([x0, y0], dtype=np.float64)
            before = plm - off
            after = transform_points(inv, target) - off
            rmaps = (px - np.float32(x0), py - np.float32(y0))
            src_roi = src[y0:y1, x0:x1]
            closing = inner_gap(after) < inner_gap(before)
            old = old_interior_mask(before, rmaps, roi.shape[:2]) if closing else None
            roi = paint_mouth(roi, before, after, src_roi, teeth=bool(self.teeth), old_interior=old)
        out = photo.copy()
        out[y0:y1, x0:x1] = roi.reshape(out[y0:y1, x0:x1].shape)
        return out

    def _predict_values(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - needs landmarks
        raise ValueError("action units need landmarks: use predict(X, landmarks=...)")

    # -- persistence: the recipe is the whole state -------------------------------------
    def _state(self) -> dict[str, np.ndarray]:
        basis = load_basis()
        return {"weights": basis.weights_vector(self.weights_)}

    def _set_state(self, tensors: dict[str, np.ndarray], learned: dict[str, Any]) -> None:
        self._set_learned_meta(learned)
        basis = load_basis()
        w = tensors["weights"]
        self.weights_ = {u: float(v) for u, v in zip(basis.units, w, strict=True) if v != 0}
        self.alignment_ = DEFAULT_ALIGNMENT.with_size(self.image_shape_[0])  # the file's replaces it
        self._prepare()


_UPPER = np.arange(17, 48)
_LOWER = np.r_[0:17, 48:68]
_LIP_PAIRS = ((61, 67), (62, 66), (63, 65))


def _stop_lips_at_contact(start: np.ndarray, target: np.ndarray, down: np.ndarray) -> np.ndarray:
    """Where a motion would push a lower inner-lip point above its upper partner, meet midway.

    Only pairs that were not already crossed at ``start`` (dlib's closed mouths often are)
    are held; they stop at contact, so a pressed mouth does not fold its triangles.
    """
    out = target.copy()
    for up, lo in _LIP_PAIRS:
        before = float((start[lo] - start[up]) @ down)
        after = float((out[lo] - out[up]) @ down)
        if after < 0.0 <= before or (before < 0.0 and after < before):
            floor = min(before, 0.0)
            shift = 0.5 * (floor - after) * down
            out[lo] += shift
            out[up] -= shift
    return out


def _unit_part(key: str) -> str:
    """"upper" when most of a unit's landmark motion is on brows, eyes and nose, else "lower"."""
    basis = load_basis()
    m = basis.motion[basis.index(key)]
    up = float((m[_UPPER] ** 2).sum())
    return "upper" if up >= 0.5 * float((m**2).sum()) else "lower"


def _applied_fraction(lm: np.ndarray, target: np.ndarray, motion: np.ndarray) -> float:
    """How much of ``motion`` survived fold limiting (1 = all of it)."""
    full = float((motion * motion).sum())
    if full <= 0:
        return 1.0
    return float(np.clip(((target - lm) * motion).sum() / full, 0.0, 1.0))


class ActionsOnTop(ExpressionModel):
    """A learned model followed by extra action units (``--au`` on top of a learned ``--to``).

    The learned model runs first; the actions then move the landmarks it predicts (its
    ``predict_shape`` when it has one, else the input's) and warp its output.
    """

    model_type = "actions-on-top"
    requires_landmarks = True

    def __init__(self, base: ExpressionModel, actions: ActionUnitModel) -> None:
        self.base = base
        self.actions = actions
        self.info = dict(base.info or {})
        self.image_shape_ = base.image_shape_
        self.alignment_ = base.alignment_
        if not hasattr(actions, "weights_"):
            actions.fit(alignment=base.alignment_)

    def _check_input(self, X: np.ndarray) -> Batch:
        return self.base._check_input(X)

    def _predict(self, x: Batch, landmarks: np.ndarray | None, strength: float) -> np.ndarray:
        y = self.base.predict(x.raw, landmarks=landmarks, strength=strength)
        if landmarks is None:  # pragma: no cover - the base class checks requires_landmarks
            raise ValueError("action units need the crops' landmarks: predict(X, landmarks=...)")
        shape = getattr(self.base, "predict_shape", None)
        moved = np.stack([shape(lm, strength) if shape else lm for lm in landmarks])
        return x.in_layout(self.actions.predict(y, landmarks=moved, strength=strength))
