"""Head pose from 2D landmarks: a scaled-orthographic fit of the 3D mean shape.

A face in a photo is, to a good approximation at portrait distances, the 3D face rotated,
scaled and projected orthographically: ``p = s * (R @ P)[:2] + t``, ``P`` the 3D points in
*camera axes* (x right, y down, z away from the camera; ICT's (x, y, z) is (x, -y, -z)
there). :func:`fit_pose` finds ``s``, ``R`` and ``t`` from 2D landmarks by a least-squares
affine camera on the points an expression hardly moves (eye corners and lids, nose), then
the nearest scaled rotation (SVD). Angles: ``R = Rz(roll) @ Ry(yaw) @ Rx(pitch)``, degrees;
yaw > 0 turns the nose towards the image's left, roll > 0 turns the face clockwise on
screen, pitch > 0 tilts the nose down.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..face.pose import _ICT_TO_CAMERA, fit_camera, to_camera

__all__ = ["POSE_POINTS", "Pose", "fit_pose", "pose_from_angles", "to_camera"]

# Eyes (36-47) and the nose (28-35; 27, the nose root, rises with AU1): rigid enough under
# expression, and the nose's depth
# makes yaw and pitch observable. The jaw line is a silhouette, brows and mouth move.
POSE_POINTS: tuple[int, ...] = tuple(range(28, 48))



def _rx(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _ry(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _rz(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


@dataclass(frozen=True)
class Pose:
    """Scaled-orthographic camera: 2D ``= scale * (rotation @ P)[:2] + translation``."""

    scale: float  # pixels per centimetre of the 3D model
    rotation: np.ndarray = field(repr=False)  # (3, 3) proper rotation, camera axes
    translation: np.ndarray = field(repr=False)  # (2,) pixels

    @property
    def angles(self) -> tuple[float, float, float]:
        """``(yaw, pitch, roll)`` in degrees (see the module docstring for signs)."""
        r = self.rotation
        yaw = np.arcsin(np.clip(-r[2, 0], -1.0, 1.0))
        pitch = np.arctan2(r[2, 1], r[2, 2])
        roll = np.arctan2(r[1, 0], r[0, 0])
        return float(np.degrees(yaw)), float(np.degrees(pitch)), float(np.degrees(roll))

    @property
    def yaw(self) -> float:
        return self.angles[0]

    @property
    def pitch(self) -> float:
        return self.angles[1]

    @property
    def roll(self) -> float:
        return self.angles[2]

    def project(self, points_ict: np.ndarray) -> np.ndarray:
        """``(K, 3)`` ICT points -> ``(K, 2)`` image (x, y)."""
        cam = to_camera(points_ict) @ self.rotation.T
        return self.scale * cam[:, :2] + self.translation

    def project_motion(self, motion_ict: np.ndarray) -> np.ndarray:
        """3D displacements ``(..., K, 3)`` (ICT axes) -> their 2D image motion ``(..., K, 2)``."""
        lin = self.scale * (self.rotation @ _ICT_TO_CAMERA)[:2]  # (2, 3)
        return np.asarray(motion_ict, dtype=np.float64) @ lin.T


def pose_from_angles(yaw: float, pitch: float, roll: float, scale: float,
                     translation: tuple[float, float]) -> Pose:
    """A :class:`Pose` from angles in degrees (the inverse of :attr:`Pose.angles`)."""
    y, p, r = np.radians([yaw, pitch, roll])
    rot = _rz(r) @ _ry(y) @ _rx(p)
    return Pose(float(scale), rot, np.asarray(translation, dtype=np.float64))


def fit_pose(landmarks: np.ndarray, shape_ict: np.ndarray | None = None,
             points: tuple[int, ...] = POSE_POINTS) -> Pose:
    """Fit a scaled-orthographic pose to ``landmarks`` ``(68, 2)`` image (x, y).

    ``shape_ict`` ``(68, 3)``: the 3D shape to fit (default the shipped ICT mean). The
    affine camera is solved in closed form and projected onto the nearest scaled rotation
    (mean of the two singular values as scale); the translation is then refitted.
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.shape != (68, 2) or not np.all(np.isfinite(lm)):
        raise ValueError(f"landmarks must be finite (68, 2) (x, y) points; got shape {lm.shape}")
    if shape_ict is None:
        from .basis import load_basis

        shape_ict = load_basis().mean_shape
    idx = list(points)
    scale, rot, t = fit_camera(to_camera(shape_ict)[idx], lm[idx])
    return Pose(scale, rot, t)
