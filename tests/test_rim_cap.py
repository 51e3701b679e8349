"""A smile's lent lower band capped at the lower lip (pixelfes.mouth.rim) against a plain per-pixel reference."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pixelfes.mouth import rim
from pixelfes.mouth.fill import _LIP_LIKE
from pixelfes.mouth.rim import cap_lower_band


def _lips() -> np.ndarray:
    """A 100 px wide mouth, outer corners (10, 50) and (110, 50), inner corners (18, 50), (102, 50)."""
    outer = [(10, 50), (30, 40), (45, 37), (60, 38), (75, 37), (90, 40), (110, 50),
             (90, 62), (75, 66), (60, 67), (45, 66), (30, 62)]
    inner = [(18, 50), (40, 43), (60, 42), (80, 43), (102, 50), (80, 57), (60, 58), (40, 57)]
    return np.array(outer + inner, dtype=np.float64)


def _line(points: list[tuple[float, float]], x: float) -> float:
    """y of the polyline through ``points`` (x increasing) at ``x``, held flat beyond its ends."""
    if x <= points[0][0]:
        return points[0][1]
    for (xa, ya), (xb, yb) in zip(points[:-1], points[1:], strict=True):
        if x <= xb:
            return ya + (yb - ya) * (x - xa) / (xb - xa)
    return points[-1][1]


def _lab1(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.asarray(rgb, np.float32).reshape(1, 1, 3) / 255.0, cv2.COLOR_RGB2LAB)[0, 0]


def _rgb1(lab: np.ndarray) -> np.ndarray:
    rgb = cv2.cvtColor(np.asarray(lab, np.float32).reshape(1, 1, 3), cv2.COLOR_LAB2RGB)[0, 0]
    return np.clip(np.rint(np.clip(rgb, 0, 1) * 255.0), 0, 255)


def _reference(image: np.ndarray, lips: np.ndarray, likeness: np.ndarray | None = None) -> np.ndarray:
    """The cap written plainly, pixel by pixel, from the module's constants (the test image keeps
    the lips well inside its box, so the module's crop changes nothing)."""
    h, w = image.shape[:2]
    p = [tuple(map(float, q)) for q in lips]
    upper = [p[i] for i in (12, 13, 14, 15, 16)]
    lower = [p[i] for i in (12, 19, 18, 17, 16)]
    outer = [p[i] for i in (0, 11, 10, 9, 8, 7, 6)]
    left, right = p[12][0], p[16][0]
    width = float(np.hypot(*(lips[6] - lips[0])))
    labs = np.array([[_lab1(image[y, x]) for x in range(w)] for y in range(h)])
    strip = []
    for y in range(h):
        for x in range(w):
            if left + rim._MIDDLE * (right - left) <= x <= right - rim._MIDDLE * (right - left):
                yl, yo = _line(lower, x), _line(outer, x)
                if yo > yl and rim._REF[0] <= (y - yl) / (yo - yl) <= rim._REF[1]:
                    strip.append(labs[y, x])
    s = np.array(strip)
    l_ref = np.median(s[:, 0])
    c_ref = np.median(np.hypot(s[:, 1], s[:, 2]))
    a_ref = np.median(s[:, 1])
    weight = np.zeros((h, w))
    for y in range(h):
        for x in range(w):
            if not left <= x <= right:
                continue
            yu, yl = _line(upper, x), _line(lower, x)
            if not yl > yu or y > yl + max(1.0, rim._GROW * width):
                continue
            u = min(1.0, max(0.0, ((y - yu) / (yl - yu) - rim._LOW[0]) / (rim._LOW[1] - rim._LOW[0])))
            lo, hi = _LIP_LIKE[0] * a_ref, _LIP_LIKE[1] * a_ref
            like = min(1.0, max(0.0, (labs[y, x, 1] - lo) / (hi - lo))) if likeness is None else likeness[y, x]
            weight[y, x] = u * u * (3 - 2 * u) * like
    core = [labs[y, x] for y in range(h) for x in range(w) if weight[y, x] >= rim._CORE]
    drop = max(0.0, np.median([q[0] for q in core]) - l_ref)
    out = image.astype(np.float64).copy()
    for y in range(h):
        for x in range(w):
            wt = weight[y, x]
            L, a, b = labs[y, x]
            c = np.hypot(a, b)
            if wt > 0 and (drop > 0 or c > c_ref):
                k = (c - wt * max(0.0, c - c_ref)) / c if c > 0 else 1.0
                out[y, x] = _rgb1(np.array([L - wt * drop, a * k, b * k]))
    return out


