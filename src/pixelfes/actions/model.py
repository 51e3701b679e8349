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

import functools
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
from .mouth import OPEN_FADE, mouth_changes, paint_mouth
from .pose import Pose, fit_pose
from .recipes import recipe_for

__all__ = ["ActionUnitModel", "ActionsOnTop", "NativeActionsOnTop"]

# Unit intensity left in place by --to neutral (analysis noise on real neutral faces). Chosen
# on London's smiles -> their own neutral photos, the people outside the blind test, in 5
# identity-disjoint folds (scripts/measure_analysis.py --to-neutral): the folds chose 0.15,
# 0.1 x 4, held out 1.44 px (no motion 1.66); on all of them floor 0: 1.47, 0.1: 1.44, 0.2:
# 1.46, 0.3: 1.51. The only choice made on London for --to neutral.
NEUTRAL_FLOOR = 0.1
_FOLD_SAFETY = 0.95  # as the shape + texture model: 95 % of the largest fold-free motion
#: How :meth:`ActionUnitModel.synthesize_in_photo` resamples the photo's moving pixels:
#: "cubic" (as the native engine) or "linear" (the remap 7x cheaper: a quarter of the step,
#: 5-6 ms, on a ~440 px face; but 0.81-0.84 of the cubic's sharpness where the face moves:
#: docs/actions.md, "Cost", fourth pass) or "cubic2x" (the source sharpened a little and
#: upsampled 2x with OpenCV's vectorised cubic resize, then linear: within a level of the
#: cubic on almost every pixel, as sharp; "Cost", seventh pass)
PHOTO_INTERPOLATION = "cubic"


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
                # neutral faces read 0.15-0.9 on some units: face shape and dlib's landmark
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
        return self._limited(lm, strength * self.motion(lm, w))

    def _limited(self, lm: np.ndarray, motion: np.ndarray) -> np.ndarray:
        """:meth:`predict_shape` of ``(68, 2)`` landmarks moved by ``motion`` ``(68, 2)``."""
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
        pose = _neutral_pose(landmarks)
        d = pose.project_motion(np.array([[0.0, -1.0, 0.0]]))[0]
        return d / max(float(np.linalg.norm(d)), 1e-12)

    def motion(self, landmarks: np.ndarray, weights: Mapping[str, float]) -> np.ndarray:
        """``(68, 2)`` image motion of ``weights`` for a face with these landmarks (its pose).

        Added actions hold the nose below its root (points 28-35) rigid except for the
        units whose muscles move it (:data:`NOSE_UNITS`, :func:`synthesis_motion`); removed
        ones (negative intensities: ``--to neutral``, ``--like``) use the raw basis, the one
        the analysis explained the real landmarks with.
        """
        basis = load_basis()
        pose = _neutral_pose(landmarks)
        w = basis.weights_vector(weights)
        m3 = np.tensordot(np.maximum(w, 0.0), synthesis_motion(NOSE_WRINKLE_SHARE), axes=1) \
            + np.tensordot(np.minimum(w, 0.0), basis.motion, axes=1)
        return pose.project_motion(m3)

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

    def _plan(self, lm: np.ndarray, strength: float, with_map: bool = True
              ) -> tuple[np.ndarray, Any, tuple[np.ndarray, np.ndarray] | None, dict[str, float]]:
        """Moved landmarks, their raster, the backward map (None unless ``with_map``) and the
        fold weights of one face."""
        target, folds = self.plan_motion(lm, strength)
        tri = self.warp_.triangulation
        raster = tri.raster(target)
        maps = raster.backward_map(tri.full_points(self.warp_source(lm, target))) if with_map else None
        return target, raster, maps, folds

    def warp_source(self, lm: np.ndarray, target: np.ndarray) -> np.ndarray:
        """The landmarks the warp reads from: ``lm``, but where the mouth opens (and
        :func:`~.mouth.paint_mouth` paints its interior) the inner lips read from inside the
        lips (:func:`pixelfes.native.lip_only_source`, in proportion to the opening's blend).

        dlib's inner points of a closed mouth sit a pixel or two off the lip line (on 062 on
        the lower lip's light top), so the upper lip's triangles carried the line and the
        lower lip's top up into the opened upper lip: a light box with vertical edges at
        61 and 63 above the teeth (fearful, surprised). The native smile reads so too.
        """
        from ..mouth import inner_gap
        from ..native import _LIP_ONLY, lip_only_source

        if not self.mouth:
            return lm
        share = float(np.clip((inner_gap(target) - inner_gap(lm)) / OPEN_FADE, 0.0, 1.0))
        return lip_only_source(lm, _LIP_ONLY * share) if share > 0 else lm

    def plan_motion(self, landmarks: np.ndarray, strength: float = 1.0
                    ) -> tuple[np.ndarray, dict[str, float]]:
        """Moved landmarks ``(68, 2)`` of one face (:meth:`predict_shape`) and the fold weights
        that go with the motion actually applied (after fold limiting, per face half).

        What every engine that shades this model's folds takes (:meth:`synthesize_in_photo`,
        and the native smile's eye part, :func:`pixelfes.native.smile_eyes`).
        """
        lm = np.asarray(landmarks, dtype=np.float64)
        weights = self.face_weights(lm)
        scaled = {k: strength * v for k, v in weights.items()}
        full = self.motion(lm, scaled)  # (once: predict_shape(lm, 1.0, scaled) made it again)
        target = self._limited(_check_landmarks(lm, 1)[0], full)
        applied = {part: _applied_fraction(lm[idx], target[idx], full[idx])
                   for part, idx in (("upper", _UPPER), ("lower", _LOWER))}
        folds = {k: applied[_unit_part(k)] * v for k, v in scaled.items()}
        return target, folds

    def synthesize_one(self, image: np.ndarray, landmarks: np.ndarray, strength: float = 1.0
                       ) -> np.ndarray:
        """One crop ``(S, S, C)`` uint8 with landmarks ``(68, 2)`` -> the changed crop (uint8)."""
        lm = np.asarray(landmarks, dtype=np.float64)
        target, raster, maps, folds = self._plan(lm, strength)
        assert maps is not None
        img = image if image.ndim == 3 else image[..., None]
        moved = remap(img, maps, interpolation="cubic").reshape(img.shape)
        moved = self.folds_.apply(moved, raster, folds, target)
        if self.mouth:
            moved = paint_mouth(moved, lm, target, img, teeth=bool(self.teeth))
        return moved.reshape(image.shape)

    def synthesize_in_photo(self, photo: np.ndarray, landmarks: np.ndarray,
                            strength: float = 1.0, *, out: np.ndarray | None = None,
                            interpolation: str | None = None) -> np.ndarray:
        """Change one face of ``photo`` ``(H, W, C)`` uint8 at the photo's own resolution.

        ``landmarks``: the face's ``(68, 2)`` points in the photo. The motion is planned on
        the aligned canvas as in :meth:`synthesize_one`; the native engine's one composed
        backward map (:func:`pixelfes.native.photo_map`: photo -> canvas, the canvas warp,
        canvas -> photo, evaluated exactly over the lips) then resamples the photo itself
        once (cubic), only where something moves (:func:`pixelfes.native.resample_photo_map`),
        with the fold shading brought along as a luminance ratio; the mouth is drawn at the
        photo's resolution. Pixels that neither move nor change keep their bytes. Returns a
        new photo, or ``out`` (same shape, may be ``photo`` itself) written in place: no
        copy of the whole photo, as the pipeline calls it face after face. ``interpolation``:
        "cubic", "linear" or "cubic2x" (default :data:`PHOTO_INTERPOLATION`).
        """
        from ..face.align import crop_matrix, invert_affine, transform_points
        from ..native import INTERPOLATIONS, plan_photo_map, resample_photo_map

        self._check_fitted()
        interp = PHOTO_INTERPOLATION if interpolation is None else interpolation
        if interp not in INTERPOLATIONS:
            raise ValueError(f"interpolation must be 'cubic', 'linear' or 'cubic2x'; got {interp!r}")
        fresh = out is None
        if out is None:
            out = photo.copy()
        elif out.shape != photo.shape or out.dtype != np.uint8:
            raise ValueError(f"out must be a uint8 array shaped like photo {photo.shape}; "
                             f"got {out.dtype} {out.shape}")
        plm = np.asarray(landmarks, dtype=np.float64)
        align = self.alignment_ or DEFAULT_ALIGNMENT
        m = crop_matrix(plm, align)
        lm = transform_points(m, plm)
        target, raster, _, folds = self._plan(lm, float(strength), with_map=False)
        factor = self.folds_.factor(raster, folds, target)
        src = photo if photo.ndim == 3 else photo[..., None]
        extra = None if factor is None else factor - np.float32(1.0)
        pmap = plan_photo_map(m, self.warp_.triangulation, self.warp_source(lm, target), target,
                              align, src.shape[:2],
                              also=None if extra is None else np.abs(extra) > 1e-3, extra=extra,
                              raster=raster)
        if pmap is None:
            if not fresh and out is not photo:
                out[...] = photo
            return out
        after = transform_points(invert_affine(m), target)
        # the mouth box only: colours and the interior are local to the lips
        pad = int(np.ceil(0.6 * float(np.ptp(plm[48:68, 0])))) + 2
        bx0, by0 = np.floor(np.minimum(plm[48:68].min(0), after[48:68].min(0)) - pad).astype(int).clip(0)
        bx1 = int(min(photo.shape[1], np.ceil(max(plm[48:68, 0].max(), after[48:68, 0].max()) + pad)))
        by1 = int(min(photo.shape[0], np.ceil(max(plm[48:68, 1].max(), after[48:68, 1].max()) + pad)))
        # the mouth's source pixels, kept before ``out`` is written when ``out`` is ``photo``
        before_mouth = photo[by0:by1, bx0:bx1] if self.mouth else None
        if before_mouth is not None and np.shares_memory(out, photo):
            before_mouth = before_mouth.copy()
        # the person's colours from the photo before: the cheek disks below the eyes lie
        # partly (53 of the 82 London faces) or wholly (101) outside the mouth box
        colours = None
        if before_mouth is not None and src.shape[2] == 3 and mouth_changes(plm, after):
            from ..mouth import person_colours

            colours = person_colours(photo, plm)
        x0, y0, x1, y1 = pmap.box
        if not fresh and out is not photo:  # outside the face box, out is the photo's bytes
            out[...] = photo
        resample_photo_map(src, (out if out.ndim == 3 else out[..., None])[y0:y1, x0:x1], pmap,
                           interpolation=interp)
        if before_mouth is not None:
            off = np.array([bx0, by0], dtype=np.float64)
            view = out[by0:by1, bx0:bx1]
            painted = paint_mouth(view, plm - off, after - off, before_mouth, teeth=bool(self.teeth),
                                  colours=colours)
            if painted is not view:
                view[...] = painted
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
_NOSE = np.arange(28, 36)  # bridge, tip and base; 27 (the root, between the brows) moves with them
#: Units whose muscles move the nose itself: levator labii superioris alaeque nasi (AU9, and
#: the nasal part of AU10/AU11) lifts the alae; nasalis and dilator naris (AU38, AU39) have no
#: ICT shape. Every other unit leaves bone and cartilage where they are.
NOSE_UNITS = ("AU9", "AU10", "AU11")


