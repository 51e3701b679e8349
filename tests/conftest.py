"""Shared fixtures: small generated crops, and the path to the real data when present."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """``$PIXELFES_DATA`` or ``<repo>/../shared/data`` (may not exist on a user's clone)."""
    env = os.environ.get("PIXELFES_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


@pytest.fixture
def data_dir() -> Path:
    """The real data sets; skips the test with the reason when they are absent."""
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"real data not found at {path} (set PIXELFES_DATA to run this test)")
    return path


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


def make_pairs(
    rng: np.random.Generator, n: int = 24, h: int = 6, w: int = 5, c: int = 3, distinct: int = 12
) -> tuple[np.ndarray, np.ndarray]:
    """Random uint8 pairs whose inputs take few distinct values (so duplicates occur)."""
    values = rng.choice(256, size=distinct, replace=False)
    x = values[rng.integers(0, distinct, size=(n, h, w, c))].astype(np.uint8)
    noise = rng.normal(0, 20, size=x.shape)
    t = np.clip(0.7 * x + 40 + noise, 0, 255).astype(np.uint8)
    return x, t
