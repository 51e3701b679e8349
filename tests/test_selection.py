"""Identity-disjoint cross-validation: folds never split a person, and the grid search is right."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from pixelfes import PixelKR, PixelRR, PixelStats
from pixelfes.selection import cross_validate
from pixelfes.splits import group_kfold


def test_group_kfold_never_splits_a_person():
    groups = [f"p{i // 3}" for i in range(30)]  # 10 people, 3 pairs each
    folds = group_kfold(groups, 4, seed=1)
    assert sorted(np.concatenate(folds).tolist()) == list(range(30))
    for fold in folds:
        inside = {groups[i] for i in fold}
        outside = {groups[i] for i in range(30) if i not in set(fold.tolist())}
        assert not inside & outside
    assert [f.tolist() for f in folds] == [f.tolist() for f in group_kfold(groups, 4, seed=1)]


def test_group_kfold_balances_fold_sizes():
    groups = np.repeat(np.arange(17), np.arange(17) % 3 + 1)
    sizes = [len(f) for f in group_kfold(groups, 4, seed=1)]
    assert max(sizes) - min(sizes) <= 3


def test_few_people_gives_leave_one_person_out():
    folds = group_kfold(["a", "a", "b", "c", "c"], 5)
    assert len(folds) == 3


def test_cv_errors_equal_refitting_each_fold(rng):
    x = rng.integers(0, 256, size=(24, 4, 4, 1), dtype=np.uint8)
    t = np.clip(x * 0.8 + rng.normal(0, 10, x.shape) + 30, 0, 255).astype(np.uint8)
    groups = [i // 2 for i in range(24)]
    result = cross_validate("pixel-kr", x, t, groups, {"lam": [0.1, 1.0], "sigma": [0.3, 3.0]},
                            n_folds=3)
    folds = group_kfold(groups, 3)
    for i, params in enumerate(result.grid):
        for j, held in enumerate(folds):
            train = np.setdiff1d(np.arange(24), held)
            model = PixelKR(**params).fit(x[train], t[train])
            mse = np.mean((model.predict(x[held] / 255.0) - t[held] / 255.0) ** 2)
            assert_allclose(result.fold_mse[i, j], mse, rtol=1e-10)
    assert result.best_params == result.grid[int(np.argmin(result.mean_mse))]


def test_cv_prefers_small_lambda_when_data_is_noise_free(rng):
    x = rng.integers(0, 256, size=(30, 3, 3, 1), dtype=np.uint8)
    t = (x // 2 + 60).astype(np.uint8)
    result = cross_validate("pixel-rr", x, t, list(range(30)), {"lam": [0.001, 10.0]}, n_folds=5)
    assert result.best_params == {"lam": 0.001}


def test_fit_stats_equals_fit(rng):
    x = rng.integers(0, 256, size=(10, 3, 2, 3), dtype=np.uint8)
    t = rng.integers(0, 256, size=(10, 3, 2, 3), dtype=np.uint8)
    stats = PixelStats((3, 2, 3)).update(x / 255.0, t / 255.0)
    assert_allclose(PixelRR().fit_stats(stats).predict(x / 255.0), PixelRR().fit(x, t).predict(x / 255.0))
    with pytest.raises(ValueError, match="histograms"):
        PixelKR().fit_stats(PixelStats((3, 2, 3), histograms=False).update(x / 255.0, t / 255.0))


def test_cv_rejects_unknown_parameters(rng):
    x = rng.integers(0, 256, size=(6, 2, 2, 1), dtype=np.uint8)
    with pytest.raises(ValueError, match="no parameter"):
        cross_validate("pixel-rr", x, x, list(range(6)), {"sigma": [1.0]})
