"""Input checks shared by every model: one place that says what an image batch is.

Convention: a batch is ``(N, H, W, C)`` (or ``(N, H, W)`` for grayscale), RGB channel
order, either ``uint8`` in ``[0, 255]`` or floating point in ``[0, 1]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class Batch:
    """A validated batch shaped (N, H, W, C), plus how to give results back to the caller."""

    raw: np.ndarray  # the caller's values, (N, H, W, C), uint8 or float in [0, 1]
    dtype: np.dtype  # the caller's dtype, restored on output
    squeeze_channel: bool  # the caller passed (N, H, W)

    @cached_property
    def values(self) -> np.ndarray:
        """(N, H, W, C) float64 in [0, 1] (converted on first use)."""
        if self.raw.dtype == np.uint8:
            return self.raw.astype(np.float64) / 255.0
        return self.raw.astype(np.float64, copy=False)

    def in_layout(self, arr: np.ndarray) -> np.ndarray:
        """``arr`` (N, H, W, C) in the caller's layout: (N, H, W) if that is what came in."""
        return arr[..., 0] if self.squeeze_channel else arr

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.raw.shape[1:])


def as_batch(x: object, name: str = "X") -> Batch:
    """Validate an image batch and return it as float64 in [0, 1], shaped (N, H, W, C)."""
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x)
        except Exception as exc:  # noqa: BLE001 - re-raised with a clear message
            raise TypeError(f"{name} must be a numpy array of images; got {type(x).__name__}") from exc
    arr: np.ndarray = x
    if arr.ndim not in (3, 4):
        raise ValueError(
            f"{name} must be a batch of images shaped (N, H, W, C) or (N, H, W); "
            f"got an array of shape {arr.shape}"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch (shape {arr.shape}); expected at least one image")
    if min(arr.shape[1:3]) < 1:
        raise ValueError(f"{name} has an empty image size {arr.shape[1:3]}")
    squeeze = arr.ndim == 3
    if squeeze:
        arr = arr[..., None]
    if arr.dtype == np.uint8:
        pass
    elif np.issubdtype(arr.dtype, np.floating):
        values = arr
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{name} contains NaN or infinite values; expected floats in [0, 1]")
        lo, hi = float(values.min()), float(values.max())
        if lo < 0.0 or hi > 1.0:
            raise ValueError(
                f"{name} holds floats in [{lo:.4g}, {hi:.4g}]; expected floats in [0, 1] "
                "(or uint8 in [0, 255])"
            )
    else:
        raise ValueError(
            f"{name} has dtype {arr.dtype}; expected uint8 in [0, 255] or floats in [0, 1]"
        )
    return Batch(raw=arr, dtype=arr.dtype, squeeze_channel=squeeze)


def restore(values: np.ndarray, like: Batch) -> np.ndarray:
    """Clip float64 values to [0, 1] and return them in the caller's dtype and layout."""
    out = np.clip(values, 0.0, 1.0)
    if like.dtype == np.uint8:
        out = np.rint(out * 255.0).astype(np.uint8)
    else:
        out = out.astype(like.dtype, copy=False)
    return like.in_layout(out)


def check_pair(x: Batch, t: Batch) -> None:
    """Source and target batches must hold the same number of images of the same shape."""
    if x.raw.shape != t.raw.shape:
        raise ValueError(
            f"X and T must have the same shape (N, H, W, C); got {x.raw.shape} and {t.raw.shape}"
        )


def blend(x: np.ndarray | float, y: np.ndarray | float, strength: float) -> np.ndarray:
    """The one strength blend: ``x + a (y - x)``; 0 gives ``x``, 1 gives ``y``, above 1 exaggerates."""
    return np.asarray(x + strength * (np.asarray(y) - x))


def check_landmarks(landmarks: object, n: int, name: str = "landmarks") -> np.ndarray:
    """Landmarks ``(N, K, 2)`` (x, y) float64 for ``n`` images (a single ``(K, 2)`` when n = 1)."""
    try:
        arr = np.asarray(landmarks, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of (x, y) points; got {type(landmarks).__name__}"
                        ) from exc
    if arr.ndim == 2 and n == 1:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[2] != 2 or len(arr) != n:
        raise ValueError(
            f"{name} must be shaped (N, K, 2) (x, y) with N = {n} images; got {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite coordinates")
    return arr


def check_groups(groups: object, n: int) -> np.ndarray | None:
    """One group label (person) per pair as a string array, or None when not given."""
    if groups is None:
        return None
    g = np.asarray([str(v) for v in np.asarray(groups, dtype=object).ravel()])
    if len(g) != n:
        raise ValueError(f"groups must hold one label per pair ({n}); got {len(g)}")
    return g


#: The documented strength range: 0 = the input, 1 = the model, between blends, above 1
#: exaggerates. Beyond 3 the change is mostly artefacts; negative values would push the
#: face *away* from the target expression, which no model was trained for.
STRENGTH_MIN, STRENGTH_MAX = 0.0, 3.0
#: Bounds of an aligned crop's side (``--size``): training memory grows with its square.
CROP_SIZE_MIN, CROP_SIZE_MAX = 8, 512
#: Bounds of the canvas / face-frame ratio (``--margin``).
MARGIN_MIN, MARGIN_MAX = 0.5, 4.0


def check_strength(strength: float, name: str = "strength") -> float:
    """Strength is a finite number in [0, 3] (0 = input, 1 = model, >1 exaggerates)."""
    try:
        a = float(strength)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a number; got {strength!r}") from exc
    if not np.isfinite(a):
        raise ValueError(f"{name} must be finite; got {strength!r}")
    if not STRENGTH_MIN <= a <= STRENGTH_MAX:
        raise ValueError(f"{name} must be in [{STRENGTH_MIN:g}, {STRENGTH_MAX:g}] (0 = unchanged, "
                         f"1 = the model, above 1 exaggerates); got {strength!r}")
    return a


def check_crop_size(size: object, name: str = "size") -> int:
    """An aligned crop side: a whole number in [8, 512] pixels."""
    if isinstance(size, bool) or not isinstance(size, int | np.integer):
        raise TypeError(f"{name} must be a whole number of pixels; got {size!r}")
    if not CROP_SIZE_MIN <= int(size) <= CROP_SIZE_MAX:
        raise ValueError(f"{name} must be in {CROP_SIZE_MIN}..{CROP_SIZE_MAX} pixels (128 is the "
                         f"paper's, 192 the shape + texture model's); got {size}")
    return int(size)


def check_margin(margin: object, name: str = "margin") -> float:
    """The canvas / face-frame ratio: a finite number in [0.5, 4]."""
    try:
        m = float(margin)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a number; got {margin!r}") from exc
    if not (np.isfinite(m) and MARGIN_MIN <= m <= MARGIN_MAX):
        raise ValueError(f"{name} must be in [{MARGIN_MIN:g}, {MARGIN_MAX:g}] (1 = the paper's "
                         f"framing, 1.5 the whole head); got {margin!r}")
    return m
