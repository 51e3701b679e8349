"""The open mouth's interior (pixelfes.mouth.cavity) and its use by the action units' mouth."""

from __future__ import annotations

import numpy as np
import pytest

from pixelfes.mouth import cavity as cv
from pixelfes.mouth import inner_gap, mouth_frame

# An axis-aligned mouth 100 px wide: outer corners 48 (10, 50) and 54 (110, 50), so the
# mouth frame is x_f = (x - 60) / 100, y_f = (y - 50) / 100.
OFFSET = np.array([0.0, 0.0])


def _landmarks(gap_px: float) -> np.ndarray:
    lm = np.zeros((68, 2))
    lm[36], lm[45] = (20.0, 0.0), (100.0, 0.0)  # eyes level: the face's vertical is y
    lm[48], lm[54] = (10.0, 50.0), (110.0, 50.0)
    lm[60], lm[64] = (20.0, 50.0), (100.0, 50.0)
    for up, lo, x in ((61, 67, 40.0), (62, 66, 60.0), (63, 65, 80.0)):
        lm[up] = (x, 50.0 - gap_px / 2)
        lm[lo] = (x, 50.0 + gap_px / 2)
    return lm


def _box_outline(top: float, bottom: float) -> np.ndarray:
    """A flat-topped, flat-bottomed opening from x = 20 to 100: upper edge left to right,
    lower edge right to left (the layout of rounded_outline's result)."""
    xs = np.linspace(20.0, 100.0, 9)
    return np.concatenate([np.c_[xs, np.full(9, top)], np.c_[xs[::-1], np.full(9, bottom)][:-1]])


def _smooth(x: float) -> float:
    t = min(max(x, 0.0), 1.0)
    return t * t * (3 - 2 * t)


def test_interior_lightness_is_the_vertical_profile_written_out():
    """Away from the edge (no rim) and on a small opening (no tongue): L* = lips' L* x
    (DEEP + (LOW - DEEP) smoothstep((v - 0.35) / 0.65)) x (1 - 0.2 u^4); a* = 0.48 a*_lips,
    b* = 0.56 b*_lips (real open mouths' dark interior; plain formula at a few pixels)."""
    lm = _landmarks(15.0)  # gap 0.15 mouth widths: below the tongue's 0.18
    assert cv.tongue_share(0.15) == 0.0
    outline = _box_outline(40.0, 70.0)
    lips = np.array([60.0, 20.0, 10.0])
    far = np.full((80, 120), 1e6, np.float32)
    lab = cv.interior_lab((80, 120), OFFSET, outline, mouth_frame(lm), inner_gap(lm), lips, far)
    for x, y in ((60, 55), (60, 42), (40, 68), (90, 50)):
        u = (2 * (x - 60) / 100) / 0.8  # the outline spans x_f -0.4 .. 0.4
        v = (y - 40) / 30
        want = 60.0 * (cv.DEEP + (cv.LOW - cv.DEEP) * _smooth((v - 0.35) / 0.65)) * (1 - 0.2 * u**4)
        assert lab[y, x, 0] == pytest.approx(want, abs=1e-3)
        assert lab[y, x, 1] == pytest.approx(0.48 * 20.0, abs=1e-4) and lab[y, x, 2] == pytest.approx(5.6, abs=1e-4)
    # darker at the back (top) than low in the mouth, never black: at least DEEP x 0.8 of the lips
    assert lab[43, 60, 0] < lab[67, 60, 0]
    assert lab[40:71, 20:101, 0].min() >= 0.8 * cv.DEEP * 60.0 - 1e-3


