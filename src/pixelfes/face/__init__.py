"""Face pipeline: detect faces + landmarks, align onto a canonical template, paste back.

Conventions used throughout: images are ``(H, W, 3) uint8`` RGB (grayscale ``(H, W)`` where
stated); points are ``(x, y)`` float64 with pixel centres on integers; boxes are
``(x0, y0, x1, y1)``; an alignment ``matrix`` is ``(2, 3)`` and maps photo to crop.
Nothing is loaded at import; dlib models load once, on first use.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..alignment import DEFAULT_ALIGNMENT, Alignment
from .align import (
    DEFAULT_TEMPLATE,
    AlignedFace,
    Template,
    align_face,
    crop_matrix,
    estimate_similarity,
    get_template,
    invert_affine,
    transform_points,
)
from .detect import (
    DlibBackend,
    Face,
    FaceBackend,
    FaceModelError,
    FaceSearch,
    NoFaceError,
    PyramidBackend,
    SkippedFace,
    default_backend,
    detect_faces,
    landmarks_for_box,
    search_faces,
)
from .paste import face_mask, paste_back, paste_change

__all__ = [
    "DEFAULT_ALIGNMENT",
    "DEFAULT_TEMPLATE",
    "AlignedFace",
    "Alignment",
    "DlibBackend",
    "Face",
    "FaceBackend",
    "FaceModelError",
    "FaceSearch",
    "NoFaceError",
    "PyramidBackend",
    "SkippedFace",
    "Template",
    "align_face",
    "align_faces",
    "crop_matrix",
    "default_backend",
    "detect_faces",
    "estimate_similarity",
    "face_mask",
    "get_template",
    "invert_affine",
    "landmarks_for_box",
    "paste_back",
    "paste_change",
    "search_faces",
    "transform_points",
]


def align_faces(rgb: np.ndarray, alignment: Alignment = DEFAULT_ALIGNMENT, *,
                max_faces: int | None = None,
                min_size: float = 40.0, landmarks: int = 68, backend: FaceBackend | None = None,
                path: str | Path | None = None) -> list[tuple[Face, AlignedFace]]:
    """Detect every face in ``rgb`` (largest first) and align each one independently.

    Raises :class:`NoFaceError` (naming ``path`` when given) when no face is found.
    """
    faces = detect_faces(rgb, landmarks=landmarks, max_faces=max_faces, min_size=min_size,
                         backend=backend, path=path)
    return [(f, align_face(rgb, f.landmarks, alignment)) for f in faces]
