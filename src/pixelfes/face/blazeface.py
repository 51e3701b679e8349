"""Find every face at a bounded cost: MediaPipe's BlazeFace run convolutionally on a pyramid.

The short-range BlazeFace net (``assets/mediapipe``, 229 KB, Apache-2.0) is fully
convolutional, so it runs on a whole photo copy of any size (a multiple of 16 px), not only
on its native 128 x 128: in LiteRT (``ai-edge-litert``, about 2x faster) or, where that has
no wheel, in OpenCV's DNN module. It finds faces about 16-96 px wide in its
input. One pass at scale ``s0 = PIXELS_PER_MIN_FACE / min_face`` finds the smallest wanted
faces, each further pass at a quarter of the previous scale the next-larger ones, so the
cost is about ``(1 + 1/16 + ...) * s0**2`` of the photo's megapixels whatever its size.
The finest pass, most of that cost, runs as a cascade (:func:`_finest`): at ``CHEAP`` of its
scale with a low score, then a small window at full scale around each candidate. With
LiteRT that cheap look runs an 8-bit copy of the net (:data:`MODEL_INT8`, 1.8x faster; the
windows and the other passes stay float): on 840 made-up faces of 40-50 px its lowest
score was 0.61 / 0.63 against the float net's 0.55 / 0.66 (two sets of 420; logits differ
by sd 0.12), recall and the London landmarks are unchanged (README). Passes
larger than ``TILE`` px are cut into overlapping tiles (bounded memory); each face is kept
from the tile whose core holds its centre.

Coordinates are ``(x, y)`` photo pixels, continuous, with the image's top-left corner at
``(0, 0)`` for boxes and pixel centres on integers for key points (as elsewhere in
:mod:`pixelfes.face`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["BlazeDetection", "blazeface_detect", "pyramid_scales"]

MODEL = Path(__file__).resolve().parents[1] / "assets" / "mediapipe" / "face_detection_short_range.tflite"
#: the same net with an 8-bit backbone (``scripts/build_blazeface_int8.py``; the heads stay
#: float), 1.8x faster in LiteRT: it runs the finest pass's cheap look only (:data:`QUANTIZED`)
MODEL_INT8 = MODEL.with_name("face_detection_short_range_int8.tflite")
#: width in the net's input of the smallest face a pass looks for. The cost grows with its
#: square; ``benchmarks/bench_recall.py --sweep 12,14,16,20``: 12-16 each missed one of the
#: 22 faces of 40-80 px in the group photos, 20 none
PIXELS_PER_MIN_FACE = 20.0
#: ratio of scales between passes; a pass finds faces up to about 5x its smallest ones
PASS_RATIO = 4.0
#: largest side of one net input; bigger passes are tiled (memory and cache friendliness)
TILE = 1024
#: overlap of tiles in net-input pixels (larger than the largest face one pass finds)
OVERLAP = 128
SCORE = 0.5
#: the finest pass runs at this share of its scale (0.64 of the pixels) with the low score
#: below, and each face it finds in its range is looked at again at the full scale in a
#: small window around it (:func:`_finest`). On 360 made-up faces of 40-50 px (the
#: hardest), the lowest score at 0.8 was 0.72 (at 0.7: 0.21, too close to any threshold)
CHEAP = 0.8
LOW_SCORE = 0.4
#: the cheap look runs the 8-bit net (:data:`MODEL_INT8`; LiteRT only)
QUANTIZED = True
#: net pixels of the finest pass from which it runs as that cascade (a 1024 px square photo
#: at 40 px faces); below, the whole pass is only a few ms and the windows would cover it
CASCADE_FROM = 512 * 512
#: the second look's window (net px) for a candidate up to twice the pass's smallest face ...
SMALL_WINDOW = 64
#: ... and up to ``LARGE`` times it; a larger one keeps the cheap look's detection (at
#: 0.8x it is 50 px or more in the net's input, and the next pass sees it too: the two are
#: averaged as before). A window of 128 px around a face of 100 px lost its context: on a
#: real group photo that face's box, key points and score came out worse (0.70 vs 0.79)
#: and its landmark fit failed the check; a 192 px window cost as much as the whole pass
WINDOW = 128
LARGE = 3.2
#: a second look costs about this many times its pixels' share of a pass (small inputs
#: run less efficiently); beyond that the whole pass at full scale is cheaper
RECHECK_COST = 2.0
_XS = [0, 4, 6, 8, 10, 12, 14]  # columns holding x (box centre, key points)
_YS = [1, 5, 7, 9, 11, 13, 15]
NMS_IOU = 0.3
#: grey margin (net px) around a pass's photo copy: faces cut by the photo's edge. Of 240
#: faces of 40-300 px cut by up to half their width (``benchmarks/bench_edges.py``), 238
#: were found with 16 px, 215 with 0 (changed: 170 both; the check skips most heavily cut
#: ones). A multiple of 16 keeps the anchors on the same photo grid
PAD = 16

# key points of a detection, in the order the net gives them
KEYPOINTS = ("right_eye", "left_eye", "nose_tip", "mouth", "right_ear", "left_ear")


@dataclass(frozen=True)
class BlazeDetection:
    """One BlazeFace detection: square-ish ``box`` (x0, y0, x1, y1), ``score`` in [0, 1] and the
    six key points ``(6, 2)`` (x, y) of :data:`KEYPOINTS` (the person's right eye is on the
    image's left)."""

    box: tuple[float, float, float, float]
    score: float
    keypoints: np.ndarray = field(repr=False)

    @property
    def size(self) -> float:
        x0, y0, x1, y1 = self.box
        return 0.5 * ((x1 - x0) + (y1 - y0))


_LOCAL = threading.local()
_MAX_NETS = 10  # a pyramid's few shapes (one of them twice: 8-bit and float), its tiles
# and the two second-look windows


_STDERR_LOCK = threading.Lock()


@contextlib.contextmanager
def _native_stderr_hidden() -> Iterator[None]:
    """Send what native code writes to file descriptor 2 meanwhile to /dev/null (a few ms:
    LiteRT's one INFO line per net, which no setting silences once Python runs); Python's
    own exceptions are unaffected."""
    with _STDERR_LOCK:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError, AttributeError):  # no fd 2: nothing to hide
            yield
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)