def test_rim_and_tongue():
    """The wet inner lip edge: at the outline L* = RIM x the lips' and the lips' own a*; the
    tongue on a wide opening: at its lit top in the middle L* = TONGUE_L x the lips' (the
    plain formula where the mound's smoothstep is 1: v - top >= 0.08)."""
    lm = _landmarks(40.0)  # gap 0.4: the full tongue
    share = cv.tongue_share(0.4)
    assert share == pytest.approx(0.42)
    outline = _box_outline(30.0, 70.0)
    lips = np.array([50.0, 24.0, 8.0])
    edge = np.full((80, 120), 1e6, np.float32)
    edge[50, 60] = 0.0  # a pixel on the outline
    lab = cv.interior_lab((80, 120), OFFSET, outline, mouth_frame(lm), inner_gap(lm), lips, edge)
    assert lab[50, 60, 0] == pytest.approx(cv.RIM * 50.0, abs=1e-3)
    assert lab[50, 60, 1] == pytest.approx(24.0, abs=1e-3)
    top = 1.0 - share  # at u = 0
    y = 30 + int(np.ceil((top + 0.08) * 40))  # the first row fully on the tongue
    v = (y - 30) / 40
    want = 50.0 * (cv.TONGUE_L - 0.14 * _smooth((v - top) / share))
    assert lab[y, 60, 0] == pytest.approx(want, abs=1e-3)
    assert lab[y, 60, 1] == pytest.approx(24.0, abs=1e-3)  # as red as the lips
    # the tongue is lighter than the cavity above it, and only in the middle
    assert lab[y, 60, 0] > lab[y - 12, 60, 0] + 5 and lab[y, 60, 0] > lab[y, 22, 0] + 3


def test_rounded_outline_moves_a_v_towards_a_u_and_keeps_the_lip():
    """Each lower point moves down by ROUND x (D (1 - s^2)^0.7 - depth) (never up), at most
    to (1 - KEEP_LIP) of the way to the outer lower lip; the upper edge does not move."""
    inner = np.array([[20, 50], [40, 40], [60, 40], [80, 40], [100, 50], [80, 60], [60, 80], [40, 60]], float)
    outer = np.array([[10, 50], [30, 35], [50, 32], [60, 33], [70, 32], [90, 35], [110, 50],
                      [90, 75], [70, 95], [60, 96], [50, 95], [30, 75]], float)
    # a V: straight lines from the corners to the deepest point
    up = np.c_[np.linspace(20, 90, 8), [50.0] + [40.0] * 7]  # 60 -> just before 64
    lx = np.linspace(100, 20, 9)[:-1]  # 64 -> just before 60
    low = np.c_[lx, 50 + 30 * (1 - np.abs(lx - 60) / 40)]
    smooth = np.concatenate([up, low])
    got = cv.rounded_outline(inner, outer, smooth)
    assert np.allclose(got[:8], up)
    assert np.allclose(got[8:, 0], lx)
    for (x, y_old), y_new in zip(low, got[8:, 1], strict=True):
        s = (x - 60) / 40
        depth = y_old - 50
        new = depth + cv.ROUND * max(30 * (1 - s * s) ** 0.7 - depth, 0.0)
        y_out = np.interp(x, [10, 30, 50, 60, 70, 90, 110], [50, 75, 95, 96, 95, 75, 50])
        limit = depth + (1 - cv.KEEP_LIP) * max(y_out - 50 - depth, 0.0)
        assert y_new == pytest.approx(50 + min(new, max(limit, depth)), abs=1e-9)
        assert y_new >= y_old - 1e-9
    assert (got[8:, 1] > low[:, 1] + 1).sum() >= 4  # the flanks did move down


def test_teeth_shade_and_visible_teeth():
    """The teeth's gain: 0.55 under the upper lip, 1 at the tooth edges, x (1 - 0.6 u^2);
    how much tooth shows: min(tip, 0.55 gap, 0.065), down to 0.75 of it at a gap of 0.4."""
    from pixelfes.actions.mouth import visible_teeth

    lm = _landmarks(30.0)  # gap 0.3
    outline = _box_outline(35.0, 65.0)
    g = cv.teeth_shade((80, 120), OFFSET, outline, mouth_frame(lm), inner_gap(lm), visible=0.06)
    assert g[35, 60] == pytest.approx(0.55, abs=1e-5)
    assert g[41, 60] == pytest.approx(1.0, abs=1e-5)  # 0.06 mouth widths = 6 px below
    u = (2 * (80 - 60) / 100) / 0.8
    assert g[41, 80] == pytest.approx(1 - 0.6 * u * u, abs=1e-5)
    assert visible_teeth(0.08, 0.1) == pytest.approx(0.044)
    assert visible_teeth(0.2, 0.1) == pytest.approx(0.065)
    assert visible_teeth(0.3, 0.1) == pytest.approx(0.065 * 0.875)
    assert visible_teeth(0.6, 0.03) == pytest.approx(0.03 * 0.75)


