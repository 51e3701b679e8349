"""scripts/region_swap.py: the region masks, the swap and the gap shares against plain references."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from conftest import load_script


@pytest.fixture(scope="module")
def rs():
    return load_script("region_swap", "region_swap_under_test")


def _face(scale: float = 0.15) -> np.ndarray:
    """A plain frontal 68-point layout (as tests/test_smile_eye_motion.py's, 400 px) scaled down to a
    tiny image; the mouth open (inner lips a smaller ellipse), a fraction of a pixel off the grid."""
    lm = np.zeros((68, 2))
    lm[:17] = np.stack([np.linspace(80, 320, 17), 200 + 120 * np.sin(np.linspace(0, np.pi, 17))], 1)
    lm[17:27] = np.stack([np.linspace(110, 290, 10), np.full(10, 130.0)], 1)
    lm[27:31] = np.stack([np.full(4, 200.0), np.linspace(150, 220, 4)], 1)
    lm[31:36] = np.stack([np.linspace(180, 220, 5), np.full(5, 230.0)], 1)
    for first, cx in ((36, 150.0), (42, 250.0)):
        lm[first:first + 6] = [(cx - 15, 160), (cx - 5, 155), (cx + 5, 155), (cx + 15, 160), (cx + 5, 165), (cx - 5, 165)]
    t = np.linspace(0, 2 * np.pi, 13)[:12]
    lm[48:60] = np.stack([200 - 40 * np.cos(t), 280 + 16 * np.sin(t)], 1)
    t8 = np.linspace(0, 2 * np.pi, 9)[:8]
    lm[60:68] = np.stack([200 - 30 * np.cos(t8), 280 + 8 * np.sin(t8)], 1)
    return lm * scale + 0.013


def _inside(px: float, py: float, poly: np.ndarray) -> bool:
    """Plain crossing number of one point (a ray towards +x)."""
    n, c = len(poly), False
    for i in range(n):
        (ax, ay), (bx, by) = poly[i], poly[(i + 1) % n]
        if (ay > py) != (by > py) and px < ax + (py - ay) * (bx - ax) / (by - ay):
            c = not c
    return c


def _reference(lm: np.ndarray, shape: tuple[int, int], rs) -> dict[str, np.ndarray]:
    """The regions of one landmark set, pixel by pixel, straight from the module docstring's words."""
    h, w = shape
    width = float(np.hypot(*(lm[54] - lm[48])))
    lo, hi = lm[48:60].min(0) - 0.2 * width, lm[48:60].max(0) + 0.2 * width
    out = {k: np.zeros(shape, bool) for k in rs.REGIONS}
    for y in range(h):
        for x in range(w):
            mouth = lo[0] <= x <= hi[0] and lo[1] <= y <= hi[1]
            opening = _inside(x, y, lm[60:68])
            lips = _inside(x, y, lm[48:60]) or any(np.hypot(x - lm[k, 0], y - lm[k, 1]) <= 0.1 * width for k in (48, 54))
            eye = False
            for f in (36, 42):
                e = lm[f:f + 6]
                ew = float(np.hypot(*(e[3] - e[0])))
                eye |= bool(e[:, 0].min() - 0.3 * ew <= x <= e[:, 0].max() + 0.3 * ew
                            and e[:, 1].min() - 0.4 * ew <= y <= e[:, 1].max() + 0.6 * ew)
            cheek = any(_inside(x, y, lm[list(idx)]) for idx in rs.CHEEK_POINTS)
            if mouth:
                out["mouth box"][y, x] = True
                part = "opening" if opening else "lips/corners" if lips else "mouth skin"
                out[part][y, x] = True
            elif eye:
                out["eyes"][y, x] = True
            elif cheek:
                out["cheeks"][y, x] = True
            else:
                out["rest"][y, x] = True
    return out


def test_polygon_mask_known_shapes(rs):
    rect = np.array([[2.5, 3.5], [10.5, 3.5], [10.5, 7.5], [2.5, 7.5]])
    want = np.zeros((12, 14), bool)
    want[4:8, 3:11] = True
    assert np.array_equal(rs.polygon_mask(rect, (12, 14)), want)
    tri = np.array([[1.3, 1.2], [9.7, 1.4], [1.1, 8.6]])
    m = rs.polygon_mask(tri, (12, 14))

    def side(a, b, x, y):
        return (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0])

    for y in range(12):
        for x in range(14):
            s = [side(tri[i], tri[(i + 1) % 3], x, y) for i in range(3)]
            assert m[y, x] == (all(v > 0 for v in s) or all(v < 0 for v in s))
    assert not rs.polygon_mask(rect + 100, (12, 14)).any()  # off the image: empty


