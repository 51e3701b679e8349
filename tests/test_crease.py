"""The closed lips' crease (pixelfes.mouth.crease): measured and drawn against plain formulas."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from conftest import people_bank
from pixelfes.mouth import close_mouth, person_colours
from pixelfes.mouth.bank import MouthBank
from pixelfes.mouth.colour import lab, to_linear
from pixelfes.mouth.crease import OFFSETS, crease_gain, crease_profile, draw_crease, luminance


def _lips() -> np.ndarray:
    """68 landmarks with closed lips from x 20 to 100, meeting at y 40 (only 48-67 matter)."""
    lm = np.zeros((68, 2))
    top = [(20, 40), (33, 31), (47, 28), (60, 30), (73, 28), (87, 31), (100, 40)]
    bottom = [(87, 50), (73, 53), (60, 54), (47, 53), (33, 50)]
    lm[48:60] = top + bottom
    lm[60:68] = [(25, 40), (42, 40), (60, 40), (78, 40), (95, 40), (78, 40), (60, 40), (42, 40)]
    return lm


def _image(seed: int = 0, scale: float = 1.0) -> np.ndarray:
    """Pink lips with texture and a dark crease at y 41 on skin, ``scale`` times the linear light."""
    rng = np.random.default_rng(seed)
    lin = np.empty((80, 120, 3), np.float32)
    lin[:] = (0.45, 0.3, 0.25)
    lips = np.zeros((80, 120), np.uint8)
    cv2.fillPoly(lips, [np.rint(_lips()[48:60]).astype(np.int32)], 1)
    lin[lips > 0] = (0.35, 0.12, 0.12)
    lin *= (1.0 + 0.15 * rng.standard_normal((80, 120)))[..., None].astype(np.float32)
    y = np.arange(80)[:, None]
    lin *= (1.0 - 0.5 * np.exp(-0.5 * ((y - 41.3) / 1.2) ** 2))[..., None].astype(np.float32)
    lin = np.clip(lin * scale, 0, 1)
    return np.clip(np.rint(np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055) * 255),
                   0, 255).astype(np.uint8)


def _reference_profile(rgb: np.ndarray, lm: np.ndarray, darkest: bool = True) -> np.ndarray:
    """Column by column in plain Python: the darkest row near the line, samples interpolated by hand."""
    lin = to_linear(rgb).astype(np.float64)
    yy = 0.2126 * lin[..., 0] + 0.7152 * lin[..., 1] + 0.0722 * lin[..., 2]
    outer = np.zeros(yy.shape, np.uint8)
    cv2.fillPoly(outer, [np.rint(lm[48:60] * 16).astype(np.int32)], 1, shift=4)
    inner = np.zeros_like(outer)
    cv2.fillPoly(inner, [np.rint(lm[60:68] * 16).astype(np.int32)], 1, shift=4)
    mask = (cv2.erode(outer, np.ones((3, 3), np.uint8)) > 0) & (inner == 0)
    lip = float(np.median(yy[mask]))
    width = math.dist(lm[48], lm[54])
    r = max(1, round(0.03 * width))
    cols = []
    for x in range(math.ceil(lm[60, 0]), math.floor(lm[64, 0]) + 1):
        up = np.interp(x, lm[60:65, 0], lm[60:65, 1])
        lo = np.interp(x, lm[[60, 67, 66, 65, 64], 0], lm[[60, 67, 66, 65, 64], 1])
        c = 0.5 * (up + lo)
        if darkest:
            rows = [round(c) + k for k in range(-r, r + 1)]
            c = float(min(rows, key=lambda q: yy[q, x]))
        vals = []
        for o in OFFSETS:
            q = c + o * width
            q0 = int(math.floor(q))
            f = q - q0
            vals.append((yy[q0, x] * (1 - f) + yy[q0 + 1, x] * f) / lip)
        cols.append(vals)
    return np.median(np.array(cols), axis=0)


@pytest.mark.parametrize("darkest", [True, False])
def test_profile_matches_a_plain_loop(darkest: bool) -> None:
    rgb, lm = _image(), _lips()
    np.testing.assert_allclose(crease_profile(rgb, lm, darkest=darkest), _reference_profile(rgb, lm, darkest),
                               rtol=1e-5, atol=1e-6)


def test_profile_sees_the_crease_and_is_exposure_free() -> None:
    lm = _lips()
    p = crease_profile(_image(), lm)
    assert p[6] < 0.7 * min(p[0], p[-1])  # the dark line at the centre
    # the profile is a ratio of linear light: the same face at 40 % exposure reads alike
    np.testing.assert_allclose(crease_profile(_image(scale=0.4), lm), p, atol=0.03)


def test_gain_is_the_windowed_capped_ratio() -> None:
    goal = np.linspace(0.4, 1.2, len(OFFSETS))
    own = np.full(len(OFFSETS), 0.8)
    want = [1 - (1 - min(g / o, 1.0)) * math.cos(0.5 * math.pi * d / 0.06) ** 2
            for g, o, d in zip(goal, own, OFFSETS, strict=True)]
    np.testing.assert_allclose(crease_gain(goal, own), want, atol=1e-12)
    assert crease_gain(goal, own)[0] == pytest.approx(1.0) and crease_gain(goal, own)[-1] == pytest.approx(1.0)
    assert crease_gain(np.full(13, 0.4), own)[6] == pytest.approx(0.5)  # the ratio itself at the line
    assert np.all(crease_gain(np.full(13, 2.0), own) == 1.0)  # never lightens


def _flat_lips(scale: float) -> np.ndarray:
    """Lips of even colour (no crease), ``scale`` times the linear light."""
    img = _image(scale=scale)
    lin = np.full(img.shape, 0.3 * scale, np.float32)
    lin[..., 1:] *= 0.4
    s = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)
    return np.clip(np.rint(s * 255), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("scale", [1.0, 0.25])
def test_drawn_crease_is_a_multiplicative_darkening_to_the_goal(scale: float) -> None:
    lm = _lips()
    img = _flat_lips(scale)
    before = img.copy()
    goal = np.ones(len(OFFSETS))
    goal[5:8] = (0.7, 0.45, 0.7)
    draw_crease(img, lm[48:68], 80.0, goal)
    # at the line's middle the luminance drops by the gain's factor, relative to the lips
    ratio = luminance(img)[40, 60] / luminance(before)[40, 60]
    assert ratio == pytest.approx(0.45, abs=0.04)
    want = np.interp(-1 / 80, OFFSETS, crease_gain(goal, crease_profile(before, lm, darkest=False)))
    assert luminance(img)[39, 60] / luminance(before)[39, 60] == pytest.approx(want, abs=0.03)
    assert want < 0.95
    assert np.array_equal(img[:30], before[:30]) and np.array_equal(img[50:], before[50:])  # far rows untouched
    assert np.array_equal(img[:, :25], before[:, :25])  # nothing past the inner corner
    # it only darkens
    assert (lab(img)[..., 0] <= lab(before)[..., 0] + 0.5).all()


def test_bank_goal_is_the_median_of_the_nearest_in_lip_lightness(monkeypatch) -> None:
    import pixelfes.mouth.bank as bank_mod

    rng = np.random.default_rng(3)
    n = 30
    lips = rng.integers(40, 220, size=(n, 3)).astype(np.uint8)
    prof = rng.uniform(0.3, 1.0, size=(n, 13))
    prof[4] = np.nan  # not measured: never chosen
    bank = people_bank(lips, neutral_crease=prof)
    face = person_colours(np.full((40, 40, 3), (150, 90, 85), np.uint8), _lips() * 0.3)
    # plain reference: the 20 measured people nearest in lip L*, one by one
    face_l = float(lab(face.lips)[0])
    dist = sorted((abs(float(lab(lips[i])[0]) - face_l), i) for i in range(n) if i != 4)
    want = np.median(prof[[i for _, i in dist[:20]]], axis=0)
    np.testing.assert_allclose(bank.crease_goal(face), want, atol=1e-6)
    monkeypatch.setattr(bank_mod, "_CREASE_NEAR", 1)
    np.testing.assert_allclose(bank.crease_goal(face), prof[dist[0][1]], atol=1e-6)
    bank.neutral_crease[:] = np.nan
    assert bank.crease_goal(face) is None
    old = people_bank(lips[:0], neutral_crease=prof)  # saved before the lip colours: the seam
    assert old.crease_goal(face) is None


def test_close_mouth_draws_the_crease_instead_of_the_seam() -> None:
    lm = _lips()
    img = _flat_lips(1.0)
    colours = person_colours(img, lm)
    seam, crease = img.copy(), img.copy()
    close_mouth(seam, lm[48:68], colours)
    goal = np.ones(13)
    goal[6] = 0.4
    close_mouth(crease, lm[48:68], colours, crease=goal)
    assert luminance(crease)[40, 60] < luminance(seam)[40, 60] < luminance(img)[40, 60]
    # no goal: the seam as before
    same = img.copy()
    close_mouth(same, lm[48:68], colours, crease=None)
    assert np.array_equal(same, seam)


def test_the_bundled_bank_carries_every_crease_and_its_goal_is_the_plain_median() -> None:
    from pixelfes.mouth import load_bank

    bank = load_bank()
    assert bank.neutral_crease.shape == (len(bank.people_skin), 13) == (82, 13)
    assert np.isfinite(bank.neutral_crease).all() and bank.people_lips.shape == (82, 3)
    face = person_colours(_flat_lips(1.0), _lips())
    face_l = float(lab(face.lips)[0])
    dist = sorted((abs(float(lab(bank.people_lips[i])[0]) - face_l), i) for i in range(82))
    want = np.median(bank.neutral_crease[[i for _, i in dist[:20]]].astype(np.float64), axis=0)
    goal = bank.crease_goal(face)
    np.testing.assert_allclose(goal, want, atol=1e-7)
    # pinned: these lips' goal at the line (darkest row) 0.35 of the lips' luminance
    assert goal[6] == pytest.approx(0.3487, abs=5e-4)
    assert goal[6] < 0.6 * min(goal[0], goal[-1])


def test_drawn_crease_darkens_l_only_and_keeps_a_b() -> None:
    lm = _lips()
    img = _flat_lips(1.0)
    before = img.copy()
    goal = np.ones(13)
    goal[6] = 0.4
    draw_crease(img, lm[48:68], 80.0, goal)
    assert luminance(img)[40, 60] / luminance(before)[40, 60] == pytest.approx(
        0.4 / float(crease_profile(before, lm, darkest=False)[6]), abs=0.04)
    # L* down by the factor, a* and b* within a rounding of the lips' own
    dl = float(lab(before)[40, 60, 0]) - float(lab(img)[40, 60, 0])
    assert dl > 15.0
    assert abs(float(lab(img)[40, 60, 1]) - float(lab(before)[40, 60, 1])) < 1.0
    assert abs(float(lab(img)[40, 60, 2]) - float(lab(before)[40, 60, 2])) < 1.0


def test_opening_a_smile_never_reads_the_crease_goal(monkeypatch) -> None:
    """neutral -> happy is byte-identical whatever the crease goal rule: opening a closed mouth
    never asks for one (only a smile closed over open input lips does)."""
    skimage_data = pytest.importorskip("skimage.data")
    from pixelfes import native
    from pixelfes.face import detect_faces
    from pixelfes.pipeline import resolve_model

    photo = skimage_data.astronaut()
    lm = detect_faces(photo)[0].landmarks
    model = resolve_model("neutral-to-happy")
    want = photo.copy()
    native.synthesize_face(photo, want, lm, model, 1.0)

    def refuse(self, colours):  # noqa: ANN001, ANN202
        raise AssertionError("crease goal asked for while opening a smile")

    monkeypatch.setattr(MouthBank, "crease_goal", refuse)
    out = photo.copy()
    native.synthesize_face(photo, out, lm, model, 1.0)
    assert np.array_equal(out, want) and not np.array_equal(out, photo)
