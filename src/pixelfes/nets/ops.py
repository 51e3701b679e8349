"""The few convolution-net layers small pretrained nets need, in numpy, with TensorFlow semantics.

Tensors are ``(N, H, W, C)`` float32 (NHWC, as TensorFlow and tfjs); filters are laid out as
TensorFlow's: ``conv2d`` ``(kh, kw, c_in, c_out)``, ``depthwise_conv2d`` ``(kh, kw, c, m)``.
``"same"`` padding is TensorFlow's: the output has ``ceil(size / stride)`` samples and an odd
total pad puts the extra zero row/column at the bottom/right. Convolutions are vectorised
over the ``kh * kw`` filter taps (im2col for dense convolution, a sum of shifted strided
slices for depthwise): no Python loop over pixels or channels. Matrix products go through
OpenCV's ``cv2.gemm``: on a shared 2-core machine numpy's multi-threaded OpenBLAS was 10-90x
slower for these small products (benchmarks/bench_faceapi.py).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

__all__ = [
    "avg_pool",
    "batch_norm",
    "conv2d",
    "dense",
    "depthwise_conv2d",
    "matmul",
    "max_pool",
    "pointwise_conv2d",
    "relu",
    "resize_bilinear",
    "scale",
    "separable_conv2d",
    "softmax",
]

Padding = Literal["same", "valid"]


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for 2-D arrays, float32 or float64 (the wider of the two) via ``cv2.gemm``."""
    import cv2

    dtype = np.result_type(a, b)
    if dtype not in (np.float32, np.float64):
        dtype = np.dtype(np.float64)
    a2 = np.ascontiguousarray(a, dtype=dtype)
    b2 = np.ascontiguousarray(b, dtype=dtype)
    if a2.shape[0] == 0:
        return np.zeros((0, b2.shape[1]), dtype)
    return np.asarray(cv2.gemm(a2, b2, 1.0, None, 0.0))  # type: ignore[call-overload]


def _pads(size: int, k: int, stride: int, padding: Padding) -> tuple[int, int, int]:
    """(pad before, pad after, output size) along one axis, TensorFlow's rule."""
    if padding == "valid":
        out = (size - k) // stride + 1
        if out < 1:
            raise ValueError(f"a {k}-tap window with valid padding needs at least {k} samples; got {size}")
        return 0, 0, out
    if padding != "same":
        raise ValueError(f"padding must be 'same' or 'valid'; got {padding!r}")
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2, out


def _taps(x: np.ndarray, kh: int, kw: int, stride: int, padding: Padding,
          fill: float = 0.0) -> tuple[list[np.ndarray], int, int]:
    """The ``kh * kw`` shifted, strided views of ``x`` (row-major over taps) and the output size."""
    if x.ndim != 4:
        raise ValueError(f"expected an (N, H, W, C) tensor; got shape {x.shape}")
    t, b, ho = _pads(x.shape[1], kh, stride, padding)
    left, right, wo = _pads(x.shape[2], kw, stride, padding)
    if t or b or left or right:
        x = np.pad(x, ((0, 0), (t, b), (left, right), (0, 0)), constant_values=fill)
    views = [x[:, dy:dy + (ho - 1) * stride + 1:stride, dx:dx + (wo - 1) * stride + 1:stride]
             for dy in range(kh) for dx in range(kw)]
    return views, ho, wo


def conv2d(x: np.ndarray, filters: np.ndarray, bias: np.ndarray | None = None,
           stride: int = 1, padding: Padding = "same") -> np.ndarray:
    """Dense 2-D convolution (cross-correlation, as ``tf.conv2d``) by im2col and one matmul."""
    kh, kw, cin, cout = filters.shape
    if x.shape[-1] != cin:
        raise ValueError(f"conv2d: input has {x.shape[-1]} channels, filters expect {cin}")
    views, ho, wo = _taps(x, kh, kw, stride, padding)
    cols = np.concatenate(views, axis=-1) if len(views) > 1 else views[0]
    out = matmul(cols.reshape(-1, kh * kw * cin), filters.reshape(kh * kw * cin, cout))
    out = out.reshape(x.shape[0], ho, wo, cout)
    return out if bias is None else out + bias


def depthwise_conv2d(x: np.ndarray, filters: np.ndarray, stride: int = 1,
                     padding: Padding = "same") -> np.ndarray:
    """Depthwise convolution (``tf.depthwiseConv2d``): channel ``c`` with multiplier ``m`` goes to
    output channel ``c * M + m``."""
    kh, kw, c, m = filters.shape
    if x.shape[-1] != c:
        raise ValueError(f"depthwise_conv2d: input has {x.shape[-1]} channels, filters expect {c}")
    views, ho, wo = _taps(x, kh, kw, stride, padding)
    if m != 1:
        wm = filters.reshape(kh * kw, c, m)
        terms = ((v[..., None] * wm[i]).reshape(*v.shape[:3], c * m) for i, v in enumerate(views))
        return np.add.reduce(list(terms))
    w = filters.reshape(kh * kw, c).astype(np.result_type(x, filters), copy=False)
    out = np.multiply(views[0], w[0])
    tmp = np.empty_like(out)
    for i in range(1, len(views)):  # kh * kw taps (9 for 3x3), each a whole-tensor product
        np.multiply(views[i], w[i], out=tmp)
        out += tmp
    return out


