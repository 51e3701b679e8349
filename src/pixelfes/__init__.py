"""pixelfes: pixel-based facial expression synthesis (Akram & Khan), exact, fast and tiny.

>>> import pixelfes
>>> model = pixelfes.PixelRR(lam=0.4).fit(X, T)   # (N, H, W, C) uint8 aligned crops
>>> Y = model.predict(X_new, strength=1.0)
>>> model.save("happy.safetensors"); model = pixelfes.load("happy.safetensors")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ._version import __version__

if TYPE_CHECKING:
    from .alignment import DEFAULT_ALIGNMENT, Alignment
    from .expressions import EXPRESSIONS, normalize_expression
    from .modelfile import ModelFileError
    from .modelfile import load_model as load
    from .models import GlobalRR, MaskedRR, NotFittedError, PixelKR, PixelRR, make_model
    from .models.shape_texture import ShapeTextureModel
    from .pipeline import synthesize
    from .stats import PixelStats

# Every public name is imported on first use (PEP 562), so ``import pixelfes`` loads no NumPy:
# the command line can then choose OpenBLAS's threads before NumPy starts them (cli.main).
_LAZY: dict[str, tuple[str, str]] = {
    "DEFAULT_ALIGNMENT": (".alignment", "DEFAULT_ALIGNMENT"),
    "Alignment": (".alignment", "Alignment"),
    "EXPRESSIONS": (".expressions", "EXPRESSIONS"),
    "normalize_expression": (".expressions", "normalize_expression"),
    "ModelFileError": (".modelfile", "ModelFileError"),
    "load": (".modelfile", "load_model"),
    "GlobalRR": (".models", "GlobalRR"),
    "MaskedRR": (".models", "MaskedRR"),
    "NotFittedError": (".models", "NotFittedError"),
    "PixelKR": (".models", "PixelKR"),
    "PixelRR": (".models", "PixelRR"),
    "make_model": (".models", "make_model"),
    "ShapeTextureModel": (".models.shape_texture", "ShapeTextureModel"),
    "synthesize": (".pipeline", "synthesize"),
    "PixelStats": (".stats", "PixelStats"),
}


def __getattr__(name: str) -> object:
    """Import a public name's module when the name is first asked for (then cached here)."""
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module 'pixelfes' has no attribute {name!r}")
    value = getattr(importlib.import_module(where[0], __name__), where[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
