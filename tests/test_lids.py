"""A smile's eye part at the data's level (pixelfes.lids) against plain per-pixel references."""

from __future__ import annotations

import numpy as np
import pytest

from pixelfes import lids, native
from pixelfes.lids import OFFSETS, LidGoal, bundled_goal, lid_profile, lid_shading


def _face(scale: float = 1.0) -> np.ndarray:
    """A plain frontal 68-point layout on a 400 px image (eyes 100 px apart, lower lids flat at y 165)."""
    lm = np.zeros((68, 2))
    lm[:17] = np.stack([np.linspace(80, 320, 17), 200 + 120 * np.sin(np.linspace(0, np.pi, 17))], 1)
    lm[17:27] = np.stack([np.linspace(110, 290, 10), np.full(10, 130.0)], 1)
    lm[27:31] = np.stack([np.full(4, 200.0), np.linspace(150, 220, 4)], 1)
    lm[31:36] = np.stack([np.linspace(180, 220, 5), np.full(5, 230.0)], 1)
    for first, cx in ((36, 150.0), (42, 250.0)):
        lm[first:first + 6] = [(cx - 15, 160), (cx - 5, 155), (cx + 5, 155), (cx + 15, 160), (cx + 5, 165), (cx - 5, 165)]
    lm[48:60] = np.stack([160 + 40 * (1 - np.cos(np.linspace(0, 2 * np.pi, 13)[:12])),
                          280 + 10 * np.sin(np.linspace(0, 2 * np.pi, 13)[:12])], 1)
    lm[60:68] = lm[48:56]
    return lm * scale


def _lstar(v: np.ndarray) -> np.ndarray:
    """CIE L* of grey sRGB levels (for grey, Y is the linear channel value)."""
    c = v / 255.0
    y = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return np.where(y > 216 / 24389, 116 * y ** (1 / 3) - 16, y * 24389 / 27)


def test_lid_profile_reads_rows_below_the_lids_middle():
    # each row one grey level: the profile is that row's L*, 100 px eye distance,
    # the lids' middles at y 165 (40-41 and 46-47 flat), so offset o reads row 165 + 100 o
    lm = _face()
    rows = (np.arange(400) % 200 + 20).astype(np.uint8)
    img = np.repeat(np.repeat(rows[:, None, None], 400, 1), 3, 2)
    want = _lstar(rows[np.rint(165 + OFFSETS * 100).astype(int)].astype(np.float64))
    assert np.allclose(lid_profile(img, lm), want, atol=1e-12)


def test_fit_is_the_mean_relative_log_ratio_and_the_kinds_motion():
    rng = np.random.default_rng(0)
    lm = _face()
    neutral, smiles, lms_n, lms_s, logs, opens = [], [], [], [], [], []
    for k in range(4):
        n = rng.integers(60, 200, (400, 400, 3)).astype(np.uint8)
        s = rng.integers(60, 200, (400, 400, 3)).astype(np.uint8)
        ls = lm.copy()
        ls[[40, 41, 46, 47], 1] -= 1.0 + k  # lower lids up by 1-4 px
        if k % 2:  # lips apart: an open smile (inner gap 20 px of an 80 px mouth)
            ls[61:64, 1] -= 10
            ls[65:68, 1] += 10
        opens.append(bool(k % 2))
        neutral.append(n)
        smiles.append(s)
        lms_n.append(lm)
        lms_s.append(ls)
        logs.append(np.log(lid_profile(s, ls) + 1.0) - np.log(lid_profile(n, lm) + 1.0))
    goal = LidGoal.fit(neutral, lms_n, smiles, lms_s)
    mean = np.mean(logs, axis=0)
    ref = (OFFSETS >= 0.345) & (OFFSETS <= 0.405)
    rel = mean - mean[ref].mean()
    padded = np.concatenate([[rel[0]], rel, [rel[-1]]])
    smooth = 0.25 * padded[:-2] + 0.5 * padded[1:-1] + 0.25 * padded[2:]
    assert np.allclose(goal.profile, smooth, atol=1e-12)
    assert goal.people == (2, 2)
    # the motion: each photo aligned by its own landmarks, so compare open against closed only
    # in sign: open smiles' lower lids rose further (k = 1, 3 against 0, 2)
    assert goal.motion(True)[[4, 5, 10, 11], 1].mean() < goal.motion(False)[[4, 5, 10, 11], 1].mean() < 0
    back = LidGoal.from_dict(goal.to_dict())
    assert np.array_equal(back.profile, goal.profile) and np.array_equal(back.motion_open, goal.motion_open)
    with pytest.raises(ValueError, match="as many neutral"):
        LidGoal.fit(neutral, lms_n, smiles[:3], lms_s)


def _smooth(x: float, a: float, b: float) -> float:
    t = min(max((x - a) / (b - a), 0.0), 1.0)
    return t * t * (3 - 2 * t)