def pointwise_conv2d(x: np.ndarray, filters: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """1x1 convolution: a matmul over channels; ``filters`` ``(1, 1, c_in, c_out)`` or ``(c_in, c_out)``."""
    w = filters.reshape(filters.shape[-2], filters.shape[-1])
    out = matmul(x.reshape(-1, w.shape[0]), w).reshape(*x.shape[:-1], w.shape[1])
    return out if bias is None else out + bias


def separable_conv2d(x: np.ndarray, depthwise: np.ndarray, pointwise: np.ndarray,
                     bias: np.ndarray | None = None, stride: int = 1,
                     padding: Padding = "same") -> np.ndarray:
    """``tf.separableConv2d`` (depthwise then pointwise) plus an optional bias."""
    return pointwise_conv2d(depthwise_conv2d(x, depthwise, stride, padding), pointwise, bias)


def batch_norm(x: np.ndarray, mean: np.ndarray, variance: np.ndarray, offset: np.ndarray | None = None,
               gamma: np.ndarray | None = None, epsilon: float = 1e-3) -> np.ndarray:
    """Inference batch normalisation (``tf.batchNorm``): ``(x - mean) / sqrt(var + eps) * gamma + offset``."""
    inv = (1.0 / np.sqrt(variance + np.float32(epsilon))).astype(x.dtype)
    out = (x - mean) * (inv if gamma is None else inv * gamma)
    return out if offset is None else out + offset


def scale(x: np.ndarray, weights: np.ndarray, biases: np.ndarray | None = None) -> np.ndarray:
    """Per-channel scale and shift (a folded batch norm): ``x * weights + biases``."""
    out = x * weights
    return out if biases is None else out + biases


def max_pool(x: np.ndarray, k: int, stride: int, padding: Padding = "valid") -> np.ndarray:
    """Max pooling over ``k x k`` windows (``tf.maxPool``; "same" pads with -inf)."""
    views, _, _ = _taps(x, k, k, stride, padding, fill=-np.inf)
    return np.maximum.reduce(views)


def avg_pool(x: np.ndarray, k: int, stride: int, padding: Padding = "valid") -> np.ndarray:
    """Average pooling over ``k x k`` windows (``tf.avgPool``; "same" averages only real samples)."""
    views, _, _ = _taps(x, k, k, stride, padding)
    total = np.add.reduce(views)
    if padding == "valid":
        return total / np.float32(k * k)
    ones = np.ones((1, x.shape[1], x.shape[2], 1), dtype=x.dtype)
    count = np.add.reduce(_taps(ones, k, k, stride, padding)[0])
    return total / count


def dense(x: np.ndarray, weights: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """Fully connected layer: ``(N, D) @ (D, K) + (K,)`` (inputs are flattened to ``(N, D)``)."""
    out = matmul(x.reshape(x.shape[0], -1), weights)
    return out if bias is None else out + bias


def relu(x: np.ndarray) -> np.ndarray:
    """``max(x, 0)``."""
    return np.maximum(x, 0)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax along ``axis`` (max subtracted first, as tfjs does)."""
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _bilinear_axis(old: int, new: int, align_corners: bool, half_pixel: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source indices (floor, ceil) and fractions along one axis, as tfjs's cpu ResizeBilinear."""
    eff_in = old - 1 if align_corners and new > 1 else old
    eff_out = new - 1 if align_corners and new > 1 else new
    ratio = eff_in / eff_out
    r = np.arange(new, dtype=np.float64)
    src = ratio * (r + 0.5) - 0.5 if half_pixel else ratio * r
    lo = np.maximum(0, np.floor(src)).astype(np.intp)
    frac = src - lo
    hi = np.minimum(old - 1, np.ceil(src)).astype(np.intp)
    return lo, hi, frac


def resize_bilinear(x: np.ndarray, size: tuple[int, int], align_corners: bool = False,
                    half_pixel_centers: bool = False) -> np.ndarray:
    """``tf.image.resizeBilinear`` to ``size = (height, width)``, float32 out.

    The defaults are TensorFlow's legacy sampling (``src = out_index * in / out``, no half-pixel
    offset), which differs from OpenCV's ``cv2.resize``; computed in float64 like the tfjs cpu
    kernel (JavaScript doubles) and rounded to float32 once.
    """
    if x.ndim != 4:
        raise ValueError(f"expected an (N, H, W, C) tensor; got shape {x.shape}")
    (h, w), (nh, nw) = x.shape[1:3], size
    if nh < 1 or nw < 1:
        raise ValueError(f"size must be positive; got {size}")
    r0, r1, fr = _bilinear_axis(h, nh, align_corners, half_pixel_centers)
    c0, c1, fc = _bilinear_axis(w, nw, align_corners, half_pixel_centers)
    xd = x.astype(np.float64, copy=False)
    fc = fc[None, None, :, None]
    top = xd[:, r0][:, :, c0] + (xd[:, r0][:, :, c1] - xd[:, r0][:, :, c0]) * fc
    bot = xd[:, r1][:, :, c0] + (xd[:, r1][:, :, c1] - xd[:, r1][:, :, c0]) * fc
    return (top + (bot - top) * fr[None, :, None, None]).astype(np.float32)
