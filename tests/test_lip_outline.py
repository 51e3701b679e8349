"""A closing smile's outer lip outlines narrowed (pixelfes.mouth.outline): the remap's formula,
the whole change against a plain per-pixel reference, an edge made narrower, the switch's bytes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pixelfes.mouth.outline import BAND, NARROW, pinch, pinch_outlines


def _lips(x0: float = 20.0, x1: float = 100.0, top: float = 18.0, line: float = 34.0, bot: float = 52.0,
          tilt: float = 0.0) -> np.ndarray:
    """``(20, 2)`` closed lips 48-67: corners at ``x0``/``x1`` on the line, the outlines bowed."""
    xs = np.linspace(x0, x1, 7)
    s = np.sin(np.linspace(0, np.pi, 7))
    up = np.c_[xs, line - (line - top) * s]
    lo = np.c_[xs, line + (bot - line) * s]
    inner = np.linspace(x0 + 8, x1 - 8, 5)
    pts = np.vstack([up, lo[5:0:-1], np.c_[inner, np.full(5, line)], np.c_[inner[3:0:-1], np.full(3, line)]])
    pts[:, 1] += tilt * (pts[:, 0] - 60.0)
    return pts


def _plain_pinch(d: float, k: float, band: float) -> float:
    if abs(d) >= band:
        return d
    return d * (1.0 + (k - 1.0) * (1.0 - abs(d) / band) ** 2)


def _interp_y(points: np.ndarray, x: float) -> float:
    p = sorted(map(tuple, points))
    if x <= p[0][0]:
        return p[0][1]
    for (xa, ya), (xb, yb) in zip(p, p[1:], strict=False):
        if x <= xb:
            return ya + (yb - ya) * (x - xa) / (xb - xa)
    return p[-1][1]


def _reference(image: np.ndarray, lips: np.ndarray, narrow: float, band: float) -> np.ndarray:
    """The change pixel by pixel: each column's rows near an outline (the nearer one) read at the
    pinch of their distance, the slope faded in from the corners (u 0.04 -> 0.14, smoothstep),
    linear between the two rows either side (the row rounded to 1/32, as OpenCV's remap does)."""
    out = image.copy()
    h, w = image.shape[:2]
    width = math.dist(lips[0], lips[6])
    b = band * width
    outlines = (lips[[0, 1, 2, 3, 4, 5, 6]], lips[[0, 11, 10, 9, 8, 7, 6]])
    for x in range(w):
        if not lips[:12, 0].min() - 1 <= x <= lips[:12, 0].max() + 1:
            continue
        u = (x - lips[0, 0]) / (lips[6, 0] - lips[0, 0])
        t = min(max((min(u, 1 - u) - 0.04) / 0.10, 0.0), 1.0)
        k = 1.0 + (narrow - 1.0) * t * t * (3 - 2 * t)
        for y in range(h):
            d = [y - _interp_y(o, x) for o in outlines]
            i = 0 if abs(d[0]) <= abs(d[1]) else 1
            if abs(d[i]) >= b:
                continue
            r = y - d[i] + _plain_pinch(d[i], k, b)
            if abs(r - y) <= 1e-9:
                continue
            r = min(max(r, 0.0), h - 1.0)
            r = round(r * 32) / 32  # cv2.remap reads at 1/32 of a pixel
            r0 = int(math.floor(r))
            f = r - r0
            r1 = min(r0 + 1, h - 1)
            out[y, x] = np.clip(np.rint(image[r0, x] * (1 - f) + image[r1, x] * f), 0, 255)
    return out


def test_pinch_is_its_formula() -> None:
    d = np.linspace(-0.1, 0.1, 41)
    got = pinch(d, 2.5, 0.06)
    assert np.allclose(got, [_plain_pinch(v, 2.5, 0.06) for v in d], atol=1e-15)
    assert pinch(0.06, 2.5, 0.06) == pytest.approx(0.06)
    eps = 1e-9  # the slope at 0 is k to first order: off by 3 (k-1) eps / band
    assert (pinch(eps, 2.5, 0.06) - pinch(-eps, 2.5, 0.06)) / (2 * eps) == pytest.approx(2.5)
    steep = pinch(np.linspace(-0.06, 0.06, 2001), 3.99, 0.06)
    assert np.all(np.diff(steep) > 0)  # monotone below k = 4: no row read twice, no halo


@pytest.mark.parametrize("tilt", [0.0, 0.12])
def test_pinch_outlines_against_the_plain_reference(tilt: float) -> None:
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (72, 124, 3), dtype=np.uint8)
    lips = _lips(tilt=tilt)
    got = image.copy()
    box = pinch_outlines(got, lips)
    want = _reference(image, lips, NARROW, BAND)
    # cv2.remap mixes the two rows in fixed point: a level off the exact mix at most
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1
    changed = (got != image).any(-1)
    assert changed.sum() > 500 and box is not None
    ys, xs = np.nonzero(changed)
    x0, y0, x1, y1 = box
    assert x0 <= xs.min() and xs.max() < x1 and y0 <= ys.min() and ys.max() < y1
    far = np.ones_like(changed)
    far[int(lips[:12, 1].min() - 6):int(lips[:12, 1].max() + 6), :] = False
    assert not changed[far].any()  # nothing beyond the bands


