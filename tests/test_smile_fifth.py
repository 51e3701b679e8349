"""Issue 11, fifth pass: a closed smile's corners, dragging the lips along, the eyes' texture gain."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from conftest import spy_calls
from pixelfes import native
from pixelfes.mouth import load_bank


def test_closed_smile_corners_go_a_share_of_the_way_to_open_smiles():
    bank = load_bank()
    opened, closed = np.zeros((2, 2)), np.zeros((2, 2))
    n_open = n_closed = 0
    for k in range(len(bank.motion)):  # plain loop over the bank
        if bank.patch_of[k] >= 0:
            opened += bank.motion[k][[48, 54]]
            n_open += 1
        else:
            closed += bank.motion[k][[48, 54]]
            n_closed += 1
    opened, closed = opened / n_open, closed / n_closed
    assert_allclose(native.smile_corners(bank, False), closed, rtol=1e-6)
    assert_allclose(native.smile_corners(bank, False, 1.0), opened, rtol=1e-6)
    assert_allclose(native.smile_corners(bank, False, 0.25), closed + 0.25 * (opened - closed), rtol=1e-6)
    assert_allclose(native.smile_corners(bank, True, 0.25), opened, rtol=1e-6)  # open smiles: no share
    # open smiles widen more than closed ones (the reason for the share)
    assert (opened[1, 0] - opened[0, 0]) > 1.5 * (closed[1, 0] - closed[0, 0])


def _pull_reference(lips, corners):
    out = [list(map(float, p)) for p in lips]
    x0, x1 = float(lips[0][0]), float(lips[6][0])
    dl = [float(corners[0][c] - lips[0][c]) for c in range(2)]
    dr = [float(corners[1][c] - lips[6][c]) for c in range(2)]
    for i, p in enumerate(lips):
        t = min(1.0, max(0.0, (float(p[0]) - x0) / (x1 - x0)))
        a, b = max(0.0, 1.0 - 2.0 * t), max(0.0, 2.0 * t - 1.0)
        out[i] = [float(p[c]) + a * dl[c] + b * dr[c] for c in range(2)]
    out[0] = [float(v) for v in corners[0]]
    out[6] = [float(v) for v in corners[1]]
    return np.array(out)


def test_pull_corners_drags_each_half_of_the_lips_along():
    rng = np.random.default_rng(3)
    bank = load_bank()
    lips = bank.frame_points()[2].astype(np.float64) * 100 + 300  # any frame: photo-like pixels
    corners = lips[[0, 6]] + rng.normal(0, 4, (2, 2))
    got = native.pull_corners(lips, corners)
    assert_allclose(got, _pull_reference(lips, corners), atol=1e-9)
    assert_allclose(got[[0, 6]], corners)
    mid = np.isclose(lips[:, 0], (lips[0, 0] + lips[6, 0]) / 2)
    assert_allclose(got[mid], lips[mid], atol=1e-9)  # the middle stays (no such point: vacuous)
    # the points next to a corner move almost as far as it does, on their own side only
    left = int(np.argmin(np.where(np.arange(20) == 0, np.inf, lips[:, 0])))
    assert np.linalg.norm(got[left] - lips[left]) > 0.5 * np.linalg.norm(corners[0] - lips[0])
    assert_allclose(native.pull_corners(lips, lips[[0, 6]]), lips)  # nothing to move: unchanged


def test_a_closed_smile_has_the_shared_corners(monkeypatch):
    skimage_data = pytest.importorskip("skimage.data")
    from pixelfes.face import detect_faces
    from pixelfes.face.align import align_face
    from pixelfes.mouth import person_colours
    from pixelfes.pipeline import resolve_model

    bank = load_bank()
    rgb = skimage_data.astronaut()
    face = detect_faces(rgb)[0]
    model = resolve_model("neutral-to-happy")
    al = align_face(rgb, face.landmarks, model.alignment_)
    colours = person_colours(rgb, face.landmarks)
    scale = model.alignment_.size / model.alignment_.margin
    monkeypatch.setattr(native, "limit_motion", lambda *a, **k: 1.0)  # no fold shortening here
    for share in (0.0, 1.0):
        monkeypatch.setattr(native, "_CLOSED_CORNERS", share)
        goal, mode, index = native.target_shape(model, al.landmarks, 0.8, "closed", bank, colours)
        assert mode == "closed" and index is None
        want = al.landmarks[[48, 54]] + 0.8 * native.smile_corners(bank, False, share) * scale
        assert_allclose(goal[[48, 54]], want, atol=1e-6)


def _eye_reference(ref, shape, y, x):
    best = 0.0
    for eye in (ref[36:42], ref[42:48]):
        width = float(eye[:, 0].max() - eye[:, 0].min())
        cx, cy = float(eye[:, 0].mean()), float(eye[:, 1].mean()) + 0.5 * width
        d2 = ((x - cx) / (0.8 * width)) ** 2 + ((y - cy) / (0.5 * width)) ** 2
        best = max(best, math.exp(-0.5 * d2))
    return best


def test_eye_weight_against_plain_gaussians():
    from pixelfes.pipeline import resolve_model

    ref = resolve_model("neutral-to-happy").reference_
    w = native.eye_weight(ref, (192, 192))
    assert w.shape == (192, 192) and w.dtype == np.float32
    for y, x in ((0, 0), (70, 60), (80, 130), (100, 96), (150, 96), (75, 75)):
        assert w[y, x] == pytest.approx(_eye_reference(ref, w.shape, y, x), abs=1e-6)
    assert w.max() > 0.99 and w[170:].max() < 1e-3  # ones under the eyes, nothing at the chin


def test_the_eye_gain_is_the_gain_where_the_eye_weight_is_one(monkeypatch):
    skimage_data = pytest.importorskip("skimage.data")
    from pixelfes.face import align_face, detect_faces
    from pixelfes.pipeline import resolve_model

    rgb = skimage_data.astronaut()
    face = detect_faces(rgb)[0]
    model = resolve_model("neutral-to-happy")
    al = align_face(rgb, face.landmarks, model.alignment_)
    raster = model.warp_.triangulation.raster(al.landmarks + 1.0)

    def ratio(gain, eye):
        return native._texture_ratio(model, al.crop, al.landmarks, raster, 1.0, gain, eye)

    plain = ratio(1.5, None)
    assert_allclose(ratio(1.5, 1.5), plain)
    monkeypatch.setattr(native, "eye_weight", lambda ref, shape: np.ones(shape, np.float32))
    assert_allclose(ratio(1.5, 2.5), ratio(2.5, None), atol=2e-6)
    monkeypatch.setattr(native, "eye_weight", lambda ref, shape: np.zeros(shape, np.float32))
    assert_allclose(ratio(1.5, 2.5), plain, atol=2e-6)


def test_smiles_pass_the_eye_gain_other_targets_none(monkeypatch):
    skimage_data = pytest.importorskip("skimage.data")
    from pixelfes.face import detect_faces
    from pixelfes.pipeline import resolve_model

    rgb = skimage_data.astronaut()
    face = detect_faces(rgb)[0]
    calls = spy_calls(monkeypatch, native, "_texture_ratio")
    native.synthesize_face(rgb, rgb.copy(), face.landmarks, resolve_model("neutral-to-happy"), 1.0)
    native.synthesize_face(rgb, rgb.copy(), face.landmarks, resolve_model("happy-to-neutral"), 1.0)
    seen = [a[6] if len(a) > 6 else k.get("eye_gain") for a, k in calls]
    assert seen == [native._SMILE_EYE_GAIN, None]


def test_the_fifth_pass_defaults():
    """Chosen on training folds only (scripts/choose_smile.py --rule fifth; docs/mouth.md)."""
    assert native._CLOSED_CORNERS == 1.0
    assert native._SMILE_EYE_GAIN == 2.5 and native._SMILE_RATIO_GAIN == 1.5
    from pixelfes.mouth import bank as bank_module

    assert bank_module._RENDERED_TEETH is False
