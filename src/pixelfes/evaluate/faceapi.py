"""The ``faceapi`` expression backend: face-api's expression net (numpy port) on face-box crops.

face-api (``@vladmandic/face-api`` 1.7.15, MIT) classifies the RGB crop of a face box: the
box is clipped at the image borders and floored (``Box.clipAtImageBorders``), the pixels are
sliced out (``dom/extractFaceTensors.ts``) and the net pads, resizes and normalises them
itself (:func:`pixelfes.nets.faceapi.to_net_input`). Here the box comes from the same rule
as the ``fer`` backend (dlib's HOG box, the whole image, fixed fractions or given boxes),
widened by ``margin`` x its width/height on each side. Gray images are fed as three equal
channels. Pure numpy: no extra runtime, nothing downloaded.
"""

from __future__ import annotations

import threading

import numpy as np

from pixelfes.nets.faceapi import LABELS, FaceExpressionNet, to_net_input

__all__ = ["LABELS", "crop_box", "expression_net", "net_inputs"]

_LOCK = threading.Lock()
_NET: list[FaceExpressionNet] = []


def expression_net() -> FaceExpressionNet:
    """The vendored net, loaded once per process (numpy inference is thread-safe)."""
    with _LOCK:
        if not _NET:
            _NET.append(FaceExpressionNet())
        return _NET[0]


def crop_box(image: np.ndarray, box: np.ndarray, margin: float = 0.0) -> np.ndarray:
    """face-api's crop of one ``(H, W, C)`` image at ``box`` ``(x0, y0, x1, y1)`` pixels.

    Each side is first moved out by ``margin`` x the box's width (left/right) or height
    (top/bottom); then face-api's ``clipAtImageBorders`` (clip, then floor x, y, width and
    height). Raises ``ValueError`` if nothing of the box lies inside the image.
    """
    h, w = image.shape[:2]
    x0, y0, x1, y1 = (float(v) for v in box)
    dx, dy = margin * (x1 - x0), margin * (y1 - y0)
    x0, y0, x1, y1 = x0 - dx, y0 - dy, x1 + dx, y1 + dy
    cx, cy = max(x0, 0.0), max(y0, 0.0)
    cw, ch = min(x1 - cx, w - cx), min(y1 - cy, h - cy)
    ix, iy, iw, ih = (int(np.floor(v)) for v in (cx, cy, cw, ch))
    if iw <= 0 or ih <= 0:
        raise ValueError(f"face box {tuple(box)} lies outside the {w}x{h} image")
    return image[iy:iy + ih, ix:ix + iw]


def net_inputs(images: np.ndarray, boxes: np.ndarray, margin: float = 0.0) -> np.ndarray:
    """``(N, H, W, 1|3)`` uint8 images and ``(N, 4)`` pixel boxes -> the net's ``(N, 112, 112, 3)``
    float32 input."""
    crops = []
    for im, b in zip(images, boxes, strict=True):
        c = crop_box(im, b, margin)
        crops.append(np.repeat(c, 3, axis=-1) if c.shape[-1] == 1 else c)
    return to_net_input(crops)
