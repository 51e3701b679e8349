"""A scaled-orthographic camera fitted to 2D points: the 3D shape's rotation, scale and shift.

A face in a photo is, to a good approximation at portrait distances, the 3D face rotated,
scaled and projected orthographically: ``p = s * (R @ P)[:2] + t``. Numpy only, and the
68 landmarks' mean 3D positions are a 1.6 kB asset, so the landmark check
(:mod:`pixelfes.face.plausible`) uses it without loading the action units
(:mod:`pixelfes.actions.pose` builds its :class:`~pixelfes.actions.pose.Pose` on it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["fit_camera", "ict_mean_68", "to_camera"]

_ICT_TO_CAMERA = np.diag([1.0, -1.0, -1.0])
_ICT_MEAN = Path(__file__).resolve().parents[1] / "assets" / "shape" / "ict_mean_68.npy"
_CACHE: list[np.ndarray] = []


def to_camera(points: np.ndarray) -> np.ndarray:
    """ICT coordinates (y up, z towards the viewer) -> camera axes (y down, z away)."""
    return np.asarray(points, dtype=np.float64) @ _ICT_TO_CAMERA


def ict_mean_68() -> np.ndarray:
    """``(68, 3)`` ICT mean face at the 68 landmarks (ICT axes, cm; ``assets/shape``)."""
    if not _CACHE:
        _CACHE.append(np.load(_ICT_MEAN))
    return _CACHE[0]


def fit_camera(points3d: np.ndarray, points2d: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """``(scale, rotation (3, 3), translation (2,))`` with ``points2d ~ scale * (rotation @
    P)[:2] + translation`` for the ``(K, 3)`` camera-axes ``points3d``.

    The affine camera is solved in closed form (normal equations), projected onto the
    nearest orthonormal rows (SVD), completed to a proper rotation; then the scale is
    refitted for those rows and the translation follows.
    """
    p3 = np.asarray(points3d, dtype=np.float64)
    p2 = np.asarray(points2d, dtype=np.float64)
    mu3, mu2 = p3.mean(0), p2.mean(0)
    a, b = p3 - mu3, p2 - mu2
    m = np.linalg.solve(a.T @ a, a.T @ b)  # (3, 2): b ~ a @ m
    u, _, vt = np.linalg.svd(m.T, full_matrices=False)  # m.T = (2, 3)
    r2 = u @ vt
    rot = np.vstack([r2, np.cross(r2[0], r2[1])])
    proj = a @ r2.T
    scale = float((proj * b).sum() / max((proj * proj).sum(), 1e-12))
    if scale < 0:  # reflection: the proper rotation with the same projection up to sign
        scale, rot = -scale, np.diag([-1.0, -1.0, 1.0]) @ rot
    return scale, rot, mu2 - scale * (mu3 @ rot.T)[:2]
