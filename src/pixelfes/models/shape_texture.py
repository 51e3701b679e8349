"""Shape + texture: a tiny landmark model moves the face, a pixel model changes its texture.

The paper's pixel models cannot move pixels, and a smile is mostly a change of shape
(``docs/design.md`` section 4). This model keeps them where they are good, in texture:

1. **shape**: target landmarks from source landmarks in the aligned frame
   (:class:`~pixelfes.models.shape.ShapeModel`: mean motion or per-point ridge, chosen by
   identity-disjoint cross-validation);
2. **texture**: any pixel model (Pixel-RR by default) fitted between faces warped
   piecewise-affinely into one reference shape, the mean *target* shape, so each pixel
   is the same point of every face;
3. **region**: where the expression changes texture, learned from the training pairs
   (:func:`~pixelfes.models.region.learn_region`), never drawn by hand.

Synthesis warps the input once (cubic) from its landmarks onto the predicted ones and
adds ``strength * region * change``, the texture change computed in the reference frame
and warped onto the predicted shape, where ``change = f(t) - t + (gain - 1) (f(m) - m)``
with ``m`` the mean training face: the pixel model's own change, plus ``gain - 1`` times
the expression's *average* change. Amplifying only the average part strengthens the
expression without pulling skin and lips further towards the average face.
``strength`` scales motion and texture change alike; 0 returns the input exactly. A
motion that would fold a triangle over is shortened until it does not.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import Batch, blend, check_landmarks, check_strength
from ..warp import PiecewiseAffineWarp, remap
from . import model_class, register_model
from .base import ExpressionModel, default_info
from .region import learn_region
from .shape import ShapeModel

_FOLD_SAFETY = 0.95  # use 95 % of the largest fold-free motion: keeps triangles visibly open


@register_model
class ShapeTextureModel(ExpressionModel):
    """Expression synthesis by landmark motion (shape) plus a pixel model (texture).

    Parameters: ``texture`` the pixel model type ("pixel-rr", "pixel-kr" or "mr"),
    ``lam``/``sigma``/``k`` its parameters, ``shape`` the shape model's method ("auto",
    "mean", "ridge", "linear"), ``texture_gain`` how strongly the expression's average
    texture change is added at strength 1 (1.0 = exactly the pixel model's change). The
    default 2.5 was chosen on held-out London people (identity-disjoint 5-fold): the
    change a pixel model learns is an average over many smiles, fainter than any one of
    them; at 1.0 it hardly reads (fer calls 15 % of outputs happy), at 2.5 72 % are (real
    smiles: 50 %) with identity distance 0.275, while more motion instead costs identity. Inputs are aligned crops ``(N, S, S, C)`` with their
    landmarks ``(N, 68, 2)`` in crop pixel coordinates (the 192 px canvas with margin
    1.5 of :mod:`pixelfes.face` keeps chin and forehead inside).
    """

    model_type = "shape-texture"
    requires_landmarks = True
    _param_names = ("texture", "lam", "sigma", "k", "shape", "texture_gain")

    def __init__(self, texture: str = "pixel-rr", lam: float = 0.4, sigma: float = 3.0,
                 k: int = 3, shape: str = "auto", texture_gain: float = 2.5) -> None:
        self.texture = texture
        self.lam = lam
        self.sigma = sigma
        self.k = k
        self.shape = shape
        self.texture_gain = texture_gain
        self.info = default_info()

    def _validate_params(self) -> None:
        super()._validate_params()
        if not (np.isfinite(self.texture_gain) and self.texture_gain >= 0):
            raise ValueError(f"texture_gain must be a number >= 0; got {self.texture_gain!r}")

    def _texture_model(self) -> ExpressionModel:
        if self.texture == self.model_type:
            raise ValueError("texture must be a pixel model, not shape-texture itself")
        cls = model_class(self.texture)
        params = {"lam": self.lam, "sigma": self.sigma, "k": self.k}
        return cls(**{n: params[n] for n in cls._param_names if n in params})

    # -- fitting ------------------------------------------------------------------------
    def _fit(self, x: Batch, t: Batch, *, landmarks_source: np.ndarray | None,
             landmarks_target: np.ndarray | None, groups: np.ndarray | None) -> None:
        """Learn from aligned pairs ``(N, S, S, C)`` and their landmarks ``(N, K, 2)``.

        ``groups`` (one identity per pair) keeps cross-validation of the shape model
        identity-disjoint; without it every pair counts as its own person.
        """
        n, h, w, c = x.raw.shape
        if h != w:
            raise ValueError(f"crops must be square (S, S); got {h}x{w}")
        assert landmarks_source is not None and landmarks_target is not None  # base class checks
        ls, lt = landmarks_source, landmarks_target
        groups = np.arange(n).astype(str) if groups is None else groups
        shape = ShapeModel(method=self.shape)
        if self.shape == "auto" and len(set(groups.tolist())) < 2:
            shape = ShapeModel(method="mean")
        self.shape_model_ = shape.fit(ls, lt, groups=groups if self.shape == "auto" else None)
        self.reference_ = lt.mean(axis=0)
        self.warp_ = PiecewiseAffineWarp(self.reference_, h)
        xr = self._to_reference(x.raw, ls)
        tr = self._to_reference(t.raw, lt)
        self.texture_model_ = self._texture_model().fit(xr, tr)
        self.region_ = learn_region(xr, tr, self.reference_).astype(np.float64)
        self.mean_source_ = np.rint(xr.astype(np.float64).mean(axis=0)).astype(np.uint8)
        self._prepare()

    def _prepare(self) -> None:
        """Precompute the expression's average texture change (the mean face's change).

        ``texture_gain`` is applied at synthesis, so ``set_params(texture_gain=...)`` on a
        fitted model takes effect at once.
        """
        mean = self.mean_source_
        self._average_change = self.texture_model_.predict(mean[None])[0].astype(np.float32) - mean

    def _to_reference(self, images: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        out = np.empty_like(images)
        for i, (img, lm) in enumerate(zip(images, landmarks, strict=True)):
            out[i] = self.warp_.to_reference(img, lm).reshape(img.shape)
        return out

    # -- synthesis ----------------------------------------------------------------------
    def predict_shape(self, landmarks: np.ndarray, strength: float = 1.0) -> np.ndarray:
        """Predicted landmarks ``(K, 2)`` for one face at ``strength``, shortened to avoid folds."""
        self._check_fitted()
        return self._target_shape(check_landmarks(landmarks, 1)[0], check_strength(strength))

    def _target_shape(self, lm: np.ndarray, strength: float) -> np.ndarray:
        target = self.shape_model_._predict_checked(lm[None], strength)[0]
        limit = self.warp_.limit_motion(lm, target)
        if limit < 1.0:
            target = blend(lm, target, _FOLD_SAFETY * limit)
        return target

    def _predict(self, x: Batch, landmarks: np.ndarray | None, strength: float) -> np.ndarray:
        """Synthesize for crops with landmarks ``(N, K, 2)``: motion and texture change together.

        ``strength`` scales both; the result keeps the caller's shape and dtype family.
        """
        assert landmarks is not None  # predict() requires them (requires_landmarks)
        a = strength
        raw = x.raw if x.dtype == np.uint8 else x.values
        out = np.stack([self._synthesize_one(img, lm, a)
                        for img, lm in zip(raw, landmarks, strict=True)])
        if x.dtype == np.uint8:
            result = out
        else:
            result = np.clip(out.astype(np.float64) / 255.0, 0, 1).astype(x.dtype)
        return x.in_layout(result)

    def _synthesize_one(self, image: np.ndarray, lm: np.ndarray, strength: float) -> np.ndarray:
        """One crop (S, S, C), uint8 or float [0, 1] -> uint8 (S, S, C)."""
        img8 = image if image.dtype == np.uint8 else np.rint(image * 255).astype(np.uint8)
        target = self._target_shape(lm, strength)
        tri = self.warp_.triangulation
        raster = tri.raster(target)  # one rasterisation of the predicted shape serves both maps
        moved = remap(img8, raster.backward_map(tri.full_points(lm)), interpolation="cubic")
        ref = self.warp_.to_reference(img8, lm).reshape(img8.shape)
        change = self.texture_model_.predict(ref[None])[0].astype(np.float32) - ref
        change += np.float32(float(self.texture_gain) - 1.0) * self._average_change
        change *= self.region_[..., None].astype(np.float32)
        back = remap(change, raster.backward_map(tri.full_points(self.reference_)),
                     interpolation="linear")
        out = moved.reshape(img8.shape).astype(np.float32) + np.float32(strength) * back.reshape(img8.shape)
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)

    # -- persistence --------------------------------------------------------------------
    def _state(self) -> dict[str, np.ndarray]:
        shape_arrays, _ = self.shape_model_.to_arrays()
        state = {f"shape.{k}": v for k, v in shape_arrays.items()}
        state.update({f"texture.{k}": v for k, v in self.texture_model_._state().items()})
        state.update(region=self.region_, reference=self.reference_,
                     simplices=self.warp_.simplices.astype(np.int64), mean_source=self.mean_source_)
        return state

    def _learned_meta(self) -> dict[str, Any]:
        meta = super()._learned_meta()
        meta["shape"] = self.shape_model_.to_arrays()[1]
        meta["texture"] = self.texture_model_._learned_meta()
        return meta

    def _set_state(self, tensors: dict[str, np.ndarray], learned: dict[str, Any]) -> None:
        self._set_learned_meta(learned)
        shape_arrays = {k[6:]: v for k, v in tensors.items() if k.startswith("shape.")}
        self.shape_model_ = ShapeModel.from_arrays(shape_arrays, learned["shape"])
        texture = self._texture_model()
        texture._set_state({k[8:]: v for k, v in tensors.items() if k.startswith("texture.")},
                           learned["texture"])
        self.texture_model_ = texture
        self.region_ = tensors["region"].astype(np.float64)
        self.reference_ = tensors["reference"].astype(np.float64)
        self.warp_ = PiecewiseAffineWarp(self.reference_, self.image_shape_[0],
                                         simplices=tensors["simplices"])
        self.mean_source_ = tensors["mean_source"].astype(np.uint8)
        self._prepare()
