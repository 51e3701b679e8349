"""Is a 68-point landmark fit a face? Reasons to skip a fit rather than paint a wrong one.

dlib's predictor always returns a face-like shape, also where it is wrong (the mouth on the
upper lip of a squeezed, tilted face; the lower half of a face taken for a whole one), so
the shape alone says little. Four measures, each with its limit set from real faces:

- ``instability``: the predictor run again from the box its own fit implies moves the inner
  points (brows, eyes, nose, mouth) by this much (mean, in eye distances). A right fit
  reproduces itself; a wrong one drifts.
- ``disagreement``: the largest distance between the fit's eye and mouth centres and the
  detector's own key points (an independent net), in eye distances.
- ``yaw``: the head's turn estimated from where the nose tip sits between the jaw's ends;
  dlib's 68-point model is not trained beyond about 45 degrees.
- ``residual``: RMS distance to the London mean shape after the best similarity fit, in units
  of the mean shape's RMS radius (catches degenerate shapes).

Limits (:data:`LIMITS`), set from the London fits and checked on the others with
``benchmarks/bench_plausible.py``: on 337 real frontal faces (London neutral + smiling,
JAFFE's seven expressions, the wild crops) instability is at most 0.041 (London 0.038),
disagreement at most 0.33 (London 0.29), yaw at most 20 degrees and the residual at most
0.18 (JAFFE's expressions; London 0.12). The limits (0.05, 0.40, 45, 0.22 = 1.3x, 1.4x,
-, 1.8x the London maxima) skip none of those faces and all 21 false detections on the
London photos; of 21 wrong fits (error > 0.1 pupil distances) on squeezed and tilted
London faces they skip 15, and 27 of 253 right fits (faces squeezed to half their width,
outside any real face's shape).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["LIMITS", "Plausibility", "assess", "check_landmarks", "mean_shape"]

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


def similarity_residual(points: np.ndarray, mean: np.ndarray | None = None) -> float:
    """RMS distance of ``points`` ``(68, 2)`` to ``mean`` after the best similarity fit."""
    m = mean_shape() if mean is None else mean
    p = normalise(points)
    u, s, vt = np.linalg.svd(m.T @ p)  # rotation taking p onto m (Kabsch), no reflection
    d = np.sign(np.linalg.det(u @ vt))
    r = u @ np.diag([1.0, d]) @ vt
    scale = float((s * np.array([1.0, d])).sum() / (p**2).sum())
    return float(np.sqrt(((p @ r.T * scale - m) ** 2).sum(1).mean()))


def eye_distance(landmarks: np.ndarray) -> float:
    return float(np.hypot(*(landmarks[36:42].mean(0) - landmarks[42:48].mean(0))))


def estimate_yaw(landmarks: np.ndarray) -> float:
    """Head turn in degrees (sign: towards the image's right) from the nose tip's place
    between the jaw's ends (0 when the nose is midway), measured across the face."""
    lm = np.asarray(landmarks, dtype=np.float64)
    across = lm[16] - lm[0]
    w = float(np.hypot(*across))
    if w < 1e-9:
        return 90.0
    t = float((lm[30] - lm[0]) @ across) / w**2
    return float(np.degrees(np.arcsin(np.clip(2.0 * t - 1.0, -1.0, 1.0))))


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
    return Plausibility(instability=inst, disagreement=dis, yaw=estimate_yaw(lm),
                        residual=similarity_residual(lm))


def check_landmarks(landmarks: np.ndarray, *, refit: np.ndarray | None = None,
                    keypoints: np.ndarray | None = None, strict: float = 1.0) -> str | None:
    """``None`` when a ``(68, 2)`` fit is plausible, else the reason to skip it (see
    :func:`assess`, :meth:`Plausibility.reason`); measures that cannot be computed (no
    ``refit``/``keypoints``) pass."""
    return assess(landmarks, refit=refit, keypoints=keypoints).reason(strict)
