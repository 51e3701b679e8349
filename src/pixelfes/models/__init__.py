"""The models: the paper's Pixel-RR and Pixel-KR, the baselines MR and RR."""

from __future__ import annotations

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


def register_model(cls: type[ExpressionModel]) -> type[ExpressionModel]:
    """Make a model class loadable from files and selectable by its ``model_type`` name."""
    MODEL_TYPES[cls.model_type] = cls
    return cls


def model_class(name: str) -> type[ExpressionModel]:
    """The model class for a type name such as ``"pixel-rr"``."""
    _load_optional_models()
    try:
        return MODEL_TYPES[name]
    except KeyError:
        raise ValueError(
            f"unknown model type {name!r}; expected one of {', '.join(sorted(MODEL_TYPES))}"
        ) from None


def make_model(name: str, **params: Any) -> ExpressionModel:
    """A new, unfitted model of type ``name`` with ``params`` (None values use defaults)."""
    cls = model_class(name)
    return cls(**{k: v for k, v in params.items() if v is not None})


def _load_optional_models() -> None:
    """Register models that live in modules of their own (imported on first use)."""
    try:
        from . import shape_texture  # noqa: F401
    except ImportError:
        pass


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
    "register_model",
]
