"""Training helpers shared by the CLI and scripts: fit with a progress bar, describe the data."""

from __future__ import annotations

from typing import Any

import numpy as np

from .models.base import ExpressionModel


def fit_with_progress(model: ExpressionModel, X: np.ndarray, T: np.ndarray,
                      progress: bool = True, batch_size: int = 32, **fit_kwargs: Any) -> ExpressionModel:
    """Fit ``model`` on (X, T), streaming batches through ``partial_fit`` when it has one.

    Streaming gives the same model as one ``fit`` (the statistics are sums) and lets a
    progress bar show where a long fit is. ``fit_kwargs`` are ``fit``'s side inputs
    (landmarks, groups, alignment); the streaming models use only the alignment.
    """
    import sys

    from tqdm import tqdm

    partial = getattr(model, "partial_fit", None)
    if partial is None or len(X) <= batch_size:
        if progress:
            print(f"fitting {model.model_type} on {len(X)} pairs ...", file=sys.stderr)
        return model.fit(X, T, **fit_kwargs)
    fresh = model.clone()
    with tqdm(total=len(X), desc=f"fitting {model.model_type}", unit="pair",
              disable=not progress) as bar:
        for i in range(0, len(X), batch_size):
            fresh.partial_fit(X[i : i + batch_size], T[i : i + batch_size],  # type: ignore[attr-defined]
                              alignment=fit_kwargs.get("alignment"))
            bar.update(min(batch_size, len(X) - i))
    return fresh


def training_summary(X: np.ndarray, identities: list[str] | None = None,
                     source: str | None = None, **extra: Any) -> dict[str, Any]:
    """A JSON-able description of a training set for model metadata."""
    summary: dict[str, Any] = {
        "pairs": int(len(X)),
        "image_shape": list(X.shape[1:]) if X.ndim == 4 else list(X.shape[1:]) + [1],
    }
    if identities is not None:
        summary["people"] = len(set(identities))
    if source is not None:
        summary["data"] = source
    summary.update(extra)
    return summary
