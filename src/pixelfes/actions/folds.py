"""Texture for folds: the shading change the 3D face predicts, as a relative luminance change.

The asset holds, for the units that crease the skin (AU4 brow lowerer, AU6 cheek raiser,
AU9 nose wrinkler, AU11/AU12 nasolabial fold), the ratio of Lambertian shading after and
before the unit's 3D motion (light from the front, a little above), drawn on the default
aligned canvas around the ICT mean landmarks; AU4's map is two drawn glabella furrows. A face
gets ``sum(intensity * map)`` warped from the mean landmarks onto its own moved landmarks
(the same piecewise-affine triangulation as the motion) and multiplied into its pixels:
a relative change, so a crease darkens dark skin and light skin by the same fraction.
Inside the lips it is left out (the lips' own shading is not predicted well), and
brightening is halved (``highlight``): darkening creases read as folds, but a full-strength
highlight on the cheeks read as a pale smudge.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..warp import PiecewiseAffineWarp, Raster, Triangulation, remap
from .basis import ActionUnitBasis

__all__ = ["FoldShading"]


class FoldShading:
    """Shading maps of the basis placed on one canvas size (built once per model)."""

    def __init__(self, basis: ActionUnitBasis, warp: PiecewiseAffineWarp, gain: float = 1.0,
                 highlight: float = 0.5) -> None:
        import cv2

        size = warp.size
        self.gain = float(gain)
        self.highlight = float(highlight)
        self.units = basis.shading_units
        scale = size / basis.shading.shape[1]
        if scale != 1.0:
            maps = [cv2.resize(m, (size, size), interpolation=cv2.INTER_LINEAR) for m in basis.shading]
            self.maps = np.stack(maps).astype(np.float32)
        else:
            self.maps = basis.shading.astype(np.float32)
        self.warp = warp
        # the person's left (L) is the image's right of the mean frontal face
        mid = float(warp.reference[27:31, 0].mean())
        xx = np.arange(size, dtype=np.float32)
        right = np.clip(0.5 + (xx - mid) / (0.04 * size), 0.0, 1.0)
        self.side = {"L": np.broadcast_to(right, (size, size)),
                     "R": np.broadcast_to(1.0 - right, (size, size))}

    def combined(self, weights: Mapping[str, float]) -> np.ndarray | None:
        """``(S, S) float32`` relative change in the mean-shape frame (None when no fold unit)."""
        out = None
        for i, unit in enumerate(self.units):
            w = float(weights.get(unit, 0.0))
            gain: np.ndarray | None = np.full(self.maps.shape[1:], w, np.float32) if w else None
            for side in ("L", "R"):
                ws = float(weights.get(unit + side, 0.0))
                if ws:
                    g = np.float32(ws) * self.side[side]
                    gain = g if gain is None else gain + g
            if gain is None:
                continue
            part = gain * self.maps[i]
            out = part if out is None else out + part
        return out

    def factor(self, raster: Raster, weights: Mapping[str, float], target: np.ndarray,
               triangulation: Triangulation | None = None) -> np.ndarray | None:
        """``(S, S) float32`` luminance factor on the canvas of ``target`` (None = no fold unit).

        ``raster``: ``target``'s raster in ``triangulation`` (default this model's own; the
        native engine passes its shape model's, whose raster it already has).
        """
        if self.gain == 0.0:
            return None
        change = self.combined(weights)
        if change is None:
            return None
        tri = self.warp.triangulation if triangulation is None else triangulation
        moved = remap(change, raster.backward_map(tri.full_points(self.warp.reference)),
                      interpolation="linear")
        moved = moved * self.gain
        moved *= 1.0 - _lip_mask(target, moved.shape[:2])
        # brightening (surfaces turned to the light: cheek tops in a smile) at ``highlight``
        # of the prediction: at full strength it read as pale smudges on the cheeks
        moved = np.where(moved > 0, self.highlight * moved, moved)
        return np.clip(1.0 + moved, 0.3, 1.7).astype(np.float32)

    def apply(self, image: np.ndarray, raster: Raster, weights: Mapping[str, float],
              target: np.ndarray) -> np.ndarray:
        """Multiply ``image`` (warped crop, uint8, landmarks ``target``) by the fold shading."""
        factor = self.factor(raster, weights, target)
        if factor is None:
            return image
        out = image.astype(np.float32) * (factor[..., None] if image.ndim == 3 else factor)
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _lip_mask(landmarks: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    import cv2

    mask = np.zeros(shape, dtype=np.uint8)
    pts = np.rint(np.asarray(landmarks)[48:60] * 16).astype(np.int32)
    cv2.fillPoly(mask, [pts], 255, lineType=cv2.LINE_AA, shift=4)
    return cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), 1.5)
