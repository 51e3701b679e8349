"""Trivial baselines every synthesis model must beat: return the input, or the mean target."""

from __future__ import annotations

import numpy as np

from pixelfes._validation import as_batch, restore

__all__ = ["identity_baseline", "mean_target_baseline"]


def identity_baseline(X: object) -> np.ndarray:
    """Output = input: a copy of ``X`` ``(N, H, W[, C])`` (uint8 or floats in [0, 1]), validated."""
    as_batch(X, "X")
    return np.array(X, copy=True)


def mean_target_baseline(T_train: object, n: int) -> np.ndarray:
    """The pixel-wise mean of the training targets, repeated ``n`` times.

    ``T_train``: ``(M, H, W[, C])`` uint8 or floats in [0, 1]. Returns ``(n, H, W[, C])`` in
    ``T_train``'s dtype (uint8 rounded): the same average face for every input.
    """
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}")
    batch = as_batch(T_train, "T_train")
    mean = batch.values.mean(axis=0, keepdims=True)
    return restore(np.repeat(mean, int(n), axis=0), batch)
