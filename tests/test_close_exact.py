"""Closing a smile made cheaper without changing a byte: each shortcut against the plain way."""

from __future__ import annotations

import numpy as np
import pytest

from pixelfes.mouth import relief


def _read_grid_plain(grid, u, v, which):
    """relief._read_grid as it was: a 3-index gather of each corner."""
    nv, nu = grid.shape[-2:]
    gx = np.clip(u * nu - 0.5, 0, nu - 1)
    gy = np.clip(v * nv - 0.5, 0, nv - 1)
    x0 = np.minimum(np.floor(gx).astype(np.intp), nu - 2)
    y0 = np.minimum(np.floor(gy).astype(np.intp), nv - 2)
    fx, fy = gx - x0, gy - y0
    flat = np.asarray(grid, dtype=np.float64).reshape((-1, nv, nu))
    g = np.stack([relief._fill_nan(m) for m in flat]).reshape(grid.shape)
    j = which.astype(np.intp)
    top = g[..., j, y0, x0] * (1 - fx) + g[..., j, y0, x0 + 1] * fx
    bot = g[..., j, y0 + 1, x0] * (1 - fx) + g[..., j, y0 + 1, x0 + 1] * fx
    return top * (1 - fy) + bot * fy


@pytest.mark.parametrize("lead", [(), (2,)])
@pytest.mark.parametrize("grid_shape", [relief.GRID, relief.TINT_GRID])
def test_read_grid_is_the_plain_gather_bit_for_bit(lead, grid_shape):
    rng = np.random.default_rng(len(lead) * 7 + grid_shape[1])
    grid = rng.normal(size=lead + (2,) + grid_shape)
    grid[(..., 0, 3, slice(2, 9))] = np.nan  # (nan cells: their row's mean)
    k = 5000
    u, v = rng.uniform(-0.1, 1.1, k), rng.uniform(-0.1, 1.1, k)
    u[:4], v[:4] = (0.0, 1.0, 0.5, 1.0), (0.0, 1.0, 1.0, 0.0)  # (the edges held)
    which = rng.integers(0, 2, k).astype(np.int8)
    got = relief._read_grid(grid, u, v, which)
    want = _read_grid_plain(grid, u, v, which)
    assert got.shape == want.shape == lead + (k,)
    assert np.array_equal(got.view(np.uint64), want.view(np.uint64))