def test_lab_to_srgb_round_trips_the_colour_module():
    from pixelfes.mouth.colour import lab, lab_to_srgb

    rgb = np.array([[12, 40, 200], [128, 128, 128], [250, 10, 30]], np.uint8)
    back = lab_to_srgb(lab(rgb))
    assert np.abs(back - rgb).max() < 0.6


def test_lower_teeth_only_on_small_openings():
    from pixelfes.actions.mouth import lower_teeth

    assert lower_teeth(0.08) == pytest.approx(0.024)
    assert lower_teeth(0.12) == pytest.approx(0.035)
    assert lower_teeth(0.185) == pytest.approx(0.035 * 0.5)  # halfway through the fade
    assert lower_teeth(0.25) == 0.0 and lower_teeth(0.4) == 0.0


def test_open_mouth_teeth_are_no_lighter_than_the_cap():
    """The teeth laid into an open mouth: their median L* at most max(cheeks + TEETH_OVER_SKIN,
    lips + TEETH_OVER_LIPS) (+1 for rounding), their 95th percentile at most the expected eye
    whites - 2 (+1.5: the blend with the cavity at the feathered edge, the tint after the cap), on a
    dark face whose bank teeth would be lighter (planted bug: no cap -> median 48.8 > 38)."""
    from pixelfes.actions import mouth as am
    from pixelfes.actions.basis import load_basis
    from pixelfes.actions.model import ActionUnitModel
    from pixelfes.actions.pose import pose_from_angles
    from pixelfes.mouth import person_colours
    from pixelfes.mouth.colour import lab

    basis = load_basis()
    lm = pose_from_angles(0.0, 0.0, 0.0, 4.3 * 3, (3 * 95.5, 300.0)).project(basis.mean_shape)  # photo size
    import cv2

    img = np.full((576, 576, 3), (95, 62, 50), np.uint8)
    cv2.fillPoly(img, [np.rint(lm[48:60]).astype(np.int32)], (85, 50, 50))
    crop = (lm + 0.5) / 3 - 0.5
    target = 3 * (ActionUnitModel(au={"AU25": 1.0, "AU26": 0.8}).fit().predict_shape(crop) + 0.5) - 0.5
    colours = person_colours(img, lm)
    cav = am._cavity(img, lm, target, img, 1.0)
    out = am._teeth(cav.copy(), lm, target, colours, 1.0)
    changed = (np.abs(out.astype(int) - cav.astype(int)).max(2) > 10)
    assert changed.sum() > 100
    cap = max(float(colours.skin_lab[0]) + am.TEETH_OVER_SKIN, float(colours.lips_lab[0]) + am.TEETH_OVER_LIPS)
    assert am.teeth_cap(colours) == pytest.approx(cap)
    light = lab(out[changed])[:, 0]
    assert float(np.median(light)) <= cap + 1.0
    # the brightest twentieth under the eye whites expected from the cheeks (38.19 + 0.401 L*)
    assert am.sclera_estimate(colours) == pytest.approx(38.19 + 0.401 * float(colours.skin_lab[0]))
    assert float(np.percentile(light, 95)) <= am.sclera_estimate(colours) - 2.0 + 1.5


def test_smile_share_is_the_corners_rise_through_a_smoothstep():
    """rise = y(62) - mean y(48, 54) in mouth widths (y down); share = smoothstep(rise / 0.05)."""
    from pixelfes.actions.mouth import smile_share

    lm = _landmarks(10.0)  # corners level with the lips' middle: upper inner lip 5 px above
    assert smile_share(lm) == 0.0
    for lift, want in ((7.5, 0.5), (10.0, 1.0), (6.0, None)):
        up = lm.copy()
        up[[48, 54], 1] -= lift  # corners drawn up (the frame rotates a little with them: none here)
        t = min(max((lift - 5.0) / 100.0 / 0.05, 0.0), 1.0)
        assert smile_share(up) == pytest.approx(t * t * (3 - 2 * t) if want is None else want, abs=1e-9)


