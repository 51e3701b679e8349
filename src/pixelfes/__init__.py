"""pixelfes: pixel-based facial expression synthesis (Akram & Khan), exact, fast and tiny.

>>> import pixelfes
>>> model = pixelfes.PixelRR(lam=0.4).fit(X, T)   # (N, H, W, C) uint8 aligned crops
>>> Y = model.predict(X_new, strength=1.0)
>>> model.save("happy.safetensors"); model = pixelfes.load("happy.safetensors")
"""

from __future__ import annotations

from ._version import __version__
from .alignment import DEFAULT_ALIGNMENT, Alignment
from .expressions import EXPRESSIONS, normalize_expression
from .modelfile import ModelFileError
from .modelfile import load_model as load
from .models import GlobalRR, MaskedRR, NotFittedError, PixelKR, PixelRR, make_model
from .stats import PixelStats


def __getattr__(name: str) -> object:
    """Lazily import the heavier parts (OpenCV, dlib) only when asked for."""
    if name == "ShapeTextureModel":
        from .models.shape_texture import ShapeTextureModel

        return ShapeTextureModel
    if name == "synthesize":
        from .pipeline import synthesize

        return synthesize
    raise AttributeError(f"module 'pixelfes' has no attribute {name!r}")


__all__ = [
    "DEFAULT_ALIGNMENT",
    "EXPRESSIONS",
    "Alignment",
    "ShapeTextureModel",
    "synthesize",
    "GlobalRR",
    "MaskedRR",
    "ModelFileError",
    "NotFittedError",
    "PixelKR",
    "PixelRR",
    "PixelStats",
    "__version__",
    "load",
    "make_model",
    "normalize_expression",
]