def test_an_edge_comes_out_narrower() -> None:
    # a lower lip over skin with a soft edge (a 10 px ramp) at its outer outline
    lips = _lips(x0=10, x1=210, top=30, line=60, bot=90)
    rows = np.arange(130, dtype=np.float64)[:, None]
    bot = np.interp(np.arange(220), lips[[0, 11, 10, 9, 8, 7, 6], 0], lips[[0, 11, 10, 9, 8, 7, 6], 1])[None]
    level = np.clip(0.5 - (rows - bot) / 10.0, 0.0, 1.0) * 120 + 60
    image = np.repeat(np.rint(level)[..., None], 3, axis=2).astype(np.uint8)
    out = image.copy()
    pinch_outlines(out, lips)
    col = 110  # the middle: full slope

    def rise(a: np.ndarray) -> int:
        v = a[70:120, col, 0].astype(float)
        return int(np.sum((v < 168) & (v > 72)))  # rows between 10 % and 90 %

    assert rise(image) == 7
    assert rise(out) <= 3  # 2.5 x narrower (7 / 2.5), to a pixel


def test_pinch_outlines_checks_narrow() -> None:
    image = np.zeros((72, 124, 3), np.uint8)
    with pytest.raises(ValueError, match=r"narrow must be in \[1, 4\)"):
        pinch_outlines(image, _lips(), narrow=4.0)
    assert pinch_outlines(image, _lips(), narrow=1.0) is None


@pytest.mark.parametrize("target", ["neutral-to-happy", "happy-to-neutral"])
def test_outline_switch_is_off_and_changes_only_a_closing_smile(target: str) -> None:
    """Off by default (not adopted: main's bytes); on, neutral -> happy keeps its bytes, a closing
    smile is changed near its outer outlines only."""
    pytest.importorskip("skimage.data")
    import pixelfes.native as native
    from conftest import switch_outputs
    from pixelfes.evaluate.mouth_protocol import FACTORIES

    assert native._LIP_OUTLINE is False and "native-outline" in FACTORIES
    outs, res, _ = switch_outputs(target, "outline")
    assert np.array_equal(outs[None], outs[False])
    if target == "neutral-to-happy":
        assert np.array_equal(outs[True], outs[False])
        return
    changed = (outs[True] != outs[False]).any(-1)
    assert changed.any()
    lips = res.landmarks[48:68]
    ys, xs = np.nonzero(changed)
    width = float(np.linalg.norm(lips[6] - lips[0]))
    assert lips[:12, 1].min() - BAND * width - 2 <= ys.min() and ys.max() <= lips[:12, 1].max() + BAND * width + 2
    assert lips[:12, 0].min() - 1 <= xs.min() and xs.max() <= lips[:12, 0].max() + 1
