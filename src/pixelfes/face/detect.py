"""Face detection and landmarks: one small backend interface and the offline dlib backend.

Conventions (see also :mod:`pixelfes.face`): images are ``(H, W, 3) uint8`` RGB, boxes are
``(x0, y0, x1, y1)`` floats in photo pixels, points are ``(x, y)`` float64 photo pixels.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = [
    "DlibBackend",
    "Face",
    "FaceBackend",
    "FaceModelError",
    "NoFaceError",
    "default_backend",
    "detect_faces",
    "landmarks_for_box",
    "model_path",
]

#: Landmark schemes the dlib backend offers (number of points).
LANDMARK_COUNTS = (5, 68)


class FaceModelError(RuntimeError):
    """A landmark model file (from ``face-recognition-models``) cannot be found or loaded."""


class NoFaceError(ValueError):
    """No face was found in an image; names the file when known."""

    def __init__(self, path: str | Path | None = None, shape: tuple[int, ...] | None = None,
                 min_size: float | None = None) -> None:
        self.path = None if path is None else Path(path)
        self.shape = shape
        what = f"{self.path}" if self.path is not None else "the image"
        size = f" ({shape[1]}x{shape[0]} px)" if shape is not None and len(shape) >= 2 else ""
        need = f" at least {min_size:g} px wide" if min_size else ""
        super().__init__(
            f"no face found in {what}{size}; expected a roughly frontal human face{need}. "
            "If the image is already an aligned face crop, pass it as a crop instead of a photo "
            "(no detection)."
        )


@dataclass(frozen=True)
class Face:
    """One detected face: box ``(x0, y0, x1, y1)``, detector score, ``(K, 2)`` (x, y) landmarks."""

    box: tuple[float, float, float, float]
    score: float
    landmarks: np.ndarray = field(repr=False)  # (K, 2) float64, photo pixel coordinates

    @property
    def size(self) -> float:
        """Side of the detection box in pixels (mean of width and height)."""
        x0, y0, x1, y1 = self.box
        return 0.5 * ((x1 - x0) + (y1 - y0))


@runtime_checkable
class FaceBackend(Protocol):
    """What pixelfes needs from a face detector: faces with landmarks, and landmarks for a box."""

    def detect(self, rgb: np.ndarray) -> list[Face]:
        """Return every face in ``rgb`` ``(H, W, 3) uint8`` with its landmarks."""
        ...

    def landmarks(self, rgb: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
        """Return ``(K, 2)`` float64 (x, y) landmarks for the face inside ``box``."""
        ...


def model_path(name: str) -> Path:
    """Path of a model file shipped by ``face-recognition-models`` (found without importing it)."""
    # Importing face_recognition_models calls pkg_resources, which fails beside new setuptools.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or spec.origin is None:
        raise FaceModelError(
            "the package 'face-recognition-models' is not installed; it ships dlib's landmark "
            "models: pip install face-recognition-models"
        )
    path = Path(spec.origin).parent / "models" / name
    if not path.is_file():
        raise FaceModelError(f"expected the model file {path} (from face-recognition-models); not found")
    return path


_LOCK = threading.Lock()
_CACHE: dict[str, Any] = {}


def _dlib() -> Any:
    try:
        import dlib
    except ImportError as exc:  # pragma: no cover - dlib-bin is a core dependency
        raise FaceModelError("dlib is not installed: pip install dlib-bin") from exc
    return dlib


def _cached(key: str) -> Any:
    """Load a dlib model once per process (thread-safe); importing pixelfes loads nothing."""
    with _LOCK:
        if key not in _CACHE:
            dlib = _dlib()
            if key == "detector":
                saved = Path(__file__).resolve().parents[1] / "assets" / "dlib" / "frontal_face_detector.svm"
                # the same detector, 2 ms to load instead of 0.5 s (assets/dlib/README.md)
                _CACHE[key] = (dlib.fhog_object_detector(str(saved)) if saved.is_file()
                               else dlib.get_frontal_face_detector())
            elif key in ("5", "68"):
                _CACHE[key] = dlib.shape_predictor(
                    str(model_path(f"shape_predictor_{key}_face_landmarks.dat"))
                )
            else:  # pragma: no cover - internal
                raise KeyError(key)
        return _CACHE[key]


def _check_rgb(rgb: object, name: str = "rgb") -> np.ndarray:
    if not isinstance(rgb, np.ndarray):
        raise TypeError(f"{name} must be a numpy array (H, W, 3) uint8; got {type(rgb).__name__}")
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(
            f"{name} must be an RGB image shaped (H, W, 3) with dtype uint8; "
            f"got shape {rgb.shape} and dtype {rgb.dtype}"
        )
    return np.ascontiguousarray(rgb)


def _reduce(rgb: np.ndarray, max_side: int | None) -> tuple[np.ndarray, float]:
    """Area-downscale so the longest side is at most ``max_side``; return image and scale."""
    h, w = rgb.shape[:2]
    if not max_side or max(h, w) <= max_side:
        return rgb, 1.0
    import cv2

    scale = max_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return small, size[0] / w


class DlibBackend:
    """dlib's HOG frontal-face detector plus its 5- or 68-point shape predictor (offline).

    Detection runs on a copy reduced to ``max_side`` pixels (speed on large photos); boxes are
    mapped back and landmarks are computed on the full-resolution image. ``upsample=None``
    tries 0 and, when nothing is found on a small image, 1 (finds faces down to ~40 px).
    """

    def __init__(self, landmarks: int = 68, upsample: int | None = None, max_side: int | None = 640,
                 threshold: float = 0.0) -> None:
        if landmarks not in LANDMARK_COUNTS:
            raise ValueError(f"landmarks must be one of {LANDMARK_COUNTS}; got {landmarks!r}")
        if upsample is not None and (int(upsample) != upsample or upsample < 0):
            raise ValueError(f"upsample must be None or an integer >= 0; got {upsample!r}")
        self.n_landmarks = landmarks
        self.upsample = upsample
        self.max_side = max_side
        self.threshold = threshold

    def boxes(self, rgb: np.ndarray) -> list[tuple[tuple[float, float, float, float], float]]:
        """Detect faces; return ``[(box, score), ...]`` in full-resolution photo pixels."""
        rgb = _check_rgb(rgb)
        small, scale = _reduce(rgb, self.max_side)
        detector = _cached("detector")
        tries = [self.upsample] if self.upsample is not None else [0, 1]
        rects: list[Any] = []
        scores: list[float] = []
        for up in tries:
            if up == 1 and self.upsample is None and max(small.shape[:2]) > 800:
                break  # automatic upsampling only for small images (cost grows 4x)
            rects, scores, _ = detector.run(small, int(up), float(self.threshold))
            if len(rects):
                break
        out = []
        for r, s in zip(rects, scores, strict=True):
            box = (r.left() / scale, r.top() / scale, (r.right() + 1) / scale, (r.bottom() + 1) / scale)
            out.append((tuple(float(v) for v in box), float(s)))
        return out  # type: ignore[return-value]

    def landmarks(self, rgb: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
        """Return ``(K, 2)`` float64 (x, y) landmarks (K = 5 or 68) for the face in ``box``."""
        rgb = _check_rgb(rgb)
        dlib = _dlib()
        predictor = _cached(str(self.n_landmarks))
        x0, y0, x1, y1 = (float(v) for v in box)
        rect = dlib.rectangle(round(x0), round(y0), round(x1) - 1, round(y1) - 1)
        shape = predictor(rgb, rect)
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)

    def detect(self, rgb: np.ndarray) -> list[Face]:
        """Return every face in ``rgb`` with its landmarks."""
        rgb = _check_rgb(rgb)
        return [Face(box=b, score=s, landmarks=self.landmarks(rgb, b)) for b, s in self.boxes(rgb)]


def default_backend(landmarks: int = 68, upsample: int | None = None,
                    max_side: int | None = 640) -> DlibBackend:
    """The default backend (dlib HOG + shape predictor); models load on first use."""
    return DlibBackend(landmarks=landmarks, upsample=upsample, max_side=max_side)


def detect_faces(rgb: np.ndarray, landmarks: int = 68, max_faces: int | None = None,
                 min_size: float = 40.0, upsample: int | None = None, *,
                 backend: FaceBackend | None = None, path: str | Path | None = None,
                 allow_empty: bool = False) -> list[Face]:
    """Find every face in ``rgb`` ``(H, W, 3) uint8``, largest first, with (x, y) landmarks.

    ``min_size`` drops boxes smaller than that many photo pixels, ``max_faces`` keeps the
    largest ones. Raises :class:`NoFaceError` (naming ``path`` when given) if none remain,
    unless ``allow_empty``.
    """
    rgb = _check_rgb(rgb)
    if max_faces is not None and max_faces < 1:
        raise ValueError(f"max_faces must be None or >= 1; got {max_faces!r}")
    if backend is None:
        backend = default_backend(landmarks=landmarks, upsample=upsample)
    if isinstance(backend, DlibBackend):
        found = [(b, s) for b, s in backend.boxes(rgb)]
        keep = [(b, s) for b, s in found if 0.5 * ((b[2] - b[0]) + (b[3] - b[1])) >= min_size]
        keep.sort(key=lambda bs: -(bs[0][2] - bs[0][0]) * (bs[0][3] - bs[0][1]))
        if max_faces is not None:
            keep = keep[:max_faces]
        faces = [Face(box=b, score=s, landmarks=backend.landmarks(rgb, b)) for b, s in keep]
    else:
        faces = [f for f in backend.detect(rgb) if f.size >= min_size]
        faces.sort(key=lambda f: -f.size)
        if max_faces is not None:
            faces = faces[:max_faces]
    if not faces and not allow_empty:
        raise NoFaceError(path, rgb.shape, min_size)
    return faces


def landmarks_for_box(rgb: np.ndarray, box: tuple[float, float, float, float],
                      landmarks: int = 68) -> np.ndarray:
    """Return ``(K, 2)`` float64 (x, y) landmarks for a face box given by the caller."""
    return default_backend(landmarks=landmarks).landmarks(rgb, box)