#: Share of the ICT nose wrinkler's (AU9's) motion of the brows and the nose (points 17-35)
#: that synthesis applies; its lips keep all of theirs. The scan lifts the whole nose 3.4 px
#: and lowers the brows 1.4 px on a London 192 px crop at intensity 1 (a strong sneer): chosen
#: between 0.5 and 1 on training folds with the disgust recipe (scripts/choose_intensities.py).
NOSE_WRINKLE_SHARE = 0.5


def _neutral_pose(landmarks: np.ndarray) -> Pose:
    """:func:`~.pose.fit_pose` of ``(68, 2)`` landmarks to the ICT mean shape, kept for the
    few faces in hand (one face's plan asks for it three times; the same pose each time)."""
    lm = np.ascontiguousarray(landmarks, dtype=np.float64)
    if lm.shape != (68, 2):
        return fit_pose(lm, load_basis().mean_shape)  # (its error names the shape)
    return _pose_of_bytes(lm.tobytes())


@functools.lru_cache(maxsize=8)
def _pose_of_bytes(landmarks: bytes) -> Pose:
    return fit_pose(np.frombuffer(landmarks, dtype=np.float64).reshape(68, 2), load_basis().mean_shape)


@functools.lru_cache(maxsize=4)
def synthesis_motion(nose_wrinkle_share: float = 1.0) -> np.ndarray:
    """``(U, 68, 3)``: the basis' motion as synthesis applies it (analysis keeps the raw basis).

    The nose (28-35) is rigid for non-nose units: the ICT scans drag the nose's skin with
    the cheeks and lips (its AU12 widens the nose by about 23 %, 3.7 px on the 192 px canvas
    of a London face; the real London smiles widen it by 1.1 px), and a changed nose is what
    the identity measure notices most (docs/actions.md). The nose is bone and cartilage: only
    units whose muscles insert there (:data:`NOSE_UNITS`) move it. AU9 moves the brows and
    the nose by ``nose_wrinkle_share`` of the scan (:data:`NOSE_WRINKLE_SHARE`).
    """
    basis = load_basis()
    motion = basis.motion.copy()
    for i, key in enumerate(basis.units):
        if not any(key == u or key.startswith(u) and key[len(u):] in ("L", "R") for u in NOSE_UNITS):
            motion[i, _NOSE] = 0.0
        if key.rstrip("LR") == "AU9":
            motion[i, 17:36] *= float(nose_wrinkle_share)
    motion.flags.writeable = False
    return motion


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