def test_upper_lip_raise_and_lit_teeth():
    """upper_lip_raise: the mean over the pairs (61, 67), (62, 66), (63, 65) of (old pair's
    middle - new upper point) along the face's down direction, over the old mouth width; a lit
    tooth shade (lit = 1) has no shadow under the lip."""
    from pixelfes.actions.mouth import upper_lip_raise

    before = _landmarks(0.0)
    after = before.copy()
    after[[61, 62, 63], 1] -= [12.0, 15.0, 9.0]  # the upper lip raised (y up is negative)
    after[66, 1] += 3.0  # the lower lip's moves do not count
    assert upper_lip_raise(before, after) == pytest.approx(12.0 / 100.0)
    # back: from the raised mouth's own middles (44, 44, 45.5) to the old upper lip at 50
    assert upper_lip_raise(after, before) == pytest.approx(-(6.0 + 6.0 + 4.5) / 3 / 100.0)
    lm = _landmarks(30.0)
    outline = _box_outline(35.0, 65.0)
    g = cv.teeth_shade((80, 120), OFFSET, outline, mouth_frame(lm), inner_gap(lm), visible=0.06, lit=1.0)
    assert g[35, 60] == pytest.approx(1.0, abs=1e-5) and g[50, 60] == pytest.approx(1.0, abs=1e-5)


def test_lower_teeth_laid_only_from_a_tenth_of_their_opacity(monkeypatch):
    """The lower teeth's layer under a small opening is laid at (1 - fill) x (1 - lit) of the
    opening's alpha, and skipped below LOWER_TEETH_LEAST (0.1): under lips stretched almost
    fully (fear, stretch_share 0.9-1) it was laid at 0.002-0.075 and cost a fifth of the
    step. The upper teeth are laid every time (a recorded _lay: one call, or two)."""
    import pixelfes.actions.mouth as am
    from pixelfes.mouth import PersonColours, load_bank

    before = _landmarks(0.0)
    after = before.copy()
    after[[65, 66, 67], 1] += 8.0  # the lower lip comes down: gap 0.08, no upper lip raised
    assert am.upper_lip_raise(before, after) == pytest.approx(0.0)
    colours = PersonColours(skin=load_bank().skin[0].copy(), lips=np.array([150, 80, 80], np.uint8))
    calls: list[float] = []
    monkeypatch.setattr(am, "_lay", lambda *a, **k: calls.append(a[6]))
    for share, want in ((0.95, 1), (0.91, 1), (0.89, 2), (0.5, 2), (0.0, 2), (1.0, 1)):
        calls.clear()
        monkeypatch.setattr(am, "stretch_share", lambda b, a, share=share: share)
        am._teeth(np.full((120, 140, 3), 150, np.uint8), before, after, colours, 0.8)
        assert len(calls) == want, (share, calls)
        if want == 2:
            assert calls[0] == 0.8 and calls[1] == pytest.approx(0.8 * (1.0 - share))


def test_stretch_share_is_the_widening_through_a_smoothstep():
    """widen = |54 - 48| after / before; share = smoothstep((widen - 1.05) / 0.07): 0 for a
    mouth that keeps its width or narrows (surprise), 1 from 12 % wider (fear's AU20)."""
    from pixelfes.actions.mouth import stretch_share

    before = _landmarks(10.0)  # corners 100 px apart
    for grow, want in ((0.0, 0.0), (-8.0, 0.0), (5.0, 0.0), (8.5, 0.5), (12.0, 1.0), (30.0, 1.0), (7.0, None)):
        after = before.copy()
        after[48, 0] -= grow / 2
        after[54, 0] += grow / 2
        t = min(max((1.0 + grow / 100.0 - 1.05) / 0.07, 0.0), 1.0)
        assert stretch_share(before, after) == pytest.approx(t * t * (3 - 2 * t) if want is None else want,
                                                              abs=1e-9)