def _shading_reference(gain: np.ndarray, lm: np.ndarray, profile: np.ndarray, strength: float) -> np.ndarray:
    """lid_shading written pixel by pixel."""
    out = gain.astype(np.float64).copy()
    ed = float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))
    for idx in ((36, 41, 40, 39), (42, 47, 46, 45)):
        pts = lm[list(idx)]
        for x in range(int(np.ceil(pts[0, 0])), int(np.floor(pts[-1, 0])) + 1):
            lid = np.interp(x, pts[:, 0], pts[:, 1])
            col = range(int(np.floor(pts[:, 1].min())), int(np.ceil(pts[:, 1].max() + 0.46 * ed)) + 1)
            band = [np.log(gain[y, x]) for y in col if 0.345 <= (y - lid) / ed <= 0.405]
            ref = np.mean(band)
            u = (x - pts[0, 0]) / (pts[-1, 0] - pts[0, 0])
            side = _smooth(u, 0, 0.35) * _smooth(1 - u, 0, 0.35)
            for y in col:
                d = (y - lid) / ed
                w = _smooth(d, 0.015, 0.035) * (1 - _smooth(d, 0.36, 0.46)) * side
                goal = ref + strength * np.interp(d, OFFSETS, profile)
                out[y, x] = np.exp(np.log(gain[y, x]) + w * (goal - np.log(gain[y, x])))
    return out


def test_lid_shading_against_the_plain_reference():
    rng = np.random.default_rng(3)
    lm = _face()
    lm[[41, 40], 1] += (2.0, 3.0)  # a curved lid
    gain = (1.0 + 0.2 * rng.standard_normal((400, 400))).clip(0.7, 1.4).astype(np.float32)
    profile = 0.2 * np.sin(OFFSETS * 20)
    got = lid_shading(gain, lm, profile, 0.8)
    assert np.allclose(got, _shading_reference(gain, lm, profile, 0.8), atol=2e-6)
    changed = np.argwhere(got != gain)
    # only below the lower lids (their margin kept: 0.015-0.46 eye distances below), between each eye's corners
    for y, x in changed:
        idx = [36, 41, 40, 39] if x < 200 else [42, 47, 46, 45]
        d = (y - np.interp(x, lm[idx, 0], lm[idx, 1])) / 100.0
        assert 0.015 < d <= 0.46 + 1e-9  # (the weight reaches 0 at 0.46, to rounding)
    assert set(np.unique(changed[:, 1])) <= set(range(135, 166)) | set(range(235, 266))


def test_a_flat_gain_takes_the_profile_in_the_middle_of_the_lid():
    lm = _face()
    gain = np.full((400, 400), 1.1, np.float32)
    profile = np.where(OFFSETS > 0.05, -0.2, 0.0) * (OFFSETS < 0.2)
    got = lid_shading(gain, lm, profile, 1.0)
    # the lid's middle (x 150 and 250), 0.1 eye distances below: 1.1 x exp(-0.2)
    assert got[175, 150] == pytest.approx(1.1 * np.exp(-0.2), rel=1e-5)
    assert got[175, 250] == pytest.approx(1.1 * np.exp(-0.2), rel=1e-5)
    assert got[162, 150] == pytest.approx(1.1)  # the lid margin itself is kept


def test_bundled_goal_is_london_s_mean():
    goal = bundled_goal()
    assert goal.people == (39, 43) and goal.profile.shape == OFFSETS.shape
    # the fold under the lower lid's bulge: darker about a tenth of an eye distance below
    assert goal.profile[(OFFSETS > 0.08) & (OFFSETS < 0.14)].min() < -0.05
    # open smiles narrow the eyes further: lower lids (40, 41, 46, 47) up more
    low = [4, 5, 10, 11]
    assert goal.motion(True)[low, 1].mean() < goal.motion(False)[low, 1].mean() < 0


def test_synthesize_face_eyes_off_is_main_and_on_changes_only_the_eyes(face):
    from pixelfes.pipeline import resolve_model

    rgb, lm = face
    model = resolve_model(None, "neutral", "happy")
    assert native._SMILE_LIDS is False
    default = rgb.copy()
    res = native.synthesize_face(rgb, default, lm, model, 1.0)
    off = rgb.copy()
    assert native.synthesize_face(rgb, off, lm, model, 1.0, eyes=False) == res
    assert np.array_equal(off, default)
    on = rgb.copy()
    native.synthesize_face(rgb, on, lm, model, 1.0, eyes=True)
    changed = np.argwhere(np.any(on != default, axis=2))
    assert len(changed)
    ed = float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))
    eyes = lm[36:48]
    # the eye points' motion spreads through their triangles, the shading below the lids: all
    # within an eye distance of the eyes, never the mouth
    assert changed[:, 0].min() >= eyes[:, 1].min() - ed and changed[:, 0].max() <= eyes[:, 1].max() + ed
    assert changed[:, 0].max() < lm[48:68, 1].min()
    with pytest.raises(TypeError, match="eyes must be"):
        native.synthesize_face(rgb, rgb.copy(), lm, model, 1.0, eyes="yes")  # type: ignore[arg-type]
    assert lids.EYE_POINTS == tuple(range(36, 48))
