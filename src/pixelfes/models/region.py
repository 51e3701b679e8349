"""Where an expression changes a face's texture: a soft region learned from training pairs.

Why: the texture change ``f(t) - t`` of a pixel model, applied to the whole face, pulls
eyes, make-up and hair towards the average face; applied only where the expression
really acts (a smile: the mouth and the cheek folds beside it) it adds teeth and folds
and leaves the person alone. The region is learned per expression, in the reference
frame of the shape + texture model (every training face warped into one shape).

What the region must *not* measure: the mean absolute change ``E|t - s|``. It peaks on
the hairline, the neck and the background, which differ between two photos for
reasons that are not the expression (the warp drags them, the head moves, the light
changes). Two statistics remove that:

- ``"contrast"`` (needs ``neutral_pairs``: two expression-free photos of one person,
  warped the same way): ``E|t - s| - E|a - b|`` -- the change beyond what happens between
  two photos without an expression.
- ``"mean_change"`` (no neutral pairs needed, e.g. the London set has one neutral photo
  per person): the length of the *mean signed* change ``||E[t - s]||`` over the colour
  channels, minus ``z`` standard errors. An expression changes texture the same way in
  every face (teeth brighten the mouth, folds darken the cheeks), so its mean change is
  large; nuisance changes have random sign from pair to pair (hair falls left or right,
  the head tilts up or down), so they average out, and what is left of them is at the
  level of the standard error, which is subtracted. Difference images are smoothed a
  little first, so the statistic is about low-frequency change, not pixel noise.
- ``"abs"``: the plain ``E|t - s|``, for comparison only.

All are then smoothed (Gaussian), kept inside a soft face hull (jaw line plus the
brows raised a little, from the reference landmarks; exactly zero outside it), and
scaled to [0, 1] by a high percentile inside the hull.
"""

from __future__ import annotations

import cv2
import numpy as np

from pixelfes._validation import as_batch

__all__ = ["learn_region", "face_hull"]

_STATISTICS = ("auto", "contrast", "mean_change", "abs")


