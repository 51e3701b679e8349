"""Identity-disjoint splits: a person is never on both sides of a train/test split.

One algorithm deals people to folds (:func:`group_kfold`); sample-level folds
(:func:`kfold_splits`), identity-level folds (:func:`identity_folds`) and a single
train/test split (:func:`split_identities`) are views of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, overload

import numpy as np

__all__ = ["IdentitySplit", "group_kfold", "identity_folds", "kfold_splits", "split_identities"]


def group_kfold(groups: Sequence[Any] | np.ndarray, n_folds: int, seed: int = 0) -> list[np.ndarray]:
    """Test-index arrays of ``n_folds`` folds; all samples of one group (person) share a fold.

    Groups are shuffled with ``seed`` and dealt, largest first, to the currently smallest
    fold so fold sizes stay balanced. With fewer groups than ``n_folds`` every group is its
    own fold (leave-one-person-out).
    """
    g = np.asarray([str(v) for v in groups])
    uniq, inv = np.unique(g, return_inverse=True)
    if int(n_folds) != n_folds or n_folds < 2:
        raise ValueError(f"n_folds must be an integer >= 2; got {n_folds!r}")
    if len(uniq) < 2:
        raise ValueError("cross-validation needs at least two different people (groups)")
    k = min(int(n_folds), len(uniq))
    order = np.random.default_rng(seed).permutation(len(uniq))
    counts = np.bincount(inv, minlength=len(uniq))
    fold_of_group = np.empty(len(uniq), dtype=np.intp)
    sizes = np.zeros(k, dtype=np.intp)
    for gi in order[np.argsort(-counts[order], kind="stable")]:
        f = int(np.argmin(sizes))
        fold_of_group[gi] = f
        sizes[f] += counts[gi]
    fold = fold_of_group[inv]
    return [np.flatnonzero(fold == f) for f in range(k)]


def kfold_splits(groups: Sequence[Any], n_folds: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train indices, test indices) per fold, by person (:func:`group_kfold`).

    With fewer people than ``n_folds`` every person is a fold (leave-one-person-out).
    """
    folds = group_kfold(groups, n_folds, seed)
    n = len(groups)
    return [(np.setdiff1d(np.arange(n), test), test) for test in folds]


class IdentitySplit(NamedTuple):
    """Train and test identities (disjoint, sorted)."""

    train: list[str]
    test: list[str]

    def indices(self, sample_identities: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the samples (one identity each) that fall in train and in test."""
        ids = np.asarray([str(s) for s in sample_identities])
        return (np.flatnonzero(np.isin(ids, self.train)), np.flatnonzero(np.isin(ids, self.test)))


def _distinct(identities: Iterable[object]) -> list[str]:
    uniq = sorted({str(i) for i in identities})
    if len(uniq) < 2:
        raise ValueError(f"need at least 2 distinct identities to split; got {len(uniq)}")
    return uniq


def identity_folds(identities: Iterable[object], n_folds: int = 5, seed: int = 0) -> list[IdentitySplit]:
    """K folds over distinct identities: each identity is in exactly one test fold."""
    ids = _distinct(identities)
    if int(n_folds) != n_folds or not 2 <= n_folds <= len(ids):
        raise ValueError(f"n_folds must be an integer in 2..{len(ids)} (distinct identities); got {n_folds!r}")
    out = []
    for test_idx in group_kfold(ids, int(n_folds), seed):
        test = {ids[i] for i in test_idx}
        out.append(IdentitySplit(sorted(set(ids) - test), sorted(test)))
    return out


@overload
def split_identities(identities: Iterable[object], test_fraction: float = ..., *,
                     n_folds: None = ..., seed: int = ...) -> IdentitySplit: ...
@overload
def split_identities(identities: Iterable[object], test_fraction: float = ..., *,
                     n_folds: int, seed: int = ...) -> list[IdentitySplit]: ...
def split_identities(identities: Iterable[object], test_fraction: float = 0.2, *,
                     n_folds: int | None = None, seed: int = 0) -> IdentitySplit | list[IdentitySplit]:
    """Split distinct identities into train/test (or ``n_folds`` folds); same seed, same split.

    ``identities`` may repeat (one entry per sample); the split is over distinct ones, so a
    person is never on both sides. At least one identity lands on each side.
    """
    if n_folds is not None:
        return identity_folds(identities, n_folds, seed)
    if not 0.0 < float(test_fraction) < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1); got {test_fraction!r}")
    uniq = _distinct(identities)
    ids = [uniq[i] for i in np.random.default_rng(seed).permutation(len(uniq))]
    n_test = int(np.clip(round(test_fraction * len(ids)), 1, len(ids) - 1))
    return IdentitySplit(sorted(ids[n_test:]), sorted(ids[:n_test]))