@functools.lru_cache(maxsize=256)
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


class NativeActionsOnTop(ActionsOnTop):
    """:class:`ActionsOnTop` at the photo's own resolution, for a colour shape + texture model
    (what the pipeline runs natively, :mod:`pixelfes.native`): the native engine changes the
    face first, then the action units move the landmarks it moved to, both on the photo's
    pixels (:meth:`ActionUnitModel.synthesize_in_photo`); no crop is pasted back. On crops
    (``predict``) it is :class:`ActionsOnTop`."""

    def synthesize_in_photo(self, photo: np.ndarray, landmarks: np.ndarray, strength: float = 1.0,
                            *, out: np.ndarray | None = None) -> np.ndarray:
        """Change one face of ``photo`` ``(H, W, 3)`` uint8 (``landmarks`` ``(68, 2)`` in it):
        a new photo, or ``out`` written in place (it may be ``photo`` itself)."""
        from ..native import synthesize_face

        if out is None:
            out = photo.copy()
        elif not np.shares_memory(out, photo):
            out[...] = photo
        # the native engine reads one array and writes another
        source = photo.copy() if np.shares_memory(out, photo) else photo
        done = synthesize_face(source, out, landmarks, self.base, strength)
        moved = landmarks if done.landmarks is None else done.landmarks
        return self.actions.synthesize_in_photo(out, moved, strength, out=out)
