"""The smooth 0 -> 1 ramp the mouth's fades share."""

from __future__ import annotations

from typing import Any

import numpy as np


def smoothstep(x: Any) -> Any:
    """``t^2 (3 - 2t)`` of ``t = clip(x, 0, 1)``: 0 at and below 0, 1 at and above 1, flat at
    both ends (the dtype of ``x`` kept: float32 stays float32)."""
    t = np.clip(x, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)
