"""The colour of the teeth's highlights and glints, relative to the same teeth (issue 11).

Blind raters named, among the native smile's giveaways, "over-bright or bluish highlights,
odd orange glints" and "uniformly clean and white" teeth. :func:`teeth_glints` turns those
words into figures on the teeth :func:`pixelfes.evaluate.teeth.teeth_pixels` finds (the
same teeth as :func:`~pixelfes.evaluate.teeth.teeth_look`), each relative to the teeth's own
median, so it reads the same on every skin tone and exposure; an output is scored against
the same person's real smile by the same numbers (docs/mouth.md, "The lent teeth's
highlights and glints").
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .teeth import _MIN_TEETH, find_teeth

__all__ = ["GLINT_KEYS", "glint_figures", "teeth_glints"]

#: the figures :func:`glint_figures` returns
GLINT_KEYS = ("hi_L", "hi_a", "hi_b", "b_spread", "blue", "orange", "chroma_hp")
HIGH_SHARE = 0.05  # the brightest share of teeth pixels read as the highlights
OFF_HUE = 6.0  # a*/b* units off the teeth's median beyond which a pixel is a blue / orange glint
_HP_SIGMA = 1.0  # pixels: the finest band of a* and b* (the channel minus its Gaussian)


def glint_figures(lab_window: np.ndarray, teeth: np.ndarray) -> dict[str, float]:
    """The glint figures of ``teeth`` (``(H, W) bool``) in a CIELAB window ``(H, W, 3)``
    (float, L* in 0-100).

    With ``m`` the teeth's median L*, a*, b* and ``H`` the teeth pixels whose L* is at or above
    their ``1 - HIGH_SHARE`` quantile: ``hi_L``, ``hi_a``, ``hi_b`` the mean L*, a*, b* over
    ``H`` minus ``m`` (a bluish highlight: ``hi_b`` below the real smile's); ``b_spread`` the
    teeth's b* 90th minus 10th percentile (uniform teeth: small); ``blue`` the share of teeth
    pixels with b* more than ``OFF_HUE`` below ``m``'s; ``orange`` the share with both a* and
    b* more than ``OFF_HUE`` above ``m``'s; ``chroma_hp`` the mean of ``hypot(a* - G(a*),
    b* - G(b*))`` over the teeth eroded by one pixel (``G`` a Gaussian of ``_HP_SIGMA`` px,
    border reflected: pixel-scale colour speckle; NaN when the erosion leaves none).
    Raises ``ValueError`` when fewer than 30 teeth pixels are given.
    """
    import cv2

    lab_window = np.asarray(lab_window, dtype=np.float64)
    teeth = np.asarray(teeth, dtype=bool)
    if lab_window.ndim != 3 or lab_window.shape[2] != 3 or teeth.shape != lab_window.shape[:2]:
        raise ValueError(f"lab_window must be (H, W, 3) and teeth (H, W); got {lab_window.shape} and {teeth.shape}")
    if teeth.sum() < _MIN_TEETH:
        raise ValueError(f"teeth must hold at least {_MIN_TEETH} pixels; got {int(teeth.sum())}")
    px = lab_window[teeth]
    med = np.median(px, axis=0)
    high = px[px[:, 0] >= np.quantile(px[:, 0], 1.0 - HIGH_SHARE)]
    d = px - med
    core = cv2.erode(teeth.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    hp = [lab_window[..., c].astype(np.float32) - cv2.GaussianBlur(lab_window[..., c].astype(np.float32), (0, 0), _HP_SIGMA)
          for c in (1, 2)]
    return {"hi_L": float(high[:, 0].mean() - med[0]), "hi_a": float(high[:, 1].mean() - med[1]),
            "hi_b": float(high[:, 2].mean() - med[2]),
            "b_spread": float(np.percentile(px[:, 2], 90) - np.percentile(px[:, 2], 10)),
            "blue": float(np.mean(d[:, 2] < -OFF_HUE)),
            "orange": float(np.mean((d[:, 1] > OFF_HUE) & (d[:, 2] > OFF_HUE))),
            "chroma_hp": float(np.hypot(hp[0], hp[1])[core].mean()) if core.any() else float("nan")}


def teeth_glints(rgb: np.ndarray, landmarks: np.ndarray) -> dict[str, Any]:
    """:func:`glint_figures` of one photo (``(H, W, 3) uint8``, its ``(68, 2)`` landmarks) on the
    teeth :func:`~pixelfes.evaluate.teeth.teeth_look` finds; ``{"open": False}`` for a closed
    mouth or one with too few teeth pixels, else ``open`` True and the figures."""
    found = find_teeth(rgb, landmarks)
    if found is None:
        return {"open": False}
    return {"open": True, **glint_figures(found.lab, found.teeth)}
