"""Choosing lambda (and sigma) by identity-disjoint k-fold cross-validation.

A person never appears in the training and the held-out part of one fold. For the
pixel models each fold's statistics are computed once and a fold's training
statistics are the sum of the other folds' (``docs/design.md`` section 2), so a whole grid
of (lambda, sigma) costs one pass over the data plus small solves.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._validation import as_batch, check_pair
from .models import model_class
from .splits import group_kfold
from .stats import PixelStats


@dataclass
class CVResult:
    """Held-out error for every parameter setting, and the best one."""

    model_type: str
    grid: list[dict[str, float]]
    fold_mse: np.ndarray  # (settings, folds) mean squared error in [0, 1] units
    n_folds: int
    people: int
    best_params: dict[str, float] = field(default_factory=dict)

    @property
    def mean_mse(self) -> np.ndarray:
        return self.fold_mse.mean(axis=1)

    @property
    def mean_psnr(self) -> np.ndarray:
        return 10 * np.log10(1.0 / self.mean_mse)

    def rows(self) -> list[dict[str, float]]:
        """One dict per setting: the parameters, mean and std of held-out MSE, PSNR."""
        out = []
        for params, mse, folds in zip(self.grid, self.mean_mse, self.fold_mse, strict=True):
            out.append({**params, "mse": float(mse), "mse_std": float(folds.std()),
                        "psnr": float(10 * np.log10(1.0 / mse))})
        return out


def cross_validate(
    model_type: str,
    X: np.ndarray,
    T: np.ndarray,
    groups: Sequence[Any],
    grid: Mapping[str, Sequence[float]],
    n_folds: int = 5,
    seed: int = 0,
    progress: bool = False,
) -> CVResult:
    """Held-out MSE of ``model_type`` for every combination in ``grid``, folds by person."""
    from tqdm import tqdm

    x, t = as_batch(X, "X"), as_batch(T, "T")
    check_pair(x, t)
    if len(groups) != len(x.raw):
        raise ValueError(f"groups has {len(groups)} entries for {len(x.raw)} pairs")
    cls = model_class(model_type)
    unknown = set(grid) - set(cls._param_names)
    if unknown:
        raise ValueError(f"{model_type} has no parameter(s) {sorted(unknown)}")
    folds = group_kfold(groups, n_folds, seed)
    names = list(grid)
    settings = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*grid.values())]
    errors = np.zeros((len(settings), len(folds)))
    streaming = cls.fits_from_stats
    histograms = cls.needs_histograms
    if streaming:
        fold_stats = [
            PixelStats(x.image_shape, histograms=histograms).update(x.values[f], t.values[f])
            for f in tqdm(folds, desc="fold statistics", disable=not progress)
        ]
    bar = tqdm(total=len(settings) * len(folds), desc=f"cv {model_type}", disable=not progress)
    for j, held in enumerate(folds):
        train_idx = np.setdiff1d(np.arange(len(x.raw)), held)
        if streaming:
            train_stats = sum((s for i, s in enumerate(fold_stats) if i != j),
                              start=PixelStats(x.image_shape, histograms=histograms))
        for i, params in enumerate(settings):
            model = cls(**params)
            if streaming:
                model.fit_stats(train_stats)  # type: ignore[attr-defined]
            else:
                model.fit(x.values[train_idx], t.values[train_idx])
            pred = model.predict(x.values[held])
            errors[i, j] = float(np.mean((pred - t.values[held]) ** 2))
            bar.update(1)
    bar.close()
    result = CVResult(model_type, settings, errors, len(folds), len(set(map(str, groups))))
    result.best_params = settings[int(np.argmin(result.mean_mse))]
    return result
