"""The models: the paper's Pixel-RR and Pixel-KR, the baselines MR and RR."""

from __future__ import annotations

import importlib
from typing import Any

from .base import ExpressionModel, NotFittedError
from .global_rr import GlobalRR
from .masked import MaskedRR
from .pixel import PixelKR, PixelRR

MODEL_TYPES: dict[str, type[ExpressionModel]] = {
    PixelRR.model_type: PixelRR,
    PixelKR.model_type: PixelKR,
    MaskedRR.model_type: MaskedRR,
    GlobalRR.model_type: GlobalRR,
}


# Model types whose modules are imported on first use (they need OpenCV): type -> module.
_LAZY_TYPES: dict[str, str] = {"shape-texture": "pixelfes.models.shape_texture",
                                "action-units": "pixelfes.actions.model"}


def register_model(cls: type[ExpressionModel]) -> type[ExpressionModel]:
    """Make a model class loadable from files and selectable by its ``model_type`` name."""
    if not cls.model_type:
        raise ValueError(f"{cls.__name__} has no model_type")
    MODEL_TYPES[cls.model_type] = cls
    return cls


def model_class(name: str) -> type[ExpressionModel]:
    """The model class for a type name such as ``"pixel-rr"``.

    A lazily registered type's module is imported here; if that import fails, the error
    is raised as it is (a broken install must not read as an unknown model type).
    """
    if name not in MODEL_TYPES and name in _LAZY_TYPES:
        importlib.import_module(_LAZY_TYPES[name])
    try:
        return MODEL_TYPES[name]
    except KeyError:
        known = sorted(set(MODEL_TYPES) | set(_LAZY_TYPES))
        raise ValueError(f"unknown model type {name!r}; expected one of {', '.join(known)}"
                         ) from None


def model_types() -> list[str]:
    """Every model type name, built in or registered lazily."""
    return sorted(set(MODEL_TYPES) | set(_LAZY_TYPES))


def make_model(name: str, **params: Any) -> ExpressionModel:
    """A new, unfitted model of type ``name`` with ``params`` (None values use defaults)."""
    cls = model_class(name)
    return cls(**{k: v for k, v in params.items() if v is not None})


__all__ = [
    "ExpressionModel",
    "GlobalRR",
    "MODEL_TYPES",
    "MaskedRR",
    "NotFittedError",
    "PixelKR",
    "PixelRR",
    "make_model",
    "model_class",
    "model_types",
    "register_model",
]
