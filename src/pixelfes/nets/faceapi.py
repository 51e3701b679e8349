"""face-api's expression net (``@vladmandic/face-api`` 1.7.15, MIT) in numpy.

The architecture and preprocessing follow the package's TypeScript source (read, not copied):

- input (``faceFeatureExtractor/FaceFeatureExtractor.ts``, ``dom/NetInput.ts``,
  ``ops/padToSquare.ts``): an RGB face crop as a tensor, zero-padded to a square (centred:
  ``round(d / 2)`` zero rows/columns after, the rest before), resized to 112 x 112 with
  ``tf.image.resizeBilinear(align_corners=False, half_pixel_centers=False)`` unless it is
  already 112 px, then ``(x - [122.782, 117.001, 104.298]) / 255``;
- features: four dense blocks (``faceFeatureExtractor/denseBlock.ts``, ``denseBlock4``) of
  32, 64, 128, 256 channels, each ``out1 = relu(conv0(x))`` at stride 2 (a 3x3 convolution
  for the first block, a depthwise-separable one after), then three separable 3x3
  convolutions ``conv1..3`` at stride 1, each fed the relu of the sum of all earlier
  outputs of the block; then a 7x7 average pool (stride 2, valid) to ``(N, 1, 1, 256)``;
- head (``faceProcessor/FaceProcessor.ts``, ``faceExpressionNet/FaceExpressionNet.ts``):
  a 256 -> 7 dense layer and a softmax over :data:`LABELS`.

Weights: ``pixelfes/assets/faceapi/face_expression_model.bin`` with its tfjs manifest
(provenance and licence in that folder's README and LICENSE).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from pixelfes.nets import ops
from pixelfes.nets.tfjs import TfjsWeightsError, read_weights

__all__ = ["INPUT_SIZE", "LABELS", "MEAN_RGB", "FaceExpressionNet", "pad_to_square", "to_net_input"]

#: Output order of the net (``faceExpressionNet/FaceExpressions.ts``).
LABELS: tuple[str, ...] = ("neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised")
INPUT_SIZE = 112
MEAN_RGB = np.array([122.782, 117.001, 104.298], dtype=np.float32)
_BLOCKS = ("dense0", "dense1", "dense2", "dense3")


def _default_manifest() -> Path:
    ref = resources.files("pixelfes") / "assets" / "faceapi" / "face_expression_model-weights_manifest.json"
    return Path(str(ref))


def pad_to_square(crop: np.ndarray) -> np.ndarray:
    """face-api's centred ``padToSquare`` of one ``(H, W, C)`` crop: zeros, float32 out.

    The short side gets ``round(d / 2)`` zero rows/columns after the image and the other
    ``d - round(d / 2)`` before it (``d`` = side difference; JavaScript ``Math.round``).
    """
    h, w = crop.shape[:2]
    x = crop.astype(np.float32)
    if h == w:
        return x
    d = abs(h - w)
    after = int(np.floor(d * 0.5 + 0.5))
    before = d - after
    pads = ((0, 0), (before, after)) if h > w else ((before, after), (0, 0))
    return np.pad(x, (*pads, (0, 0)))


def to_net_input(crops: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
    """Face crops -> the net's normalised ``(N, 112, 112, 3)`` float32 input.

    ``crops``: a sequence of ``(H, W, 3)`` RGB arrays (any sizes; uint8 values 0..255 or
    floats on that scale) or an ``(N, H, W, 3)`` batch.
    """
    out = np.empty((len(crops), INPUT_SIZE, INPUT_SIZE, 3), dtype=np.float32)
    for i, crop in enumerate(crops):
        c = np.asarray(crop)
        if c.ndim != 3 or c.shape[-1] != 3 or min(c.shape[:2]) < 1:
            raise ValueError(f"crop {i} must be a non-empty (H, W, 3) RGB array; got shape {c.shape}")
        sq = pad_to_square(c)[None]
        if sq.shape[1] != INPUT_SIZE:
            sq = ops.resize_bilinear(sq, (INPUT_SIZE, INPUT_SIZE))
        out[i] = sq[0]
    return (out - MEAN_RGB) / np.float32(255.0)


class FaceExpressionNet:
    """The expression net with its weights loaded (from the vendored files by default).

    ``manifest``: path of a ``face_expression_model-weights_manifest.json`` (its ``.bin``
    shard next to it). Weights are checked against the architecture on load.
    """

    def __init__(self, manifest: str | os.PathLike[str] | None = None) -> None:
        path = Path(manifest) if manifest is not None else _default_manifest()
        w = read_weights(path)
        expected = {"fc/weights": (256, 7), "fc/bias": (7,), "dense0/conv0/filters": (3, 3, 3, 32)}
        for name, shape in expected.items():
            if name not in w or w[name].shape != shape:
                got = w[name].shape if name in w else "missing"
                raise TfjsWeightsError(f"{path}: weight {name} should be {shape}; got {got}")
        self.weights = w

    def features(self, x: np.ndarray) -> np.ndarray:
        """``(N, 112, 112, 3)`` normalised input -> ``(N, 256)`` pooled features."""
        if x.ndim != 4 or x.shape[1:] != (INPUT_SIZE, INPUT_SIZE, 3):
            raise ValueError(f"the net's input must be (N, 112, 112, 3); got {x.shape}")
        out = np.asarray(x, dtype=np.float32)
        for bi, block in enumerate(_BLOCKS):
            out = self._dense_block4(out, block, first=bi == 0)
        return ops.avg_pool(out, 7, 2, "valid").reshape(len(x), -1)

    def _sep(self, x: np.ndarray, name: str, stride: int) -> np.ndarray:
        w = self.weights
        return ops.separable_conv2d(x, w[f"{name}/depthwise_filter"], w[f"{name}/pointwise_filter"],
                                    w[f"{name}/bias"], stride)

    def _dense_block4(self, x: np.ndarray, block: str, first: bool) -> np.ndarray:
        w = self.weights
        if first:
            out1 = ops.relu(ops.conv2d(x, w[f"{block}/conv0/filters"], w[f"{block}/conv0/bias"], 2))
        else:
            out1 = ops.relu(self._sep(x, f"{block}/conv0", 2))
        out2 = self._sep(out1, f"{block}/conv1", 1)
        out3 = self._sep(ops.relu(out1 + out2), f"{block}/conv2", 1)
        out4 = self._sep(ops.relu(out1 + (out2 + out3)), f"{block}/conv3", 1)
        return ops.relu(out1 + (out2 + (out3 + out4)))

    def logits(self, x: np.ndarray) -> np.ndarray:
        """``(N, 112, 112, 3)`` normalised input -> ``(N, 7)`` float32 scores in :data:`LABELS` order."""
        return ops.dense(self.features(x), self.weights["fc/weights"], self.weights["fc/bias"])

    def predict_proba(self, x: np.ndarray, chunk: int = 32) -> np.ndarray:
        """Softmax probabilities ``(N, 7)`` float32 in :data:`LABELS` order (``chunk`` faces at a time)."""
        parts = [ops.softmax(self.logits(x[i:i + chunk])) for i in range(0, len(x), chunk)]
        return np.concatenate(parts) if parts else np.empty((0, 7), np.float32)
