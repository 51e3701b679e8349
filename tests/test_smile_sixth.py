"""Issue 11, sixth pass: lent teeth weighed by the look they get painted on this face."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from conftest import spy_calls
from pixelfes import native
from pixelfes.mouth import fill_mouth, load_bank, person_colours
from pixelfes.mouth_regions import mouth_look, mouth_regions, srgb_to_lab

skimage_data = pytest.importorskip("skimage.data")


def _parted(lm: np.ndarray, dy: float) -> np.ndarray:
    lips = np.array(lm[48:68], dtype=np.float64, copy=True)
    lips[13:16, 1] -= dy  # upper inner lip (61-63) up, lower (65-67) down
    lips[17:20, 1] += dy
    return lips


@pytest.mark.parametrize("dy", [0.3, 3.0, 8.0])
def test_painted_look_is_a_fill_of_the_whole_photo_measured_by_the_judge(face, dy):
    # plain reference: paint the whole photo with fill_mouth, take the judge's regions on the
    # landmarks with the new lips, medians of every pixel of the window's interior
    rgb, lm = face
    bank = load_bank()
    colours = person_colours(rgb, lm)
    cheek = native.cheek_lightness(rgb, lm)
    reg0 = mouth_regions(lm, rgb.shape)
    x0, y0, x1, y1 = reg0.window
    assert cheek == pytest.approx(float(np.median(srgb_to_lab(rgb[y0:y1, x0:x1])[reg0.cheeks][:, 0])))
    lips = _parted(lm, dy)
    hybrid = np.array(lm, dtype=np.float64, copy=True)
    hybrid[48:68] = lips
    for index in (0, 5):
        full = rgb.copy()
        fill_mouth(full, lips, colours, bank, index=index)
        reg = mouth_regions(hybrid, rgb.shape)
        wx0, wy0, wx1, wy1 = reg.window
        inside = srgb_to_lab(full[wy0:wy1, wx0:wx1])[reg.interior]
        want = [np.median(inside[:, 0]) - cheek, np.median(inside[:, 1]), np.median(inside[:, 2])]
        got = native.painted_look(rgb, lm, lips, colours, bank, index, cheek)
        assert got is not None
        assert_allclose(got, want, atol=1e-9)
        # the judge's own function on the painted photo differs only by its cheeks (new corners)
        assert abs(mouth_look(full, hybrid)[0] - got[0]) < 0.5
    assert np.array_equal(rgb, skimage_data.astronaut())  # the input itself is never painted


def test_the_look_is_measured_on_the_lips_that_are_painted(face, monkeypatch):
    # every candidate is measured on the goal target_shape gives it, and the chosen one's goal
    # is the final target (the chosen smile forced to each candidate in turn)
    from pixelfes.face.align import align_face
    from pixelfes.mouth import MouthBank
    from pixelfes.pipeline import resolve_model

    rgb, lm = face
    model = resolve_model("neutral-to-happy")
    bank = load_bank()
    al = align_face(rgb, lm, model.alignment_)
    colours = person_colours(rgb, lm)
    own = mouth_look(rgb, lm)
    original = MouthBank.typical_smile
    for pick in range(3):
        seen: dict[int, np.ndarray] = {}
        asked: list[int] = []

        def painted(goal, index, seen=seen):
            seen[index] = goal.copy()
            return np.array([10.0, 5.0, 5.0])

        def forced(self, *a, pick=pick, asked=asked, **k):
            inner = k["painted"]

            def spy(j):
                asked.append(j)
                return inner(j)
            original(self, *a, **{**k, "painted": spy})
            return asked[pick], True

        monkeypatch.setattr(MouthBank, "typical_smile", forced)
        goal, mode, index = native.target_shape(model, al.landmarks, 1.0, "auto", bank, colours,
                                                own_look=own, painted=painted)
        assert len(seen) == 3 and mode == "open"
        assert index == int(bank.patch_of[asked[pick]])
        assert_allclose(goal, seen[index])
    assert native._PAINTED_TEETH is True


def _lip_only_by_hand(lm, share):
    """Each inner lip point ``share`` of the way to its outer partner (corners to the corners)."""
    out = [list(map(float, p)) for p in lm]
    for o, i in ((50, 61), (51, 62), (52, 63), (58, 67), (57, 66), (56, 65), (48, 60), (54, 64)):
        out[i] = [lm[i][k] + share * (lm[o][k] - lm[i][k]) for k in range(2)]
    return np.array(out)


@pytest.mark.parametrize("inside", [True, False])
def test_an_opened_mouth_reads_its_lips_from_inside_them(face, monkeypatch, inside):
    # the warp's source: lips read from inside them when the mouth is opened over lent teeth
    # (native._OPEN_LIP_ONLY; off: the input's own points, which is how the test can tell)
    from pixelfes.face.align import align_face
    from pixelfes.pipeline import resolve_model

    rgb, lm = face
    model = resolve_model("neutral-to-happy")
    crop_lm = align_face(rgb, lm, model.alignment_).landmarks
    calls = spy_calls(monkeypatch, native, "plan_photo_map")
    monkeypatch.setattr(native, "_OPEN_LIP_ONLY", inside)
    out = rgb.copy()
    res = native.synthesize_face(rgb, out, lm, model, 1.0, mouth="open")
    sources = [np.array(a[2]) for a, _ in calls]
    assert res.mouth == "open" and len(sources) == 1
    want = _lip_only_by_hand(crop_lm, native._LIP_ONLY) if inside else crop_lm
    assert_allclose(sources[0], want, atol=1e-9)
    assert not np.array_equal(_lip_only_by_hand(crop_lm, native._LIP_ONLY), crop_lm)


def test_the_sixth_pass_defaults():
    assert native._PAINTED_TEETH is True and native._OPEN_LIP_ONLY is True


@pytest.mark.parametrize("dy", [0.0, 0.3, 3.0, 8.0])
def test_interior_region_is_the_judges_interior(face, dy):
    from pixelfes.mouth_regions import interior_region

    rgb, lm = face
    hybrid = np.array(lm, dtype=np.float64, copy=True)
    hybrid[48:68] = _parted(lm, dy)
    reg = mouth_regions(hybrid, rgb.shape)
    (x0, y0, x1, y1), mask = interior_region(hybrid, rgb.shape)
    whole = np.zeros(rgb.shape[:2], bool)
    whole[y0:y1, x0:x1] = mask
    want = np.zeros(rgb.shape[:2], bool)
    wx0, wy0, wx1, wy1 = reg.window
    want[wy0:wy1, wx0:wx1] = reg.interior
    assert want.any() and np.array_equal(whole, want)
