"""The teeth's highlight and glint figures (pixelfes.evaluate.glints) against plain references."""

from __future__ import annotations

import numpy as np
import pytest

from pixelfes.evaluate import glints
from pixelfes.evaluate.glints import GLINT_KEYS, glint_figures, teeth_glints
from plain_reference import gaussian_blur as _gauss_plain


def _percentile_plain(v: np.ndarray, q: float) -> float:
    """The q-th percentile by linear interpolation between order statistics (numpy's default)."""
    s = np.sort(np.asarray(v, dtype=np.float64))
    pos = q / 100.0 * (len(s) - 1)
    lo = int(np.floor(pos))
    hi = min(lo + 1, len(s) - 1)
    return float(s[lo] + (pos - lo) * (s[hi] - s[lo]))


def _median_plain(v: np.ndarray) -> float:
    return _percentile_plain(v, 50.0)


def _window(seed: int, shape: tuple[int, int] = (20, 26)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lab = np.stack([rng.uniform(55, 90, shape), rng.normal(1, 4, shape), rng.normal(8, 5, shape)], axis=-1)
    teeth = np.zeros(shape, bool)
    teeth[3:17, 4:22] = True
    return lab, teeth


def _figures_plain(lab: np.ndarray, teeth: np.ndarray) -> dict[str, float]:
    L, a, b = (lab[..., c][teeth] for c in range(3))
    mL, ma, mb = _median_plain(L), _median_plain(a), _median_plain(b)
    cut = _percentile_plain(L, 95.0)
    high = L >= cut
    ha = np.hypot(lab[..., 1] - _gauss_plain(lab[..., 1], 1.0), lab[..., 2] - _gauss_plain(lab[..., 2], 1.0))
    ys, xs = np.nonzero(teeth)
    core = np.zeros_like(teeth)
    core[ys.min() + 1:ys.max(), xs.min() + 1:xs.max()] = True  # a rectangle eroded by one pixel
    return {"hi_L": float(L[high].mean() - mL), "hi_a": float(a[high].mean() - ma), "hi_b": float(b[high].mean() - mb),
            "b_spread": _percentile_plain(b, 90.0) - _percentile_plain(b, 10.0),
            "blue": float(np.mean(b - mb < -6.0)), "orange": float(np.mean((a - ma > 6.0) & (b - mb > 6.0))),
            "chroma_hp": float(ha[core].mean())}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_glint_figures_match_the_plain_formula(seed):
    lab, teeth = _window(seed)
    got = glint_figures(lab, teeth)
    want = _figures_plain(lab, teeth)
    assert set(got) == set(GLINT_KEYS)
    for key in GLINT_KEYS:
        # float32 Gaussian in the code against float64 here: chroma_hp agrees to ~1e-5
        assert got[key] == pytest.approx(want[key], abs=1e-4), key


def test_flat_teeth_have_no_glints_and_a_planted_blue_highlight_is_seen():
    lab = np.zeros((20, 20, 3))
    lab[...] = (70.0, 1.0, 10.0)
    teeth = np.zeros((20, 20), bool)
    teeth[2:18, 2:18] = True
    flat = glint_figures(lab, teeth)
    assert flat["hi_L"] == 0 and flat["hi_b"] == 0 and flat["b_spread"] == 0
    assert flat["blue"] == 0 and flat["orange"] == 0 and flat["chroma_hp"] == pytest.approx(0, abs=1e-6)
    lab[5:9, 5:9] = (95.0, 1.0, -5.0)  # 16 of 256 pixels: a bright bluish highlight (the top 5 % and more)
    got = glint_figures(lab, teeth)
    assert got["hi_L"] == pytest.approx(25.0) and got["hi_b"] == pytest.approx(-15.0)
    assert got["blue"] == pytest.approx(16 / 256) and got["orange"] == 0


def test_glint_figures_reject_too_few_teeth_and_bad_shapes():
    lab, teeth = _window(0)
    with pytest.raises(ValueError, match="at least 30"):
        glint_figures(lab, np.zeros_like(teeth))
    with pytest.raises(ValueError, match="lab_window must be"):
        glint_figures(lab[..., :2], teeth)


def test_teeth_glints_of_a_closed_mouth():
    rgb = np.full((200, 200, 3), 150, np.uint8)
    lm = np.zeros((68, 2))
    lm[:, 0] = np.linspace(20, 180, 68)
    lm[:, 1] = 100.0
    assert teeth_glints(rgb, lm) == {"open": False}


def test_glints_constants_are_the_documented_ones():
    assert glints.HIGH_SHARE == 0.05 and glints.OFF_HUE == 6.0
