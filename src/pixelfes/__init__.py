"""pixelfes: pixel-based facial expression synthesis (Akram & Khan), exact, fast and tiny.

>>> import pixelfes
>>> model = pixelfes.PixelRR(lam=0.4).fit(X, T)   # (N, H, W, C) uint8 aligned crops
>>> Y = model.predict(X_new, strength=1.0)
>>> model.save("happy.safetensors"); model = pixelfes.load("happy.safetensors")
"""

from __future__ import annotations

__version__ = "0.1.0"

from .expressions import EXPRESSIONS, normalize_expression
from .modelfile import ModelFileError
from .modelfile import load_model as load
from .models import GlobalRR, MaskedRR, NotFittedError, PixelKR, PixelRR, make_model
from .stats import PixelStats

__all__ = [
    "EXPRESSIONS",
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