def test_fear_stretched_lips_show_their_teeth(monkeypatch):
    """Real London faces (001 light, 137 dark skin) made fearful: the input's mouth box is
    lighter than with stretching ignored (teeth from lip to lip, lit, instead of tooth edges
    over a dark slit): by at least 4 L* on 001 and 1 L* on 137 (measured +6.5 and +1.7; with
    the last fear recipe, whose mouth widened 1.18x against 1.11x, +6.0 and +2.7)."""
    import pixelfes.actions.mouth as am
    from conftest import real_data
    from pixelfes.imageio import load_image
    from pixelfes.mouth.colour import lab
    from pixelfes.pipeline import find_faces, synthesize

    def light(path: object, box: tuple[int, int, int, int]) -> float:
        x0, y0, x1, y1 = box
        return float(lab(np.asarray(synthesize(path, "fearful"))[y0:y1, x0:x1])[..., 0].mean())

    folder = real_data("london-face-set/neutral_front")
    for person, least in (("001", 4.0), ("137", 1.0)):
        path = folder / f"{person}_03.jpg"
        lm = find_faces(load_image(path).rgb)[0].landmarks
        x0, y0 = np.floor(lm[48:68].min(0)).astype(int)
        x1, y1 = np.ceil(lm[48:68].max(0)).astype(int)
        stretched = light(path, (x0, y0, x1, y1))
        with monkeypatch.context() as m:
            m.setattr(am, "stretch_share", lambda before, after: 0.0)
            plain = light(path, (x0, y0, x1, y1))
        assert stretched > plain + least, (person, stretched, plain)


def test_cavity_is_no_more_chromatic_than_the_lips():
    """Deep in (no rim, no tongue) the cavity's chroma over its L* stays within 2.6x the lips'
    (real open mouths: a* 0.44 of the lips' at 0.2-0.3 of their L*, 1.8x; at a* = 0.8 of the
    lips' for every depth it was 3.3x at the back: the dark magenta band)."""
    lm = _landmarks(15.0)
    outline = _box_outline(40.0, 70.0)
    lips = np.array([52.0, 25.0, 6.0])
    far = np.full((80, 120), 1e6, np.float32)
    lab = cv.interior_lab((80, 120), OFFSET, outline, mouth_frame(lm), inner_gap(lm), lips, far)
    inside = lab[42:69, 22:99]
    ratio = np.hypot(inside[..., 1], inside[..., 2]) / inside[..., 0]
    assert ratio.max() < 2.6 * np.hypot(25.0, 6.0) / 52.0
    assert cv.CAVITY_A == pytest.approx(0.48) and cv.CAVITY_B == pytest.approx(0.56)


def test_close_row_is_a_grey_closing_over_the_row_gap():
    """close_row = a plain max filter then min filter over a (2 (k // 2) + 1) x (2 (k // 6) + 1)
    window, k = round(ROW_GAP x width), edges replicated; a 3 px gap between two teeth of a
    100 px mouth (k = 4) is filled, the row's ends are not extended."""
    from pixelfes.actions import mouth as am

    rng = np.random.default_rng(3)
    tooth = (rng.random((30, 50)) > 0.6).astype(np.float32) * rng.random((30, 50)).astype(np.float32)
    width = 100.0
    k = int(round(am.ROW_GAP * width))
    rx, ry = k // 2, k // 6

    def filt(a, op):
        p = np.pad(a, ((ry, ry), (rx, rx)), mode="edge")
        win = np.stack([p[dy:dy + a.shape[0], dx:dx + a.shape[1]]
                        for dy in range(2 * ry + 1) for dx in range(2 * rx + 1)])
        return op(win, axis=0)

    want = filt(filt(tooth, np.max), np.min)
    assert np.array_equal(am.close_row(tooth, width), want)
    row = np.zeros((9, 40), np.float32)
    row[3:6, 5:15] = 1.0
    row[3:6, 18:30] = 1.0  # a 3 px gap at x = 15..17
    got = am.close_row(row, width)
    assert np.all(got[3:6, 5:30] == 1.0)
    assert np.all(got[:, :5] == 0.0) and np.all(got[:, 30:] == 0.0)