def test_region_masks_match_the_plain_reference(rs):
    lm = _face()
    shape = (62, 60)
    got = rs.region_masks([lm], shape + (3,))
    want = _reference(lm, shape, rs)
    for k in rs.REGIONS:
        assert np.array_equal(got[k], want[k]), k
    assert all(got[k].any() for k in rs.REGIONS)  # the layout has every region
    stack = np.stack([got[k] for k in rs.PARTITION])
    assert np.array_equal(stack.sum(0), np.ones(shape, int))  # a partition
    parts = got["opening"].astype(int) + got["lips/corners"] + got["mouth skin"]
    assert np.array_equal(parts, got["mouth box"].astype(int))


def test_region_masks_take_the_union_of_the_sets(rs):
    a, b = _face(), _face()
    b[48:68] += [0.0, 3.0]  # the second output's mouth 3 px lower
    shape = (64, 60, 3)
    both = rs.region_masks([a, b], shape)
    for one in (rs.region_masks([a], shape), rs.region_masks([b], shape)):
        assert not (one["mouth box"] & ~both["mouth box"]).any()
        assert not (one["opening"] & ~both["opening"]).any()
    with pytest.raises(ValueError, match="landmark_sets"):
        rs.region_masks([a[:60]], shape)


def test_swap_pastes_exactly_and_the_partition_gives_the_donor(rs):
    lm = _face()
    shape = (62, 60)
    masks = rs.region_masks([lm], shape)
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, shape + (3,), dtype=np.uint8)
    donor = rng.integers(0, 256, shape + (3,), dtype=np.uint8)
    hard = rs.region_weights(masks, 0)
    for k in rs.REGIONS:
        h = rs.hybrid(base, donor, hard[k])
        assert np.array_equal(h[masks[k]], donor[masks[k]]) and np.array_equal(h[~masks[k]], base[~masks[k]])
    soft = rs.region_weights(masks, 1.5)
    total = sum(soft[k] for k in rs.PARTITION)
    assert np.allclose(total, 1, atol=1e-6)
    assert np.array_equal(rs.hybrid(base, donor, total), donor)
    assert soft["mouth box"].max() <= 1 + 1e-6 and 0 < soft["mouth box"][~masks["mouth box"]].max() < 1  # feathered
    with pytest.raises(ValueError, match="same shape"):
        rs.hybrid(base, donor[:-1], hard["rest"])


def test_gap_share_against_the_plain_formula(rs):
    base, whole, part = np.array([0.0, 0, 1, 0]), np.array([1.0, 1, 1, 2]), np.array([1.0, 0, 1, 1])
    d, e = whole - base, part - base  # d = 1, 1, 0, 2 (mean 1); e = 1, 0, 0, 1 (mean 0.5)
    s = rs.gap_share(base, whole, part)
    assert s["share"] == pytest.approx(0.5, abs=1e-12)
    r = e - 0.5 * d  # 0.5, -0.5, 0, 0
    assert s["se"] == pytest.approx(np.sqrt(np.sum((r - r.mean()) ** 2) / 3) / 2 / 1.0, abs=1e-12)
    assert s["gap"] == 1.0 and s["gap_se"] == pytest.approx(np.std(d, ddof=1) / 2, abs=1e-12)
    assert np.isnan(rs.gap_share(base, base, part)["share"])  # no gap, no share


