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
