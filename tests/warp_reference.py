"""A plain reference for piecewise-affine backward maps, shared by the warp tests."""

from __future__ import annotations

import numpy as np


def brute_force_map(triangulation, src: np.ndarray, dst: np.ndarray, points, thin: float = 0.0
                    ) -> np.ndarray:
    """For each point, the destination triangle that best contains it (largest smallest
    barycentric, brute force over all of them) and that triangle's affine map applied.

    Flat triangles are skipped; ``thin`` > 0 also skips triangles less than ``thin`` px high
    (height over the longest side), as the map does between pressed lips."""
    out = []
    for p in points:
        best, val = -np.inf, None
        for t in triangulation.simplices:
            a, b, c = dst[t]
            m = np.array([[b[0] - a[0], c[0] - a[0]], [b[1] - a[1], c[1] - a[1]]])
            area2 = abs(np.linalg.det(m))
            if area2 < 1e-9:
                continue
            if thin > 0:
                longest = max(np.linalg.norm(b - a), np.linalg.norm(c - b), np.linalg.norm(a - c))
                if area2 / longest < thin:
                    continue
            l1, l2 = np.linalg.solve(m, p - a)
            w = min(1 - l1 - l2, l1, l2)
            if w > best:
                best = w
                s = src[t]
                val = s[0] + l1 * (s[1] - s[0]) + l2 * (s[2] - s[0])
        out.append(val)
    return np.array(out)
