"""The paper's framing inside an aligned canvas: where quality and the judges look."""

from __future__ import annotations

from typing import Literal


def framing_slice(size: int, margin: float) -> slice:
    """Rows (and columns) of a ``size`` canvas aligned with ``margin`` that are the paper's framing.

    ``pixelfes.face`` aligns so that a canvas of side ``size`` with ``margin`` m shows the
    face at the scale of a ``size / m`` crop with margin 1 (the paper's 128 px framing for
    192 / 1.5). Quality is scored on that centred ``round(size / m)`` square, or on the
    whole crop when ``margin <= 1``.
    """
    if margin <= 1.0:
        return slice(0, size)
    side = int(round(size / margin))
    start = (size - side) // 2
    return slice(start, start + side)


def framing_box(size: int, margin: float) -> tuple[float, float, float, float] | Literal["full"]:
    """The paper's framing as face-box fractions for the scorers (``"full"`` when margin <= 1)."""
    if margin <= 1.0:
        return "full"
    s = framing_slice(size, margin)
    return (s.start / size, s.start / size, s.stop / size, s.stop / size)


#: face-api's own face box for a face with landmarks (``alignedRect``: the 68 landmarks' bounding
#: box grown by 10 % of its width/height on each side) in the unit face frame of
#: :mod:`pixelfes.face.align`, mean over the 164 aligned London photos (neutral + smiling;
#: std 0.02-0.04). Measured with ``scripts/judge_confusion.py``.
FACEAPI_FACE_FRAME_BOX: tuple[float, float, float, float] = (0.073, 0.264, 0.931, 1.105)


def faceapi_box(size: int, margin: float) -> tuple[float, float, float, float]:
    """:data:`FACEAPI_FACE_FRAME_BOX` as face-box fractions of a ``size``/``margin`` canvas
    (clipped to the canvas). face-api's net reads a tight face box: on JAFFE it names far
    more expressions on this box than on the paper's wider framing (docs/results.md)."""
    del size  # fractions do not depend on the side
    x0, y0, x1, y1 = ((u - 0.5) / margin + 0.5 for u in FACEAPI_FACE_FRAME_BOX)
    return (max(0.0, x0), max(0.0, y0), min(1.0, x1), min(1.0, y1))