def _face(seed: int = 0) -> np.ndarray:
    """Skin, white teeth above the opening's middle, a light salmon band below it, a darker lip."""
    rng = np.random.default_rng(seed)
    img = np.empty((90, 120, 3), np.float64)
    img[:] = (150, 110, 90)
    lips = _lips()
    cv2.fillPoly(img, [np.rint(lips[:12]).astype(np.int32)], (120, 70, 75))
    cv2.fillPoly(img, [np.rint(lips[12:]).astype(np.int32)], (225, 220, 205))
    img[53:59, 20:100] = (215, 120, 110)  # the band, over the lower inner line: lighter, redder
    img[55, 30:60] = (245, 150, 140)  # its bright wet edge
    img[52, 60:90] = (60, 35, 35)  # a contact shadow, darker: left alone
    img += rng.normal(0, 6, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def test_cap_matches_plain_reference() -> None:
    img = _face()
    lips = _lips()
    want = _reference(img, lips)
    got = img.copy()
    changed = cap_lower_band(got, lips)
    assert changed > 100
    diff = np.abs(got.astype(np.float64) - want)
    # OpenCV's Lab conversions on one pixel take a scalar path, the module's one long row the
    # vector path (< 1e-5 apart): a rounding moves by one level on a rare pixel
    assert diff.max() <= 1
    assert (diff > 0).any(axis=2).mean() < 0.002


def test_cap_with_lent_likeness_matches_plain_reference() -> None:
    img = _face(2)
    lips = _lips()
    like = np.zeros(img.shape[:2], np.float32)
    like[50:62, 15:105] = np.linspace(0.0, 1.0, 90, dtype=np.float32)[None]  # the lender's, in a box
    want = _reference(img, lips, like)
    got = img.copy()
    assert cap_lower_band(got, lips, ((10, 45, 110, 65), like[45:65, 10:110])) > 50
    diff = np.abs(got.astype(np.float64) - want)
    assert diff.max() <= 1  # (scalar and vector Lab paths, as above)
    assert (diff > 0).any(axis=2).mean() < 0.002


def test_cap_lowers_the_level_leaves_the_rest() -> None:
    img = _face(1)
    lips = _lips()
    got = img.copy()
    cap_lower_band(got, lips)
    before, after = rim.lab(img), rim.lab(got)
    assert np.all(after[..., 0] <= before[..., 0] + 0.5)  # never lighter (one level of rounding)
    assert np.array_equal(got[:40], img[:40])  # above the opening's middle: nothing
    assert np.array_equal(got[62:], img[62:])  # the lower lip below the band's reach
    ref = rim.band_reference(before, lips)
    assert ref is not None
    band = after[56:58, 40:80]
    assert abs(float(np.median(band[..., 0])) - ref[0]) < 2.0  # the band's level at the lip's
    # its texture kept: the wet edge still lighter than the band beside it
    assert float(np.median(after[55, 32:58, 0])) > float(np.median(after[57, 32:58, 0])) + 5
    dark = img.copy()
    dark[53:59, 20:100] = (90, 55, 58)  # a band darker and greyer than the lip (no noise): left alone
    capped = dark.copy()
    cap_lower_band(capped, lips)
    assert np.array_equal(capped[53:59, 23:97], dark[53:59, 23:97])


def test_cap_validates() -> None:
    with pytest.raises(ValueError, match="image must be"):
        cap_lower_band(np.zeros((4, 4), np.uint8), _lips())
    with pytest.raises(ValueError, match="lips must be"):
        cap_lower_band(np.zeros((90, 120, 3), np.uint8), _lips()[:10])
    flat = np.full((90, 120, 3), 128, np.uint8)
    assert cap_lower_band(flat, _lips()) == 0  # grey: nothing lip-like


@pytest.mark.parametrize("target", ["neutral-to-happy", "happy-to-neutral"])
def test_rim_switch_is_off_and_changes_only_an_opened_smile(target: str) -> None:
    """Off by default (not adopted: main's bytes); on, a smile opened over lent teeth changes only
    inside its inner lips (grown by the feather), a closing smile not at all."""
    pytest.importorskip("skimage.data")
    import pixelfes.native as native
    from conftest import switch_outputs
    from pixelfes.evaluate.mouth_protocol import FACTORIES

    assert native._RIM_CAP is False and "native-redrim" in FACTORIES
    outs, res, _ = switch_outputs(target, "rim")
    assert np.array_equal(outs[None], outs[False])
    if target == "happy-to-neutral" or res.exemplar is None:
        assert np.array_equal(outs[True], outs[False])
        return
    changed = (outs[True] != outs[False]).any(-1)
    assert changed.any()
    inner = res.landmarks[60:68]
    # the opening's ends are shaded after the cap, by gains measured on the capped pixels, over the
    # opening grown by ends._GROW mouth widths: that much (and a pixel) around the inner lips moves
    from pixelfes.mouth import ends

    grow = 2 * ends._GROW * float(np.linalg.norm(res.landmarks[54] - res.landmarks[48])) + 1
    ys, xs = np.nonzero(changed)
    assert inner[:, 0].min() - grow <= xs.min() and xs.max() <= inner[:, 0].max() + grow
    assert inner[:, 1].min() - grow <= ys.min() and ys.max() <= inner[:, 1].max() + grow