class _LiteRTNet:
    """The net run by LiteRT (XNNPACK, one thread): about 2x OpenCV DNN's speed on CPU.

    Inputs of another shape than the file's 128 x 128 are set once per net (the net is
    fully convolutional); :meth:`run` returns the raw (regressors, logits) of one input."""

    def __init__(self, shape: tuple[int, int], model: Path = MODEL) -> None:
        from ai_edge_litert.interpreter import Interpreter

        with _native_stderr_hidden():  # LiteRT prints "INFO: Created ... XNNPACK delegate"
            self._it = Interpreter(model_path=str(model), num_threads=1)
            info = self._it.get_input_details()[0]
            self._in = info["index"]
            self._it.resize_tensor_input(self._in, [1, shape[0], shape[1], 3])
            self._it.allocate_tensors()
        # an 8-bit input: each of the 256 pixel values' quantised (x - 127.5) / 127.5. The
        # file's grid (step 2/255) lies half a step from every pixel's value: ties, rounded
        # up here (plain rounding to even would give two grey levels one code)
        self._lut: np.ndarray | None = None
        if info["dtype"] == np.int8:
            q_scale, zero = info["quantization"]
            x = (np.arange(256, dtype=np.float64) - 127.5) / 127.5
            self._lut = np.clip(np.floor(x / q_scale + 0.5 + 1e-4) + zero, -128, 127
                                ).astype(np.int8)
        # the shipped file's codes are the pixel values less 128: flipping the top bit
        # gives them 25x faster than a table lookup
        self._flip = self._lut is not None and bool(
            np.array_equal(self._lut, np.arange(-128, 128, dtype=np.int8)))
        outs = self._it.get_output_details()
        self._raw = next(o["index"] for o in outs if o["shape"][-1] == 16)
        self._logit = next(o["index"] for o in outs if o["shape"][-1] == 1)

    def run(self, img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(regressors ``(N, 16)``, logits ``(N,)``) of every anchor for ``img`` ``(h, w, 3)
        uint8``."""
        raw, logit, _ = self.kept(img, -np.inf)
        return raw, logit

    def kept(self, img: np.ndarray, min_logit: float
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The anchors whose logit is over ``min_logit``: (regressors ``(M, 16)``, logits
        ``(M,)``, anchor indices ``(M,)``), copied out of the interpreter's buffers.

        The input is written straight into the interpreter's tensor and only the kept rows
        are copied out (no float copy of the photo handed over, no copy of all outputs)."""
        # (x - 127.5) / 127.5: the [-1, 1] range the net was trained with; NHWC float32,
        # computed as astype, subtract, multiply in float32 (the same values)
        x = self._it.tensor(self._in)()
        if self._flip:
            np.bitwise_xor(img, np.uint8(128), out=x[0].view(np.uint8))
        elif self._lut is not None:
            np.take(self._lut, img, out=x[0])
        else:
            np.subtract(img, np.float32(127.5), out=x[0], dtype=np.float32)
            x *= np.float32(1.0 / 127.5)
        del x  # no reference into the interpreter may be held while it runs
        self._it.invoke()
        logit = self._it.tensor(self._logit)().reshape(-1)
        idx = np.flatnonzero(logit > min_logit)
        out = self._it.tensor(self._raw)().reshape(-1, 16)[idx], logit[idx]
        del logit
        return out[0], out[1], idx


class _OpenCVNet:
    """The net run by OpenCV's DNN module: the fallback where LiteRT has no wheel."""

    def __init__(self, shape: tuple[int, int]) -> None:
        import cv2

        self._net = cv2.dnn.readNetFromTFLite(str(MODEL))

    def run(self, img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import cv2

        blob = cv2.dnn.blobFromImage(img, 1.0 / 127.5, mean=(127.5, 127.5, 127.5), swapRB=False)
        self._net.setInput(blob)
        return _split(self._net.forward(self._net.getUnconnectedOutLayersNames()))

    def kept(self, img: np.ndarray, min_logit: float
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """As :meth:`_LiteRTNet.kept`."""
        raw, logit = self.run(img)
        idx = np.flatnonzero(logit > min_logit)
        return raw[idx], logit[idx], idx


def _split(outs: Any) -> tuple[np.ndarray, np.ndarray]:
    """(regressors ``(N, 16)``, logits ``(N,)``) from the net's two outputs, in anchor order."""
    raw = next(o for o in outs if o.shape[-1] == 16).reshape(-1, 16)
    logit = next(o for o in outs if o.shape[-1] == 1).reshape(-1)
    return raw, logit


def runtime() -> str:
    """Which runtime runs the net: ``"litert"`` (``ai-edge-litert`` installed) or ``"opencv"``."""
    import importlib.util

    try:
        found = importlib.util.find_spec("ai_edge_litert") is not None
    except (ImportError, ValueError):
        found = False
    return "litert" if found else "opencv"


def _net(shape: tuple[int, int], quantized: bool = False) -> Any:
    """A net for inputs of ``shape`` (h, w), made once per thread and shape; ``quantized``:
    the 8-bit one (:data:`MODEL_INT8`) where LiteRT runs the nets (OpenCV: the float one).

    Each runtime re-plans a net's memory whenever the input shape changes (30-40 ms in
    OpenCV), so each of the few shapes a pyramid uses keeps its own net; a net is not safe to
    share between threads (a web server's workers), so each thread has its own.
    """
    nets: dict[tuple[int, int, bool], Any] | None = getattr(_LOCAL, "nets", None)
    if nets is None:
        nets = _LOCAL.nets = {}
    litert = runtime() == "litert"
    key = (shape[0], shape[1], quantized and litert)
    net = nets.get(key)
    if net is None:
        if len(nets) >= _MAX_NETS:
            nets.pop(next(iter(nets)))
        if not litert:
            net = _OpenCVNet(shape)
        else:
            net = _LiteRTNet(shape, MODEL_INT8 if key[2] else MODEL)
        nets[key] = net
    return net


@functools.lru_cache(maxsize=32)
def _anchors(h: int, w: int) -> np.ndarray:
    """Anchor centres ``(N, 2)`` in input pixels, in the order of the net's outputs (read-only,
    cached per input shape).

    MediaPipe's short-range layout: stride 8 with 2 anchors per cell, then stride 16 with 6.
    """
    out = []
    for stride, reps in ((8, 2), (16, 6)):
        fh, fw = h // stride, w // stride
        yy, xx = np.mgrid[0:fh, 0:fw]
        c = np.stack([(xx + 0.5) * stride, (yy + 0.5) * stride], axis=-1).reshape(-1, 1, 2)
        out.append(np.repeat(c, reps, axis=1).reshape(-1, 2))
    a = np.concatenate(out).astype(np.float32)
    a.flags.writeable = False
    return a


def _run(net: Any, img: np.ndarray, score: float) -> tuple[np.ndarray, np.ndarray]:
    """Raw detections on one input ``(h, w, 3) uint8`` RGB, h and w multiples of 16.

    Returns ``(M, 16)`` float32 [cx, cy, w, h, 6 x (x, y)] in input pixels and ``(M,)`` scores.
    """
    h, w = img.shape[:2]
    det, logit, idx = net.kept(img, np.log(score / (1.0 - score)))
    if not len(idx):
        return np.empty((0, 16), np.float32), np.empty(0, np.float32)
    anchors = _anchors(h, w)[idx]
    det[:, 0:2] += anchors
    det[:, 4:16] += np.tile(anchors, (1, 6))
    return det, 1.0 / (1.0 + np.exp(-np.clip(logit, -80, 80)))


def pyramid_scales(height: int, width: int, min_face: float = 40.0,
                   max_face: float | None = None) -> list[float]:
    """Scales of the passes that find faces from ``min_face`` px up to ``max_face`` (default:
    the photo's longer side) in a ``height`` x ``width`` photo, finest first."""
    if not min_face > 0:
        raise ValueError(f"min_face must be > 0 pixels; got {min_face!r}")
    top = float(max(height, width)) if max_face is None else float(max_face)
    s = min(2.0, PIXELS_PER_MIN_FACE / float(min_face))
    scales = [s]
    # a pass at scale s finds faces up to about PASS_RATIO * PIXELS_PER_MIN_FACE / s photo px
    while PASS_RATIO * PIXELS_PER_MIN_FACE / s < top and s * max(height, width) > 64:
        s /= PASS_RATIO
        scales.append(s)
    return scales


def _tiles(n: int) -> list[tuple[int, int, int, int]]:
    """Split ``0..n`` (net-input px) into tiles ``(start, stop, core_start, core_stop)``.

    All tiles have the same size (``TILE``, or ``n`` when smaller) so one net serves them;
    neighbours overlap by at least ``OVERLAP`` and each core ends mid-overlap.
    """
    if n <= TILE:
        return [(0, n, 0, n)]
    k = -(-(n - OVERLAP) // (TILE - OVERLAP))
    starts = [round(i * (n - TILE) / (k - 1)) for i in range(k)]
    out = []
    for i, a in enumerate(starts):
        core_a = 0 if i == 0 else (a + starts[i - 1] + TILE) // 2
        core_b = n if i == k - 1 else (starts[i + 1] + a + TILE) // 2
        out.append((a, a + TILE, core_a, core_b))
    return out


def _reduced(rgb: np.ndarray, scale: float, src: np.ndarray | None = None) -> np.ndarray:
    """``rgb`` resized by ``scale`` (sizes rounded), area-averaged from ``src`` when given: a
    copy of ``rgb`` already reduced to at least that size (the previous, finer pass), which
    costs a fraction of reading the whole photo again."""
    import cv2

    h, w = rgb.shape[:2]
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    if (sw, sh) == (w, h):
        return rgb
    if scale > 1:
        return cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_LINEAR)
    base = rgb if src is None or src.shape[0] < sh or src.shape[1] < sw else src
    bh, bw = base.shape[:2]
    k = int(min(bw / sw, bh / sh))
    if k >= 2 and bw % k == 0 and bh % k == 0 and (bw // k, bh // k) != (sw, sh):
        # an exact k x k area average first (OpenCV's fast integer path): 1350 -> 540 px
        # took 4.5 ms in one area resize, 1.0 + 1.1 ms in two, the same averaging
        base = cv2.resize(base, (bw // k, bh // k), interpolation=cv2.INTER_AREA)
    return cv2.resize(base, (sw, sh), interpolation=cv2.INTER_AREA)


def _pass(rgb: np.ndarray, scale: float, score: float, small: np.ndarray | None = None,
          quantized: bool = False) -> np.ndarray:
    """Detections ``(M, 17)`` (16 box/key-point values in photo pixels + score) of one pass;
    ``small``: the photo already resized by ``scale`` (:func:`_reduced`); ``quantized``: by
    the 8-bit net."""
    h, w = rgb.shape[:2]
    if small is None:
        small = _reduced(rgb, scale)
    sh, sw = small.shape[:2]
    # grey margin: faces cut by the photo's edge are still found; sizes rounded up to
    # multiples of 32 (the net needs 16; coarser rounding means fewer distinct shapes)
    pad = PAD
    ph, pw = -(-(sh + 2 * pad) // 32) * 32, -(-(sw + 2 * pad) // 32) * 32
    canvas = np.full((ph, pw, 3), 127, np.uint8)
    canvas[pad:pad + sh, pad:pad + sw] = small
    found = []
    for y0, y1, cy0, cy1 in _tiles(ph):
        for x0, x1, cx0, cx1 in _tiles(pw):
            net = _net((y1 - y0, x1 - x0), quantized)
            det, sc = _run(net, canvas[y0:y1, x0:x1], score)
            if not len(det):
                continue
            # column layout: 0 cx, 1 cy, 2 w, 3 h, 4.. key points (x, y)
            det[:, _XS] += x0
            det[:, _YS] += y0
            core = ((det[:, 0] >= cx0) & (det[:, 0] < cx1) & (det[:, 1] >= cy0)
                    & (det[:, 1] < cy1))
            found.append(np.column_stack([det[core], sc[core]]))
    if not found:
        return np.empty((0, 17), np.float32)
    d = np.concatenate(found).astype(np.float64)
    fx, fy = sw / w, sh / h
    d[:, _XS] = (d[:, _XS] - pad) / fx
    d[:, _YS] = (d[:, _YS] - pad) / fy
    d[:, 2] /= fx
    d[:, 3] /= fy
    # key points to the pixel-centres-on-integers convention
    d[:, 4:16] -= 0.5
    return d


def _weighted_nms(d: np.ndarray, iou: float) -> list[np.ndarray]:
    """MediaPipe's weighted non-maximum suppression over rows ``[cx, cy, w, h, kps..., score]``."""
    order = np.argsort(-d[:, 16])
    d = d[order]
    x0, y0 = d[:, 0] - d[:, 2] / 2, d[:, 1] - d[:, 3] / 2
    x1, y1 = d[:, 0] + d[:, 2] / 2, d[:, 1] + d[:, 3] / 2
    area = d[:, 2] * d[:, 3]
    left = np.ones(len(d), bool)
    out = []
    for i in range(len(d)):
        if not left[i]:
            continue
        ix = np.clip(np.minimum(x1[i], x1) - np.maximum(x0[i], x0), 0, None)
        iy = np.clip(np.minimum(y1[i], y1) - np.maximum(y0[i], y0), 0, None)
        inter = ix * iy
        # overlapping boxes are one face (averaged); a smaller box mostly inside this better
        # one is dropped (BlazeFace also fires on the lower half of a large face)
        same = left & (inter / (area[i] + area - inter) > iou)
        same[i] = True
        wts = d[same, 16:17]
        merged = (d[same, :16] * wts).sum(0) / wts.sum()
        out.append(np.concatenate([merged, [d[i, 16]]]))
        left &= ~(same | (inter > 0.6 * area))
    return out


def _window(rgb: np.ndarray, cx: float, cy: float, scale: float, side: int = WINDOW
            ) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """The ``side`` px square net input at about ``scale`` centred on photo point (cx, cy),
    grey beyond the photo, and ``(x0, y0, kx, ky)``: window point q is photo point
    ``(x0 + kx * qx, y0 + ky * qy)`` (both with corners at 0)."""
    import cv2

    h, w = rgb.shape[:2]
    half = side / 2 / scale
    ax0, ay0 = max(0, int(np.floor(cx - half))), max(0, int(np.floor(cy - half)))
    ax1, ay1 = min(w, int(np.ceil(cx + half))), min(h, int(np.ceil(cy + half)))
    out = np.full((side, side, 3), 127, np.uint8)
    k = 1.0 / scale
    if ax1 <= ax0 or ay1 <= ay0:
        return out, (cx - half, cy - half, k, k)
    # where the photo's part starts in the window, and its size there (within the window)
    px0 = min(side - 1, max(0, int(round((ax0 - (cx - half)) * scale))))
    py0 = min(side - 1, max(0, int(round((ay0 - (cy - half)) * scale))))
    pw = max(1, min(side - px0, int(round((ax1 - ax0) * scale))))
    ph = max(1, min(side - py0, int(round((ay1 - ay0) * scale))))
    out[py0:py0 + ph, px0:px0 + pw] = cv2.resize(rgb[ay0:ay1, ax0:ax1], (pw, ph),
                                                 interpolation=cv2.INTER_AREA)
    kx, ky = (ax1 - ax0) / pw, (ay1 - ay0) / ph
    return out, (ax0 - px0 * kx, ay0 - py0 * ky, kx, ky)


def _finest(rgb: np.ndarray, scale: float, score: float, min_face: float
            ) -> tuple[np.ndarray, np.ndarray]:
    """The finest pass as a cascade: the pass at ``CHEAP x scale`` with ``LOW_SCORE`` finds
    candidates; each in this pass's range (up to ``PASS_RATIO`` x its smallest faces, 1.25x
    for slack: larger ones are the next pass's) is looked at again at ``scale`` in a
    window around it (``SMALL_WINDOW`` or ``WINDOW`` net px, by its size), which keeps what
    the whole pass would have kept there (score at least ``score``, at the same resolution);
    a candidate over ``LARGE`` times the smallest face keeps the cheap look's detection.

    Returns ``(rows (M, 17), small)``: the detections and the cheap pass's reduced photo
    (for the next, coarser pass). The whole pass at ``scale`` runs instead when the second
    looks would cost more (many candidates in a small photo).
    """
    h, w = rgb.shape[:2]
    small = _reduced(rgb, scale * CHEAP)
    rough = _pass(rgb, scale * CHEAP, LOW_SCORE, small, quantized=QUANTIZED)
    if not len(rough):
        return rough, small
    merged = np.array(_weighted_nms(rough, NMS_IOU))
    size = np.maximum(merged[:, 2], merged[:, 3])
    # every candidate up to LARGE is looked at again, confident ones too: their key points
    # and score decide the landmark check, and at 0.7x resolution those failed it for 2 of
    # 79 faces of 40-160 px that the full pass's passed
    look = merged[size <= 1.25 * PASS_RATIO * PIXELS_PER_MIN_FACE / scale]
    saved = (h * w) * scale * scale * (1.0 - CHEAP * CHEAP)
    net_size = np.maximum(look[:, 2], look[:, 3]) * scale
    large = net_size > LARGE * PIXELS_PER_MIN_FACE
    keep = [look[large & (look[:, 16] >= score)]]
    look, net_size = look[~large], net_size[~large]
    sides = np.where(net_size <= 2 * PIXELS_PER_MIN_FACE, SMALL_WINDOW, WINDOW)
    if float((sides.astype(np.float64) ** 2).sum()) * RECHECK_COST > saved:
        whole = _reduced(rgb, scale)  # the next pass reduces from it, as without a cascade
        return _pass(rgb, scale, score, whole), whole
    for r, side in zip(look, sides, strict=True):
        win, (x0, y0, kx, ky) = _window(rgb, float(r[0]), float(r[1]), scale, int(side))
        det, sc = _run(_net((int(side), int(side))), win, score)
        if not len(det):
            continue
        d = det.astype(np.float64)
        d[:, _XS] = d[:, _XS] * kx + x0
        d[:, _YS] = d[:, _YS] * ky + y0
        d[:, 2] *= kx
        d[:, 3] *= ky
        d[:, 4:16] -= 0.5  # key points to the pixel-centres-on-integers convention
        # the window's own detection of this face (centre inside the candidate's box), if
        # both looks together say face: the geometric mean of their scores is at least
        # ``score`` too (a window sees less context than the whole pass, and alone it let
        # noise scoring 0.50 through, where the whole pass had given it less)
        near = ((np.abs(d[:, 0] - r[0]) < r[2] / 2) & (np.abs(d[:, 1] - r[1]) < r[3] / 2)
                & (sc * r[16] >= score * score))
        keep.append(np.column_stack([d[near], sc[near]]))
    return np.concatenate(keep), small


def blazeface_detect(rgb: np.ndarray, min_face: float = 40.0, max_face: float | None = None,
                     score: float = SCORE) -> list[BlazeDetection]:
    """Every face of about ``min_face`` px or more in ``rgb`` ``(H, W, 3) uint8``, best first.

    Sizes are BlazeFace's (about 1.1x the width between the ears' tragions); callers filter
    by their own measure of size.
    """
    if not 0 < score < 1:
        raise ValueError(f"score must be in (0, 1); got {score!r}")
    h, w = rgb.shape[:2]
    rows, prev = [], None
    for i, s in enumerate(pyramid_scales(h, w, min_face, max_face)):
        if i == 0 and CHEAP < 1 and s * CHEAP <= 1 and h * w * s * s >= CASCADE_FROM:
            found, small = _finest(rgb, s, score, min_face)
        else:
            small = _reduced(rgb, s, prev)
            found = _pass(rgb, s, score, small)
        prev = small if s <= 1 else None
        rows.append(found)
    d = np.concatenate(rows) if rows else np.empty((0, 17))
    if not len(d):
        return []
    out = []
    for r in _weighted_nms(d, NMS_IOU):
        cx, cy, bw, bh = (float(v) for v in r[:4])
        out.append(BlazeDetection(box=(cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2),
                                  score=float(r[16]), keypoints=r[4:16].reshape(6, 2).copy()))
    return out