def test_lift_upper_lip_relights_the_raised_lips_dark_inner_part():
    """A raised upper lip (outer edge at y = 30, inner at 44) whose lower half carries a dark
    band (L* 30, the stretched lip line) on lips of L* ~55: at the inner edge it is moved all
    the way to the lips' median (lit = 1; fully past LIP_LIFT of the lip's thickness it is
    not touched); pixels lighter than the lips are never changed; lit = 0 changes nothing."""
    import cv2

    from pixelfes.actions import mouth as am
    from pixelfes.mouth.colour import lab

    lm = _landmarks(20.0)
    before = lm.copy()
    after = lm.copy()
    for i in (49, 50, 51, 52, 53):
        after[i] = (lm[48, 0] + (i - 48) * 100 / 6, 30.0)
    for i in (61, 62, 63):
        after[i, 1] = 44.0
    after[[60, 64], 1] = 47.0
    lip = np.array([190, 120, 120], np.uint8)
    src = np.full((100, 120, 3), 200, np.uint8)
    poly = np.rint(np.concatenate([before[48:60]]) * 16).astype(np.int32)
    cv2.fillPoly(src, [poly], lip.tolist(), shift=4)
    img = np.full((100, 120, 3), 200, np.uint8)
    cv2.fillPoly(img, [np.rint(np.concatenate([after[48:55], after[[64, 63, 62, 61, 60]]]) * 16).astype(np.int32)],
                 lip.tolist(), shift=4)
    img[38:45, 30:90] = (90, 40, 50)  # the dark band along the inner edge
    img[39:44, 91:98] = (240, 215, 215)  # a highlight near the inner edge, lighter than the lips
    out = img.copy()
    am.lift_upper_lip(out, before, after, src, 1.0)
    target = lab(lip)
    assert abs(float(lab(out[42, 60])[0]) - float(target[0])) < 6.0  # near the inner edge: the lips' L*
    assert float(lab(out[39, 60])[0]) > float(lab(img[39, 60])[0]) + 5.0
    assert np.array_equal(out[31:34], img[31:34])  # the lit outer part (as light as the lips) is kept
    assert np.array_equal(out[40:43, 93:96], img[40:43, 93:96])  # never made darker
    still = img.copy()
    am.lift_upper_lip(still, before, after, src, 0.0)
    assert np.array_equal(still, img)


def test_uv_is_the_mouth_frame_of_every_pixel_centre_written_out():
    """``_uv`` over a box with an offset and a turned, scaled mouth frame equals the plain
    formula (an (H, W) float32 grid of pixel centres plus the offset, through the frame, the
    outline's upper and lower edges interpolated along x), float for float."""
    lm = _landmarks(20.0)
    theta = np.radians(7.0)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    lm = (lm - 60.0) @ rot.T * 1.3 + (300.0, 210.0)
    outline = (_box_outline(40.0, 60.0) - 60.0) @ rot.T * 1.3 + (300.0, 210.0)
    m = mouth_frame(lm)
    offset, shape = np.array([231.0, 168.0]), (57, 131)
    u, v = cv._uv(shape, offset, outline, m)
    f = outline @ m[:, :2].T + m[:, 2]
    half = len(f) // 2
    up, lo = f[: half + 1], np.concatenate([f[half:], f[:1]])
    up, lo = up[np.argsort(up[:, 0])], lo[np.argsort(lo[:, 0])]
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    px = np.stack([xx + np.float32(offset[0]), yy + np.float32(offset[1])], axis=-1)
    fx = px @ m[:, :2].T.astype(np.float32) + m[:, 2].astype(np.float32)
    y_up = np.interp(fx[..., 0], up[:, 0], up[:, 1]).astype(np.float32)
    y_lo = np.interp(fx[..., 0], lo[:, 0], lo[:, 1]).astype(np.float32)
    want_v = np.clip((fx[..., 1] - y_up) / np.maximum(y_lo - y_up, np.float32(1e-3)), 0.0, 1.0)
    x0, x1 = float(f[:, 0].min()), float(f[:, 0].max())
    want_u = np.clip((2.0 * fx[..., 0] - (x0 + x1)) / (x1 - x0), -1.0, 1.0)
    assert u.shape == v.shape == shape and u.dtype == v.dtype == np.float32
    assert np.array_equal(u, want_u.astype(np.float32)) and np.array_equal(v, want_v.astype(np.float32))
    assert 0.2 < float(v.mean()) < 0.8 and float(u.min()) == -1.0 and float(u.max()) == 1.0
