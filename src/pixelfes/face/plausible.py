"""Is a 68-point landmark fit a face? Reasons to skip a fit rather than paint a wrong one.

dlib's predictor always returns a face-like shape, also where it is wrong (the mouth on the
upper lip of a squeezed, tilted face; the lower half of a face taken for a whole one), so
the shape alone says little. Four measures, each with its limit set from real faces:

- ``instability``: the predictor run again from the box its own fit implies moves the inner
  points (brows, eyes, nose, mouth) by this much (mean, in eye distances). A right fit
  reproduces itself; a wrong one drifts.
- ``disagreement``: the largest distance between the fit's eye and mouth centres and the
  detector's own key points (an independent net), in eye distances.
- ``yaw``: the head's turn, from the 3D mean face (ICT Face Model, ``assets/shape``) seen
  by the best scaled-orthographic camera (:func:`pose_fit`); dlib's 68-point model is not
  trained beyond about 45 degrees.
- ``residual``: RMS distance to that projected 3D face, in units of the fit's RMS radius
  (catches degenerate shapes). Against a 2D mean shape instead, turned and lowered heads
  were refused: 7 of 22 faces in 6 real group photos (face-api's demo photos, measured
  here, never shipped), all of them fitted right by eye.

Limits (:data:`LIMITS`), set from the London fits and checked on the others with
``benchmarks/bench_plausible.py``: on 337 real frontal faces (London neutral + smiling,
JAFFE's seven expressions, the wild crops) instability is at most 0.043, disagreement at
most 0.33 (London 0.29), yaw at most 13 degrees and the residual at most 0.171 (JAFFE's
expressions; London 0.122). The limits (0.05, 0.40, 45, 0.22 = 1.2x, 1.4x, -, 1.8x the
London maxima) skip none of those faces and all false detections on the London photos.
Each alone skipped 13 of 20 wrong fits (error > 0.1 pupil distances) on squeezed and
tilted London faces (the 2D residual: 16); a fit near two limits at once is wrong too:
``(instability / limit)^2 + (residual / limit)^2 > 1`` (real faces: at most 0.84 on 159
London, JAFFE and group-photo faces) brings it to 19 of 20, and 40 of 253 right fits
skipped (all faces squeezed to about half their width, outside any real face's shape;
2D: 29). On the 6 real group photos (22 faces counted by eye, 1280-1537 x 1920 px): 21
found, 20 changed (with the 2D residual and yaw: 14), 1 skipped: a profile behind a hand,
fitted wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["LIMITS", "Plausibility", "assess", "check_landmarks", "mean_shape", "pose_fit"]

#: limits of the measures (see the module docstring)
LIMITS = {"instability": 0.05, "disagreement": 0.40, "yaw": 45.0, "residual": 0.22}

_SHAPE = Path(__file__).resolve().parents[1] / "assets" / "shape" / "london_mean_68.npy"
_MEAN: list[np.ndarray] = []


def mean_shape() -> np.ndarray:
    """London mean 68-point shape ``(68, 2)``, centred, unit RMS radius (``assets/shape``)."""
    if not _MEAN:
        _MEAN.append(np.load(_SHAPE))
    return _MEAN[0]


def normalise(points: np.ndarray) -> np.ndarray:
    """``points`` centred and scaled to unit RMS radius."""
    p = np.asarray(points, dtype=np.float64)
    p = p - p.mean(0)
    return p / max(float(np.sqrt((p**2).sum(1).mean())), 1e-12)


def pose_fit(points: np.ndarray) -> tuple[float, float]:
    """``(residual, yaw)`` of ``points`` ``(68, 2)`` against the 3D mean face seen by the best
    scaled-orthographic camera (:mod:`pixelfes.face.pose`): RMS distance in units of the
    points' RMS radius, and the head's turn in degrees (sign: nose towards the image's left).

    A turned or lowered head changes a 2D shape in ways no 2D similarity follows (the nose
    tip swings past the cheek, the far half narrows); the 3D face rotated does."""
    from .pose import fit_camera, ict_mean_68, to_camera

    p2 = np.asarray(points, dtype=np.float64)
    p3 = to_camera(ict_mean_68())
    scale, rot, t = fit_camera(p3, p2)
    proj = scale * (p3 @ rot.T)[:, :2] + t
    radius = max(float(np.sqrt(((p2 - p2.mean(0)) ** 2).sum(1).mean())), 1e-12)
    residual = float(np.sqrt(((proj - p2) ** 2).sum(1).mean())) / radius
    return residual, float(np.degrees(np.arcsin(np.clip(-rot[2, 0], -1.0, 1.0))))


def eye_distance(landmarks: np.ndarray) -> float:
    return float(np.hypot(*(landmarks[36:42].mean(0) - landmarks[42:48].mean(0))))


@dataclass(frozen=True)
class Plausibility:
    """The measures of one fit (``nan`` where not computed)."""

    instability: float
    disagreement: float
    yaw: float
    residual: float

    def reason(self, strict: float = 1.0) -> str | None:
        """Why the fit is not plausible (the first measure beyond its limit), else ``None``.

        ``strict`` < 1 tightens the instability and disagreement limits by that factor (for
        detections the detector is unsure of)."""
        inst, dis = LIMITS["instability"] * strict, LIMITS["disagreement"] * strict
        if self.instability > inst:
            return (f"landmark fit unstable ({self.instability:.3f} > {inst:.3g} "
                    "eye distances): probably not placed on the face's features")
        if self.disagreement > dis:
            return (f"landmarks disagree with the detector's eyes/mouth ({self.disagreement:.2f} > "
                    f"{dis:.3g} eye distances)")
        if abs(self.yaw) > LIMITS["yaw"]:
            return f"head turned too far ({abs(self.yaw):.0f} > {LIMITS['yaw']:g} degrees)"
        if self.residual > LIMITS["residual"]:
            return (f"implausible face shape (residual {self.residual:.3f} > "
                    f"{LIMITS['residual']:g} from the mean shape)")
        # near both limits at once: a wrong fit (the squeezed faces' mouth on the upper
        # lip); real faces stay below 0.85 of this (module docstring)
        joint = (self.instability / inst) ** 2 + (self.residual / LIMITS["residual"]) ** 2
        if joint > 1.0:
            return (f"landmark fit both unsteady ({self.instability:.3f} eye distances) and "
                    f"far from a face's shape (residual {self.residual:.3f}): probably not "
                    "placed on the face's features")
        return None


def centres(landmarks: np.ndarray) -> np.ndarray:
    """``(3, 2)``: centre of the eye on the image's left, on its right, and of the mouth."""
    lm = np.asarray(landmarks, dtype=np.float64)
    return np.array([lm[36:42].mean(0), lm[42:48].mean(0), lm[[48, 51, 54, 57]].mean(0)])


def assess(landmarks: np.ndarray, *, refit: np.ndarray | None = None,
           keypoints: np.ndarray | None = None) -> Plausibility:
    """Measures of a ``(68, 2)`` fit; ``refit`` is the predictor's second fit from the box
    the first implies, ``keypoints`` the detector's ``(6, 2)`` BlazeFace key points."""
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.shape != (68, 2):
        raise ValueError(f"landmarks must be (68, 2) (x, y); got shape {lm.shape}")
    ed = max(eye_distance(lm), 1e-9)
    # the inner points only: the jaw line is ambiguous on real faces too (it drifts between
    # fits on chins and necks), eyes, brows, nose and mouth are not
    inst = float("nan") if refit is None else float(
        np.linalg.norm(np.asarray(refit)[17:] - lm[17:], axis=1).mean() / ed)
    dis = float("nan")
    if keypoints is not None:
        kp = np.asarray(keypoints, dtype=np.float64)
        dis = float(np.linalg.norm(centres(lm) - kp[[0, 1, 3]], axis=1).max() / ed)
    residual, yaw = pose_fit(lm)
    return Plausibility(instability=inst, disagreement=dis, yaw=yaw, residual=residual)


def check_landmarks(landmarks: np.ndarray, *, refit: np.ndarray | None = None,
                    keypoints: np.ndarray | None = None, strict: float = 1.0) -> str | None:
    """``None`` when a ``(68, 2)`` fit is plausible, else the reason to skip it (see
    :func:`assess`, :meth:`Plausibility.reason`); measures that cannot be computed (no
    ``refit``/``keypoints``) pass."""
    return assess(landmarks, refit=refit, keypoints=keypoints).reason(strict)