def learn_region(
    src_ref: np.ndarray,
    tgt_ref: np.ndarray,
    ref_landmarks: np.ndarray,
    neutral_pairs: tuple[np.ndarray, np.ndarray] | None = None,
    *,
    statistic: str = "auto",
    z: float = 1.0,
    pre_sigma: float = 1.0,
    sigma: float | None = None,
    brow_raise: float = 0.12,
    ramp: float | None = None,
    percentile: float = 99.0,
) -> np.ndarray:
    """Learn the soft region ``(S, S) float32`` in [0, 1] where the expression changes texture.

    Parameters
    ----------
    src_ref, tgt_ref : ``(N, S, S, C)`` or ``(N, S, S)``, uint8 or floats in [0, 1]
        Source / target expression faces, already warped into the reference shape.
    ref_landmarks : ``(K, 2)`` reference landmarks ``(x, y)`` (68-point layout for the
        raised-brow hull; any other ``K`` uses the plain convex hull of the points).
    neutral_pairs : optional ``(a, b)``, each ``(M, S, S[, C])`` like ``src_ref``
        Two expression-free photos per person, warped into the reference shape.
    statistic : "auto" (= "contrast" with ``neutral_pairs``, else "mean_change"),
        "contrast", "mean_change" or "abs"; see the module docstring.
    z : standard errors subtracted by "mean_change".
    pre_sigma : Gaussian sigma (pixels at S = 192, scaled with S) for smoothing each
        difference image before the statistic.
    sigma : Gaussian sigma (pixels) for smoothing the statistic; default ``S / 64``.
    brow_raise : how far the brows are raised for the hull, as a fraction of the
        brow-to-chin height.
    ramp : width (pixels) of the soft edge inside the hull; default ``S / 24``.
    percentile : values inside the hull are divided by this percentile, then clipped to 1.
    """
    if statistic not in _STATISTICS:
        raise ValueError(f"statistic must be one of {', '.join(_STATISTICS)}; got {statistic!r}")
    s_b, t_b = as_batch(src_ref, "src_ref"), as_batch(tgt_ref, "tgt_ref")
    if s_b.values.shape != t_b.values.shape:
        raise ValueError(
            f"src_ref and tgt_ref must have the same shape (N, S, S, C); got "
            f"{s_b.values.shape} and {t_b.values.shape}"
        )
    n, h, w, c = s_b.values.shape
    if h != w:
        raise ValueError(f"images must be square (reference canvas S x S); got {h} x {w}")
    size = h
    if statistic == "auto":
        statistic = "contrast" if neutral_pairs is not None else "mean_change"
    if statistic == "contrast" and neutral_pairs is None:
        raise ValueError("statistic='contrast' needs neutral_pairs=(a, b); or use 'mean_change'")
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100]; got {percentile!r}")
    scale = size / 192.0
    pre = float(pre_sigma) * scale
    sig = size / 64.0 if sigma is None else float(sigma)
    rmp = size / 24.0 if ramp is None else float(ramp)

    diff = _smooth_batch(t_b.values - s_b.values, pre)  # (N, S, S, C)
    if statistic == "mean_change":
        if n < 2:
            raise ValueError("statistic='mean_change' needs at least 2 training pairs")
        mean = diff.mean(axis=0)
        var = diff.var(axis=0, ddof=1)
        stat = np.sqrt((mean**2).sum(axis=-1)) - float(z) * np.sqrt(var.sum(axis=-1) / n)
    else:
        stat = np.abs(diff).mean(axis=(0, 3))
        if statistic == "contrast":
            a_b = as_batch(neutral_pairs[0], "neutral_pairs[0]")  # type: ignore[index]
            b_b = as_batch(neutral_pairs[1], "neutral_pairs[1]")  # type: ignore[index]
            if a_b.values.shape != b_b.values.shape or a_b.values.shape[1:] != (h, w, c):
                raise ValueError(
                    f"neutral_pairs must be two arrays shaped (M, {h}, {w}, {c}); got "
                    f"{a_b.values.shape} and {b_b.values.shape}"
                )
            stat = stat - np.abs(_smooth_batch(a_b.values - b_b.values, pre)).mean(axis=(0, 3))
    stat = np.maximum(stat, 0.0)
    if sig > 0:
        stat = cv2.GaussianBlur(stat, (0, 0), sig, borderType=cv2.BORDER_REPLICATE)
    hull = face_hull(ref_landmarks, size, brow_raise=brow_raise, ramp=rmp)
    region = stat * hull
    inside = region[hull > 0]
    top = float(np.percentile(inside, percentile)) if inside.size else 0.0
    if top <= 0:
        return np.zeros((size, size), dtype=np.float32)
    return np.clip(region / top, 0.0, 1.0).astype(np.float32)


def face_hull(
    landmarks: np.ndarray, size: int, *, brow_raise: float = 0.12, ramp: float = 8.0
) -> np.ndarray:
    """Soft face hull ``(size, size) float64`` in [0, 1]: 1 inside, 0 outside, ``ramp`` px soft edge.

    For 68 points: convex hull of the jaw line (0-16) and the brows (17-26) raised by
    ``brow_raise`` x the brow-to-chin height, so the forehead lines above the brows are
    in. The edge ramps *inside* the hull (smoothstep of the distance to the edge), so
    the hull is exactly zero outside.
    """
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3 or not np.all(np.isfinite(pts)):
        raise ValueError(f"landmarks must be finite (K, 2) points with K >= 3; got shape {pts.shape}")
    if len(pts) == 68:
        jaw, brows = pts[0:17], pts[17:27].copy()
        height = float(pts[8, 1] - brows[:, 1].mean())
        brows[:, 1] -= brow_raise * max(height, 0.0)
        pts = np.concatenate([jaw, brows])
    hull = cv2.convexHull(np.rint(pts * 16).astype(np.int32))
    mask = np.zeros((size, size), dtype=np.uint8)
    cv2.fillConvexPoly(mask, hull, 1, lineType=cv2.LINE_8, shift=4)
    if ramp <= 0:
        return mask.astype(np.float64)
    dist = cv2.distanceTransform(mask, cv2.DIST_L2, 5).astype(np.float64)
    x = np.clip(dist / ramp, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _smooth_batch(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-smooth every image of ``(N, S, S, C)`` over its two spatial axes."""
    if sigma <= 0:
        return x
    out = np.empty_like(x)
    for i in range(len(x)):  # one cv2 call per image; C channels at once when C <= 4
        img = x[i]
        if img.shape[2] <= 4:
            out[i] = cv2.GaussianBlur(img, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE).reshape(img.shape)
        else:
            for ch in range(img.shape[2]):
                out[i, ..., ch] = cv2.GaussianBlur(img[..., ch], (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    return out
