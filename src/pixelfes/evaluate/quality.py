"""Image-quality scores of a synthesised face against the real target (same-shape aligned crops).

Every score takes images as ``(H, W)``, ``(H, W, C)`` (one image) or ``(N, H, W, C)``
(``*_batch``, per-image results), uint8 in ``[0, 255]`` or floats in ``[0, 1]``; both are
compared on the ``[0, 1]`` scale (``data_range = 1``), so a uint8 pair and its float copy
score the same.
"""

from __future__ import annotations

import numpy as np

from pixelfes._validation import as_batch
from pixelfes.imageio import LUMA_WEIGHTS

__all__ = [
    "gradient_energy",
    "psnr",
    "psnr_batch",
    "sharpness_ratio",
    "sharpness_ratio_batch",
    "ssim",
    "ssim_batch",
]



def _pair(output: object, target: object, batched: bool) -> tuple[np.ndarray, np.ndarray]:
    """Both as float64 ``(N, H, W, C)`` in [0, 1]; a single image becomes N = 1."""
    out = np.asarray(output)
    tgt = np.asarray(target)
    if not batched:
        for name, arr in (("output", out), ("target", tgt)):
            if arr.ndim not in (2, 3):
                raise ValueError(f"{name} must be one image (H, W) or (H, W, C); got shape {arr.shape} "
                                 "(use the *_batch function for a batch)")
        out, tgt = out[None], tgt[None]
    a = as_batch(out, "output").values
    b = as_batch(tgt, "target").values
    if a.shape != b.shape:
        raise ValueError(f"output and target shapes must be the same. Got: {out.shape} and {tgt.shape}")
    return a, b


def psnr_batch(output: object, target: object) -> np.ndarray:
    """Peak signal-to-noise ratio per image, ``(N,)`` dB: ``10 log10(1 / MSE)`` on ``[0, 1]``.

    The MSE is over every pixel and channel; identical images give ``inf``.
    """
    a, b = _pair(output, target, batched=True)
    mse = ((a - b) ** 2).mean(axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(1.0 / mse)


def psnr(output: object, target: object) -> float:
    """PSNR in dB of one image against its target (see :func:`psnr_batch`)."""
    return float(psnr_batch(*_pair(output, target, batched=False))[0])


def ssim_batch(output: object, target: object) -> np.ndarray:
    """Structural similarity per image, ``(N,)``: scikit-image's ``structural_similarity``.

    scikit-image defaults (7x7 uniform window, K1 = 0.01, K2 = 0.03), ``data_range = 1``,
    colour images averaged over channels (``channel_axis=-1``). Needs images of at least 7x7.
    """
    try:
        from skimage.metrics import structural_similarity
    except ImportError as exc:
        raise ImportError("ssim needs scikit-image: pip install 'pixelfes[eval]'") from exc
    a, b = _pair(output, target, batched=True)
    if min(a.shape[1:3]) < 7:
        raise ValueError(f"ssim needs images of at least 7x7 pixels; got {a.shape[1:3]}")
    if a.shape[-1] == 1:
        return np.array([structural_similarity(x[..., 0], y[..., 0], data_range=1.0)
                         for x, y in zip(a, b, strict=True)])
    return np.array([structural_similarity(x, y, data_range=1.0, channel_axis=-1)
                     for x, y in zip(a, b, strict=True)])


def ssim(output: object, target: object) -> float:
    """SSIM of one image against its target (see :func:`ssim_batch`)."""
    return float(ssim_batch(*_pair(output, target, batched=False))[0])


def _energy(values: np.ndarray) -> np.ndarray:
    y = values @ LUMA_WEIGHTS if values.shape[-1] == 3 else values[..., 0]
    gx = np.diff(y, axis=2)
    gy = np.diff(y, axis=1)
    return (gx**2).mean(axis=(1, 2)) + (gy**2).mean(axis=(1, 2))


def gradient_energy(images: object) -> np.ndarray:
    """Gradient energy per image, ``(N,)``: ``mean(dx^2) + mean(dy^2)`` of the luminance.

    Luminance ``Y = 0.299 R + 0.587 G + 0.114 B`` on ``[0, 1]`` (gray images as they are);
    ``dx = Y[:, 1:] - Y[:, :-1]``, ``dy = Y[1:, :] - Y[:-1, :]`` (forward differences, no
    padding), each squared and averaged over its own pixels. Blur lowers it.
    """
    arr = np.asarray(images)
    if arr.ndim == 2 or (arr.ndim == 3 and arr.shape[-1] in (1, 3)):
        arr = arr[None]
    return _energy(as_batch(arr, "images").values)


def sharpness_ratio_batch(output: object, target: object) -> np.ndarray:
    """Per image ``gradient_energy(output) / gradient_energy(target)``, ``(N,)``.

    1 = as sharp as the real target, < 1 blurrier, > 1 more high-frequency content (noise
    or artefacts also raise it). Raises ``ValueError`` if a target is perfectly flat.
    """
    a, b = _pair(output, target, batched=True)
    ea, eb = _energy(a), _energy(b)
    if np.any(eb == 0):
        raise ValueError(f"target images {np.flatnonzero(eb == 0).tolist()} are flat (zero gradient "
                         "energy); the sharpness ratio is undefined")
    return ea / eb


def sharpness_ratio(output: object, target: object) -> float:
    """Sharpness ratio of one image against its target (see :func:`sharpness_ratio_batch`)."""
    return float(sharpness_ratio_batch(*_pair(output, target, batched=False))[0])
