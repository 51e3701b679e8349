"""The mouth measure's photo call (pixelfes.evaluate.mouth.read_lips / judged_regions):
drawn mouths with known answers, the darkest path against brute force, the eye labels."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import face_layout, real_data
from pixelfes.evaluate import mouth
from pixelfes.evaluate.mouth import judged_regions, measure_mouth, mouth_regions, read_lips
from pixelfes.mouth_regions import srgb_to_lab

SIZE = 400
SKIN = (200, 160, 140)
LIGHT = {"upper": (170, 90, 95), "lower": (190, 110, 115), "crease": (90, 40, 45)}
DARK = {"upper": (60, 35, 35), "lower": (80, 45, 45), "crease": (35, 15, 18)}
TEETH, GLOSS = (235, 232, 225), (250, 246, 246)
LABELS = Path(__file__).parent / "fixtures" / "london_mouth_labels.json"


def _mouth(lips=LIGHT, *, teeth=None, gloss=False, lower_inner=0.08):
    """A face of flat skin with drawn lips meeting on a straight 3 px dark crease (rows
    cy - 1 to cy + 1); the lower inner-lip landmarks sit ``lower_inner`` mouth widths below it
    (0.08: the middle of the lower lip, as dlib puts them on some closed mouths). ``teeth``:
    an sRGB colour drawn between the crease and 0.07 widths below it; ``gloss``: a white
    highlight on the lower lip, 0.07 widths below the crease. Returns ``(rgb, landmarks, cy)``."""
    import cv2

    lm = face_layout(SIZE)
    cx, cy = np.rint((lm[48] + lm[54]) / 2).astype(int)
    w = float(np.linalg.norm(lm[54] - lm[48]))

    def f(x):  # 1 at the middle of the mouth, 0 at its corners
        return np.cos(np.pi * x / w)

    up_x, lo_x = np.array([-0.5, -1 / 3, -1 / 6, 0, 1 / 6, 1 / 3, 0.5]) * w, np.array([1 / 3, 1 / 6, 0, -1 / 6, -1 / 3]) * w
    in_up, in_lo = np.array([-0.45, -0.2, 0, 0.2, 0.45]) * w, np.array([0.2, 0, -0.2]) * w
    lm[48:55] = np.column_stack([cx + up_x, cy - 0.12 * w * f(up_x)])
    lm[55:60] = np.column_stack([cx + lo_x, cy + 0.15 * w * f(lo_x)])
    lm[60:65] = np.column_stack([cx + in_up, cy - 0.01 * w * f(in_up)])
    lm[65:68] = np.column_stack([cx + in_lo, cy + lower_inner * w * f(in_lo)])
    img = np.empty((SIZE, SIZE, 3), np.uint8)
    img[:] = SKIN
    xs = np.linspace(-0.5 * w, 0.5 * w, 60)
    upper = np.column_stack([cx + xs, cy - 0.12 * w * f(xs)])
    lower = np.column_stack([cx + xs, cy + 0.15 * w * f(xs)])
    line = np.column_stack([cx + xs[::-1], np.full(len(xs), cy)])
    cv2.fillPoly(img, [np.rint(np.vstack([upper, line])).astype(np.int32)], lips["upper"])
    cv2.fillPoly(img, [np.rint(np.vstack([lower, line])).astype(np.int32)], lips["lower"])
    if teeth is not None:
        tx = np.linspace(-0.4 * w, 0.4 * w, 40)
        band = np.vstack([np.column_stack([cx + tx, np.full(len(tx), cy + 2)]),
                          np.column_stack([cx + tx[::-1], cy + 0.07 * w * f(tx[::-1])])])
        cv2.fillPoly(img, [np.rint(band).astype(np.int32)], teeth)
    if gloss:
        cv2.ellipse(img, (int(cx), int(cy + 0.09 * w)), (int(0.06 * w), int(0.02 * w)), 0, 0, 360, GLOSS, -1)
    img[cy - 1 : cy + 2, int(cx - 0.5 * w) : int(cx + 0.5 * w) + 1] = lips["crease"]
    return img, lm, int(cy)


def test_closed_lips_whose_lower_landmarks_sit_mid_lip_read_closed_on_the_crease():
    rgb, lm, cy = _mouth()
    assert mouth_regions(lm, rgb.shape).open  # the area call takes the lower lip's top for an opening
    r = read_lips(rgb, lm)
    assert not r.open and r.teeth_share == 0.0
    assert np.abs(r.line[:, 1] - cy).max() <= 1.0  # on the drawn crease, every column
    assert r.line[0, 0] == np.ceil(lm[60, 0]) and r.line[-1, 0] == np.floor(lm[64, 0])
    reg, _ = judged_regions(rgb, lm)
    m = measure_mouth(rgb, lm, call="photo")
    assert not reg.open and not m.open and m.area_open
    crease_l = srgb_to_lab(np.array(LIGHT["crease"], np.uint8))[0]
    upper_l = srgb_to_lab(np.array(LIGHT["upper"], np.uint8))[0]
    # the band (3 px thick, 0.025 of a 115 px mouth) lies on the crease: its median is the crease's L*
    assert m.interior_L == pytest.approx(crease_l, abs=0.01)
    # the area call scores the pink top of the lower lip instead
    lower_l = srgb_to_lab(np.array(LIGHT["lower"], np.uint8))[0]
    assert measure_mouth(rgb, lm, call="area").interior_L == pytest.approx(lower_l, abs=0.01) and lower_l > upper_l
    assert measure_mouth(rgb, lm) == m  # the photo call is the measure's default


def test_the_lip_line_does_not_jump_to_a_small_dark_spot_on_the_upper_lip():
    """A spot 5 columns wide, 5-6 rows above the crease and 2.4 L* darker than it: the
    darkest row of those columns, not worth a path's detour (2 x 5.5 rows at 2 L* a row
    against at most 5 x 2.4 L* saved)."""
    rgb, lm, cy = _mouth()
    cx = int(round((lm[48, 0] + lm[54, 0]) / 2))
    spot = (82, 36, 41)
    assert srgb_to_lab(np.array(LIGHT["crease"], np.uint8))[0] - srgb_to_lab(np.array(spot, np.uint8))[0] \
        == pytest.approx(2.39, abs=0.01)
    rgb[cy - 6 : cy - 4, cx - 2 : cx + 3] = spot
    r = read_lips(rgb, lm)
    assert np.abs(r.line[:, 1] - cy).max() <= 1.0


def test_open_mouth_with_teeth_reads_open():
    rgb, lm, _ = _mouth(teeth=TEETH)
    r = read_lips(rgb, lm)
    assert r.open and r.teeth_share == 1.0
    m = measure_mouth(rgb, lm, call="photo")
    assert m.open and m.teeth_share == 1.0
    # the interior is then the inner-lip polygon, as under the area call
    assert m.interior_L == measure_mouth(rgb, lm).interior_L


def test_a_gloss_highlight_away_from_the_crease_is_not_teeth(monkeypatch):
    rgb, lm, _ = _mouth(gloss=True)
    assert not read_lips(rgb, lm).open
    # what rejects it is the join to the dark line (planted: join everything)
    monkeypatch.setattr(mouth, "TOOTH_JOIN", 1.0)
    assert read_lips(rgb, lm).open


def test_warm_teeth_on_dark_lips_read_open_through_the_lightness_test(monkeypatch):
    warm = (195, 165, 150)
    rgb, lm, _ = _mouth(DARK, teeth=warm)
    lip_a = np.median([srgb_to_lab(np.array(DARK[k], np.uint8))[1] for k in ("upper", "lower")])
    t_l, t_a = srgb_to_lab(np.array(warm, np.uint8))[:2]
    assert 0.5 * lip_a < t_a < lip_a  # too red for the first test, less red than the lips
    assert read_lips(rgb, lm).open
    monkeypatch.setattr(mouth, "TOOTH_LIGHT", 1e9)  # planted: the second test off
    assert not read_lips(rgb, lm).open


def test_read_lips_errors():
    rgb, lm, _ = _mouth()
    with pytest.raises(ValueError, match=r"\(68, 2\)"):
        read_lips(rgb, lm[:60])
    with pytest.raises(ValueError, match="too small"):
        read_lips(rgb, np.where(np.arange(68)[:, None] >= 48, lm[48] + 0.01 * np.arange(68)[:, None], lm))
    with pytest.raises(ValueError, match="call must be one of"):
        measure_mouth(rgb, lm, call="polygon")


def _brute_path_cost(cost, step):
    h, w = cost.shape
    best = np.inf
    for start in range(h):
        for moves in itertools.product((-1, 0, 1), repeat=w - 1):
            rows = start + np.concatenate([[0], np.cumsum(moves)])
            if rows.min() < 0 or rows.max() >= h:
                continue
            best = min(best, cost[rows, np.arange(w)].sum() + step * np.abs(moves).sum())
    return best


@pytest.mark.parametrize("seed", range(6))
def test_darkest_path_is_the_least_cost_path(seed):
    rng = np.random.default_rng(seed)
    cost = rng.uniform(0, 10, size=(4, 6))
    cost[rng.uniform(size=cost.shape) < 0.2] = np.inf
    cost[rng.integers(0, 4, size=6), np.arange(6)] = rng.uniform(0, 10, size=6)  # a finite cell a column
    path = mouth._darkest_path(np.where(np.isfinite(cost), cost, np.inf), 2.0)
    assert np.abs(np.diff(path)).max() <= 1
    got = cost[path, np.arange(6)].sum() + 2.0 * np.abs(np.diff(path)).sum()
    want = _brute_path_cost(np.where(np.isfinite(cost), cost, 1e9), 2.0)
    if want < 1e9:
        assert got == pytest.approx(want)


@pytest.mark.slow
@pytest.mark.realdata
def test_agreement_with_the_eye_labels_of_the_real_london_photos():
    """The 164 real photos labelled by eye at 1:1 (fixture); pinned: the area call agrees on
    78 smiles / 76 neutrals of 82, the photo call on 81 / 81 (docs/mouth.md)."""
    from pixelfes.evaluate.mouth import detect_landmarks
    from pixelfes.imageio import read_rgb

    root = real_data("london-face-set")
    if not (root / "neutral_front").is_dir():
        pytest.skip(f"real data not present: {root}")
    labels = json.loads(LABELS.read_text())
    wrong: dict[tuple[str, str], list[str]] = {}
    for expr, folder, suffix in (("happy", "smiling_front", "08"), ("neutral", "neutral_front", "03")):
        for ident, eye in sorted(labels[expr].items()):
            rgb = read_rgb(root / folder / f"{ident}_{suffix}.jpg")[0]
            m = measure_mouth(rgb, detect_landmarks(rgb), call="photo")
            for call, is_open in (("area", m.area_open), ("photo", m.open)):
                if is_open != (eye == "open"):
                    wrong.setdefault((expr, call), []).append(ident)
    assert wrong == {("happy", "area"): ["021", "039", "043", "144"], ("happy", "photo"): ["039"],
                     ("neutral", "area"): ["006", "025", "030", "103", "113", "126"],
                     ("neutral", "photo"): ["030"]}