def test_shares_read_both_kinds_the_same_way(rs):
    """A region that carries the whole gap: 100 % pasted either way; the others 0 %."""
    people = ["a", "b", "c"]
    n = {"a": 0.0, "b": 0.0, "c": 1.0}
    c = {"a": 1.0, "b": 1.0, "c": 1.0}
    per = {"native": {p: {"fer.accuracy": n[p]} for p in people},
           "canvas": {p: {"fer.accuracy": c[p]} for p in people}}
    for h in rs.HYBRIDS:
        carries = h.endswith(("mouth box", "opening"))
        from_native = h.startswith("native+canvas")
        val = (c if carries else n) if from_native else (n if carries else c)
        per[h] = {p: {"fer.accuracy": val[p]} for p in people}
    sh = rs.shares(per)
    for h in rs.HYBRIDS:
        want = 1.0 if h.endswith(("mouth box", "opening")) else 0.0
        assert sh[h]["fer.accuracy"]["share"] == pytest.approx(want), h


def test_collector_makes_every_hybrid_in_the_inputs_frame(rs, tmp_path):
    lm = _face(1.0)
    shape = (420, 400, 3)
    rng = np.random.default_rng(1)
    imgs = {m: rng.integers(0, 256, shape, dtype=np.uint8) for m in ("real target", "input", "native", "canvas")}
    col = rs.SwapCollector("neutral:happy", save=tmp_path)
    person = SimpleNamespace(identity="x")
    for m in ("real target", "input", "native", "canvas"):
        col(person, m, imgs[m], lm)
    crops = col.crops.crops
    assert {("x", h) for h in rs.HYBRIDS} <= set(crops)
    assert np.array_equal(crops[("x", "native+canvas rest")].shape, crops[("x", "native")].shape)
    saved = sorted(q.name for q in (tmp_path / "neutral-happy").iterdir())
    assert len(saved) == 5 + len(rs.HYBRIDS) and "x_native_canvas-mouth-box.png" in saved
    from PIL import Image

    strip = np.asarray(Image.open(tmp_path / "neutral-happy" / "x_strip.png"))
    x0, y0, x1, y1 = rs.strip_box(lm, "mouth")
    tw, th = int(np.ceil(x1 - x0)), int(np.ceil(y1 - y0))
    assert strip.shape == (th, tw * len(rs.STRIP_TILES["mouth"]), 3)
    # the native tile (second) is the native image at 1:1 around the box's centre (below its label)
    cx, cy = round((x0 + x1) / 2 - tw / 2), round((y0 + y1) / 2 - th / 2)
    assert np.array_equal(strip[20:, tw:2 * tw], imgs["native"][cy + 20:cy + th, cx:cx + tw])
    fig = rs.stack_strips(tmp_path / "neutral-happy", tmp_path / "fig.jpg")
    assert Image.open(fig).size == (strip.shape[1], strip.shape[0] + 4)
    col2 = rs.SwapCollector("neutral:happy")
    for m in ("real target", "input", "native", "canvas"):
        col2(person, m, imgs[m], None if m == "native" else lm)
    assert col2.failed == {"x": "no landmarks on the input or an output"}


def test_strip_box_and_tile(rs):
    lm = _face(1.0)
    width = float(np.hypot(*(lm[54] - lm[48])))
    x0, y0, x1, y1 = rs.strip_box(lm, "mouth")
    assert (x0, y1) == pytest.approx((lm[48:60, 0].min() - 0.25 * width, lm[48:60, 1].max() + 0.25 * width))
    assert rs.strip_box(lm, "lower face")[1] == pytest.approx(lm[29, 1])
    with pytest.raises(ValueError, match="kind"):
        rs.strip_box(lm, "eyes")
    img = np.arange(5 * 6 * 3, dtype=np.uint8).reshape(5, 6, 3)
    t = rs._tile(img, np.array([0.0, 0.0]), (4, 2))  # half off the top-left corner
    assert np.array_equal(t[1:, 2:], img[:1, :2]) and (t[0] == 128).all() and (t[:, :2] == 128).all()
