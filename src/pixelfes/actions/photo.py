"""Action units of the faces in a photo (``pixelfes analyze``, ``--like``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .analysis import estimate_units
from .pose import Pose

__all__ = ["FaceUnits", "analyze_image"]


@dataclass(frozen=True)
class FaceUnits:
    """One face: its box ``(x0, y0, x1, y1)`` in the photo, unit intensities, pose, fit residual."""

    box: tuple[float, float, float, float]
    units: dict[str, float]
    pose: Pose = field(repr=False)
    rms: float
    landmarks: np.ndarray = field(repr=False)

    def to_json(self, digits: int = 2, threshold: float = 0.0) -> dict[str, Any]:
        """``{"box": [...], "au": {"AU12": 0.7, ...}, "pose": {...}}`` (units above ``threshold``)."""
        yaw, pitch, roll = self.pose.angles
        return {"box": [round(float(v), 1) for v in self.box],
                "au": {k: round(v, digits) for k, v in self.units.items() if v > threshold},
                "pose": {"yaw": round(yaw, 1), "pitch": round(pitch, 1), "roll": round(roll, 1)},
                "fit_rms_px": round(self.rms, 2)}


def analyze_image(image: Any, *, max_faces: int | None = None, min_size: float = 40.0
                  ) -> list[FaceUnits]:
    """Estimate the action units of every face in ``image`` (path, PIL image or array).

    Faces largest first (the pipeline's detector and 68 landmarks). Raises
    :class:`pixelfes.face.NoFaceError` when there is none.
    """
    from ..face import detect_faces
    from ..imageio import load_image

    loaded = load_image(image)
    path = image if isinstance(image, str | Path) else None
    faces = detect_faces(loaded.rgb, landmarks=68, max_faces=max_faces, min_size=min_size, path=path)
    out = []
    for f in faces:
        est = estimate_units(f.landmarks)
        x0, y0, x1, y1 = (float(v) for v in f.box)
        out.append(FaceUnits((x0, y0, x1, y1), est.units, est.pose, est.rms,
                             np.asarray(f.landmarks)))
    return out
