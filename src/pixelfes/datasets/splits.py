"""Identity-disjoint splits: a person is never on both sides of a train/test split."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple, overload

import numpy as np

__all__ = ["IdentitySplit", "identity_folds", "split_identities"]


class IdentitySplit(NamedTuple):
    """Train and test identities (disjoint, sorted)."""

    train: list[str]
    test: list[str]

    def indices(self, sample_identities: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the samples (one identity each) that fall in train and in test."""
        ids = np.asarray([str(s) for s in sample_identities])
        return (np.flatnonzero(np.isin(ids, self.train)), np.flatnonzero(np.isin(ids, self.test)))


def _shuffled(identities: Iterable[object], seed: int) -> list[str]:
    uniq = sorted({str(i) for i in identities})
    if len(uniq) < 2:
        raise ValueError(f"need at least 2 distinct identities to split; got {len(uniq)}")
    order = np.random.default_rng(seed).permutation(len(uniq))
    return [uniq[i] for i in order]


def identity_folds(identities: Iterable[object], n_folds: int = 5, seed: int = 0) -> list[IdentitySplit]:
    """K folds over distinct identities: each identity is in exactly one test fold."""
    ids = _shuffled(identities, seed)
    if int(n_folds) != n_folds or not 2 <= n_folds <= len(ids):
        raise ValueError(f"n_folds must be an integer in 2..{len(ids)} (distinct identities); got {n_folds!r}")
    folds = np.array_split(np.arange(len(ids)), int(n_folds))
    out = []
    for f in folds:
        test = {ids[i] for i in f}
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
    ids = _shuffled(identities, seed)
    n_test = int(np.clip(round(test_fraction * len(ids)), 1, len(ids) - 1))
    return IdentitySplit(sorted(ids[n_test:]), sorted(ids[:n_test]))
