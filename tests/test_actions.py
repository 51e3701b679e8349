"""Action units from the ICT face model: basis, pose, analysis, synthesis, engine choice."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pixelfes.actions import (
    RECIPES,
    ActionUnitModel,
    estimate_units,
    fit_pose,
    load_basis,
    parse_units,
    pose_from_angles,
)
from pixelfes.actions.mouth import inner_gap, paint_mouth

# dlib 68-point index of each point's mirror image (left <-> right of the face)
MIRROR = np.array(
    list(range(16, -1, -1)) + list(range(26, 21, -1)) + list(range(21, 16, -1)) + [27, 28, 29, 30]
    + [35, 34, 33, 32, 31] + [45, 44, 43, 42, 47, 46] + [39, 38, 37, 36, 41, 40]
    + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55] + [64, 63, 62, 61, 60, 67, 66, 65]
)


def mirror(points: np.ndarray) -> np.ndarray:
    return (points * [-1.0, 1.0, 1.0])[..., MIRROR, :]


@pytest.fixture(scope="module")
def basis():
    return load_basis()


def frontal_face(basis, weights=None, scale=4.3, pose=(0.0, 0.0, 0.0)):
    """Landmarks of the ICT mean face (plus ``weights`` actions) placed like an aligned crop."""
    shape = basis.mean_shape + (basis.motion_3d(weights) if weights else 0.0)
    return pose_from_angles(*pose, scale, (95.5, 100.0)).project(shape)


def synthetic_crop(lm: np.ndarray) -> np.ndarray:
    """A 192 px crop with a skin-coloured face, darker lips and eyes with bright whites."""
    import cv2

    img = np.full((192, 192, 3), (200, 200, 205), np.uint8)
    cv2.fillPoly(img, [np.rint(lm[:17]).astype(np.int32)], (180, 140, 120))
    cv2.ellipse(img, (int(lm[27, 0]), int(lm[19, 1]) - 5), (40, 30), 0, 0, 360, (180, 140, 120), -1)
    for eye in (range(36, 42), range(42, 48)):
        cv2.fillPoly(img, [np.rint(lm[list(eye)]).astype(np.int32)], (230, 230, 230))
    cv2.fillPoly(img, [np.rint(lm[48:60]).astype(np.int32)], (150, 80, 80))
    yy, xx = np.mgrid[0:192, 0:192]
    return np.clip(img + ((xx * 7 + yy * 3) % 11)[..., None], 0, 255).astype(np.uint8)


# -- the shipped basis ------------------------------------------------------------------


def test_basis_contents(basis):
    assert basis.motion.shape == (len(basis.units), 68, 3)
    assert basis.mean_shape.shape == (68, 3)
    # provenance (SOURCE.md): outer eye corners at x = -+4.459 cm, chin at y = -7.567 cm
    np.testing.assert_allclose(basis.mean_shape[[36, 45], 0], [-4.45898, 4.45898], atol=1e-5)
    np.testing.assert_allclose(basis.mean_shape[8, 1], -7.5671, atol=1e-4)
    assert {"AU1", "AU12L", "AU12R", "AU26", "AU30L"} <= set(basis.units)
    # AU26 is a third of ICT's full jaw opening: the chin's motion, pinned from jawOpen
    np.testing.assert_allclose(basis.motion[basis.index("AU26")][57], 0.35 * np.array([0.0, -3.51, -2.14]),
                               atol=0.01)


def test_left_right_symmetric(basis):
    """Each L unit is the mirror image of its R unit and L + R = both (ICT is symmetric to 0.05 mm)."""
    np.testing.assert_allclose(mirror(basis.mean_shape), basis.mean_shape, atol=5e-4)
    pairs = [u[:-1] for u in basis.units if u.endswith("L") and u[:-1] in basis.units]
    assert len(pairs) == 15
    for base in pairs:
        left, right = basis.motion[basis.index(base + "L")], basis.motion[basis.index(base + "R")]
        both = basis.motion[basis.index(base)]
        np.testing.assert_allclose(mirror(left), right, atol=5e-3, err_msg=base)
        np.testing.assert_allclose(left + right, both, atol=1e-6, err_msg=base)
    # the person's left (L) moves the landmarks on the image's right of a frontal face
    left = basis.motion[basis.index("AU12L")]
    assert np.linalg.norm(left[54]) > 1.0 and np.linalg.norm(left[48]) < 0.1


def test_parse_units():
    assert parse_units("1=0.8, 2=0.8,au26=0.5,12L=-0.3") == {"AU1": 0.8, "AU2": 0.8, "AU26": 0.5,
                                                             "AU12L": -0.3}
    assert parse_units({12: 1, "AU6": 0.5}) == {"AU12": 1.0, "AU6": 0.5}
    with pytest.raises(ValueError, match="like 12=0.8"):
        parse_units("12")
    with pytest.raises(ValueError, match="not supported"):
        parse_units("3=1")
    with pytest.raises(ValueError, match="not supported"):
        parse_units("10L=1")  # AU10 has no sides in ICT
    with pytest.raises(ValueError, match="must be a number"):
        parse_units("12=lots")


# -- pose ---------------------------------------------------------------------------------


@pytest.mark.parametrize("yaw, pitch, roll", [(0, 0, 0), (25, -10, 5), (-35, 15, -12), (10, 0, 30)])
def test_pose_recovered_from_projected_shape(basis, yaw, pitch, roll):
    truth = pose_from_angles(yaw, pitch, roll, 4.3, (95.5, 100.0))
    lm = truth.project(basis.mean_shape)
    est = fit_pose(lm)
    np.testing.assert_allclose(est.angles, (yaw, pitch, roll), atol=1e-6)
    assert est.scale == pytest.approx(4.3, abs=1e-9)
    np.testing.assert_allclose(est.translation, (95.5, 100.0), atol=1e-7)


def test_pose_signs(basis):
    """yaw > 0 moves the nose tip to the image's left; roll > 0 lowers the image-right eye."""
    lm = pose_from_angles(20, 0, 0, 4.3, (0, 0)).project(basis.mean_shape)
    assert lm[30, 0] < 0.5 * (lm[36, 0] + lm[45, 0])
    lm = pose_from_angles(0, 0, 10, 4.3, (0, 0)).project(basis.mean_shape)
    assert lm[45, 1] > lm[36, 1]


def test_motion_follows_pose(basis):
    """The same action moves the landmarks along the head's rotation (here 90 deg roll)."""
    model = ActionUnitModel(au={"AU26": 1.0}).fit()
    lm0 = frontal_face(basis)
    lm90 = frontal_face(basis, pose=(0, 0, 90))
    m0 = model.motion(lm0, {"AU26": 1.0})
    m90 = model.motion(lm90, {"AU26": 1.0})
    # frontal: the chin drops 0.35 * 3.51 cm * 4.3 px/cm = 5.28 px straight down
    np.testing.assert_allclose(m0[57], [0.0, 0.35 * 3.51 * 4.3], atol=0.02)
    np.testing.assert_allclose(m90[57], [-m0[57, 1], 0.0], atol=1e-6)


# -- synthesis ----------------------------------------------------------------------------


def test_strength_zero_is_identity(basis):
    lm = frontal_face(basis)
    crop = synthetic_crop(lm)
    model = ActionUnitModel("surprised").fit()
    np.testing.assert_array_equal(model.predict(crop[None], landmarks=lm[None], strength=0.0)[0], crop)


def test_motion_linear_in_strength(basis):
    lm = frontal_face(basis)
    model = ActionUnitModel("surprised").fit()  # opens the mouth: nothing folds
    one = model.predict_shape(lm, 1.0) - lm
    assert model.warp_.limit_motion(lm, lm + one) == 1.0
    for a in (0.25, 0.5, 0.75):
        np.testing.assert_allclose(model.predict_shape(lm, a) - lm, a * one, atol=1e-9)
    # the recipe's motion is the sum of its units' motions
    total = sum(model.motion(lm, {k: v}) for k, v in RECIPES["surprised"].units.items())
    np.testing.assert_allclose(one, total, atol=1e-9)
    # sad presses the closed lips together (AU17): the lips stop at contact and the lower
    # face is shortened, while the brows (upper face) keep their whole motion
    sad = ActionUnitModel("sad").fit()
    full = sad.motion(lm, RECIPES["sad"].units)
    assert sad.warp_.limit_motion(lm, lm + full) < 1.0  # the plain motion would fold
    got = sad.predict_shape(lm, 1.0)
    assert not sad.warp_.find_folds(got).any()
    np.testing.assert_allclose(got[17:48] - lm[17:48], full[17:48], atol=1e-9)
    assert np.abs(got[48:] - lm[48:]).max() > 0.5


def test_fold_limiting_shortens_strong_motion(basis):
    lm = frontal_face(basis)
    model = ActionUnitModel(au={"AU43": 1.0}).fit()  # eyes closed: lids meet
    strong = model.predict_shape(lm, 3.0)
    assert not model.warp_.find_folds(strong).any()
    full = lm + 3.0 * model.motion(lm, {"AU43": 1.0})
    assert np.abs(strong - lm).max() < np.abs(full - lm).max()


def test_predict_moves_pixels_and_opens_mouth(basis):
    lm = frontal_face(basis)
    crop = synthetic_crop(lm)
    model = ActionUnitModel("surprised").fit()
    out = model.predict(crop[None], landmarks=lm[None])[0]
    assert out.shape == crop.shape and out.dtype == np.uint8
    target = model.predict_shape(lm)
    assert inner_gap(target) > inner_gap(lm) + 3
    # the new opening is dark (cavity) with a brighter band of teeth under the upper lip
    cx = int(round(target[62, 0]))
    col = out[int(target[62, 1]) + 1 : int(target[66, 1]), cx].astype(float).mean(axis=1)
    assert col.min() < 60 and col.max() > 120
    # floats in [0, 1] give the same result
    outf = model.predict(crop[None] / 255.0, landmarks=lm[None])[0]
    np.testing.assert_allclose(outf * 255, out, atol=0.51)


def test_mouth_unchanged_when_not_opening(basis):
    lm = frontal_face(basis)
    crop = synthetic_crop(lm)
    assert paint_mouth(crop, lm, lm) is crop


def test_folds_darken_between_brows(basis):
    lm = frontal_face(basis)
    crop = synthetic_crop(lm)
    with_folds = ActionUnitModel(au={"AU4": 1.0}).fit().predict(crop[None], landmarks=lm[None])[0]
    without = ActionUnitModel(au={"AU4": 1.0}, fold_gain=0.0).fit().predict(
        crop[None], landmarks=lm[None])[0]
    x = int(round(0.5 * (lm[21, 0] + lm[22, 0])))
    y0, y1 = int(lm[21, 1]), int(lm[39, 1])
    band = slice(x - 6, x + 7)
    assert with_folds[y0:y1, band].mean() < without[y0:y1, band].mean() - 1.0


def test_needs_landmarks_and_right_size(basis):
    model = ActionUnitModel("happy").fit()
    crop = synthetic_crop(frontal_face(basis))
    with pytest.raises(ValueError, match="landmarks"):
        model.predict(crop[None])
    with pytest.raises(ValueError, match="192 x 192"):
        model.predict(crop[None, :100, :100], landmarks=frontal_face(basis)[None])
    with pytest.raises(ValueError, match="unknown expression"):
        ActionUnitModel("bored").fit()


def test_save_load_roundtrip(tmp_path, basis):
    from pixelfes import load

    model = ActionUnitModel("angry", au="12L=0.5").fit()
    path = model.save(tmp_path / "angry.safetensors")
    again = load(path)
    assert type(again) is ActionUnitModel
    assert again.weights_ == pytest.approx(model.weights_)
    lm = frontal_face(basis)
    crop = synthetic_crop(lm)
    np.testing.assert_array_equal(again.predict(crop[None], landmarks=lm[None]),
                                  model.predict(crop[None], landmarks=lm[None]))


# -- analysis -----------------------------------------------------------------------------


@pytest.mark.parametrize("pose", [(0, 0, 0), (20, -8, 6), (-30, 10, -15)])
def test_nnls_recovers_known_weights(basis, pose):
    truth = {"AU1": 0.7, "AU4": 0.3, "AU12": 0.9, "AU26": 0.5}
    lm = frontal_face(basis, truth, pose=pose)
    est = estimate_units(lm, identity_ridge=np.inf)  # the face is the ICT mean: no identity
    for k, v in est.units.items():
        # tolerance: the unit ridge's shrinkage (0.001-0.002 here)
        assert v == pytest.approx(truth.get(k, 0.0), abs=0.005), (k, est.units)
    np.testing.assert_allclose(est.pose.angles, pose, atol=0.1)
    assert est.rms < 0.05
    # with the person's own shape fitted too (the default), a little of the motion may be
    # taken for face shape: pinned so a change to the trade-off shows
    got = estimate_units(lm).units
    for k, v in truth.items():
        assert got[k] == pytest.approx(v, abs=0.05), (k, got)
    assert sum(v for k, v in got.items() if k not in truth) < 0.1


def test_nnls_neutral_mean_is_zero(basis):
    est = estimate_units(frontal_face(basis))
    assert max(est.units.values()) < 1e-6


def _person_face(basis, truth, seed, pose=(10.0, -5.0, 3.0), noise=0.5):
    """A synthetic person: the ICT mean + random identity (coefficients ~ N(0, 1)) + actions,
    posed like an aligned crop, with Gaussian landmark noise (px)."""
    rng = np.random.default_rng(seed)
    c = rng.normal(0.0, 1.0, len(basis.identity))
    shape = basis.mean_shape + basis.motion_3d(truth) + np.tensordot(c, basis.identity, axes=1)
    return pose_from_angles(*pose, 4.3, (95.5, 100.0)).project(shape) + rng.normal(0.0, noise, (68, 2))


def test_analysis_converges_and_stops_changing(basis):
    """The estimate is a fixed point: 6, 12, 40 and 160 rounds allowed give the same answer
    (the pose refit of before drifted here: scale 4.18 -> 3.78, summed units 3.8 -> 5.2)."""
    truth = {"AU1": 0.6, "AU6": 0.4, "AU12": 0.8, "AU26": 0.5}
    for seed in range(4):
        lm = _person_face(basis, truth, seed)
        ests = [estimate_units(lm, iterations=n) for n in (6, 12, 40, 160)]
        assert all(e.converged for e in ests) and ests[-1].rounds <= 12, [e.rounds for e in ests]
        ref = np.array(list(ests[-1].units.values()))
        for e in ests[:-1]:
            np.testing.assert_allclose(list(e.units.values()), ref, atol=1e-3)
            assert e.pose.scale == pytest.approx(ests[-1].pose.scale, rel=1e-4)


def test_analysis_objective_never_rises(basis):
    """Each pose round lowers the one objective both steps minimise (checked round by round)."""
    for seed in range(3):
        lm = _person_face(basis, {"AU2": 0.5, "AU15": 0.6, "AU26": 0.8}, seed, pose=(-20.0, 8.0, -6.0))
        objs = [estimate_units(lm, iterations=n).objective for n in range(10)]
        assert np.all(np.diff(objs) <= 1e-9 * objs[0]), objs
        assert objs[-1] < 0.9 * objs[0]  # the pose rounds do something


def test_analysis_recovers_a_synthetic_person(basis):
    """Known actions + pose + an identity + 0.5 px noise: recovered to ~0.3 (a random
    person's face shape, all 30 modes ~ N(0, 1), partly reads as actions), the scale to 1 %
    (the identity modes hold no size change: :func:`rigid_free_identity`); values pinned so
    a change to the estimator shows."""
    truth = {"AU1": 0.6, "AU6": 0.4, "AU12": 0.8, "AU26": 0.5}
    pinned = [{"AU1": 0.889, "AU6": 0.406, "AU12": 0.750, "AU26": 0.341},
              {"AU1": 0.646, "AU6": 0.397, "AU12": 0.756, "AU26": 0.427},
              {"AU1": 0.467, "AU6": 0.576, "AU12": 0.683, "AU26": 0.380}]
    for seed, pin in enumerate(pinned):
        est = estimate_units(_person_face(basis, truth, seed))
        for k, v in pin.items():
            assert est.units[k] == pytest.approx(v, abs=0.002), (seed, k, est.units)
            assert est.units[k] == pytest.approx(truth[k], abs=0.3), (seed, k, est.units)
        np.testing.assert_allclose(est.pose.angles, (10.0, -5.0, 3.0), atol=3.5)
        assert est.pose.scale == pytest.approx(4.3, rel=0.01)
    # without noise or identity the recovery is exact but for the ridges' shrinkage
    # (0.002-0.004 at the defaults), whatever the pose
    est = estimate_units(frontal_face(basis, truth, pose=(25.0, -10.0, 8.0)))
    for k, v in est.units.items():
        assert v == pytest.approx(truth.get(k, 0.0), abs=5e-3), (k, est.units)
    np.testing.assert_allclose(est.pose.angles, (25.0, -10.0, 8.0), atol=0.02)
    assert est.pose.scale == pytest.approx(4.3, rel=1e-3) and est.rms < 0.01


def test_neutralize_undoes_synthesized_actions(basis):
    """--to neutral removes what is above the noise floor (0.1) of each estimated unit."""
    from pixelfes.actions.model import NEUTRAL_FLOOR

    truth = {"AU1": 0.8, "AU2": 0.8, "AU26": 1.2}
    lm = frontal_face(basis, truth)
    back = ActionUnitModel("neutral").fit().predict_shape(lm)
    left = {k: min(v, NEUTRAL_FLOOR) for k, v in truth.items()}
    # 0.3 px: the removal is posed with the pose fitted on the expressive face (its eyes
    # moved a little), against 2-6 px of motion removed
    np.testing.assert_allclose(back, frontal_face(basis, left), atol=0.3)
    assert np.abs(lm - frontal_face(basis, left)).max() > 4.0


# -- engine choice and the command line ---------------------------------------------------


def test_engine_choice(monkeypatch, tmp_path):
    from pixelfes.actions.model import ActionsOnTop, NativeActionsOnTop
    from pixelfes.pipeline import resolve_model
    from pixelfes.zoo import ModelNotFoundError

    monkeypatch.setenv("PIXELFES_MODELS", str(tmp_path))  # no user models
    sad = resolve_model(None, "neutral", "sad")
    assert type(sad) is ActionUnitModel
    assert sad.alignment_.size == 192 and sad.alignment_.margin == 1.5  # photo canvas
    assert type(resolve_model(None, "neutral", "happy")).__name__ == "ShapeTextureModel"
    assert type(resolve_model(None, "neutral", "happy", engine="actions")) is ActionUnitModel
    on_top = resolve_model(None, "neutral", "happy", au="4=1")
    # the bundled colour shape + texture model runs natively under the units too
    assert type(on_top) is NativeActionsOnTop and on_top.alignment_.size == 192  # the learned model's
    assert isinstance(on_top, ActionsOnTop)
    assert type(resolve_model(None, "surprised", "neutral")) is ActionUnitModel
    only = resolve_model(None, "neutral", None, au="1=0.8,2=0.8")
    assert only.weights_ == {"AU1": 0.8, "AU2": 0.8}
    with pytest.raises(ModelNotFoundError, match="train"):
        resolve_model(None, "neutral", "sad", engine="learned")
    with pytest.raises(ValueError, match="engine must be"):
        resolve_model(None, "neutral", "sad", engine="magic")


def test_units_on_a_learned_model_run_native_then_on_the_photo(monkeypatch, tmp_path):
    """``--to happy --au 1=0.5``: the native engine, then the units moving the points it moved
    to, both on the photo's pixels (composed by hand here); nothing pasted from a crop."""
    from conftest import REPO
    from pixelfes.imageio import load_image
    from pixelfes.native import synthesize_face
    from pixelfes.pipeline import find_faces, resolve_model, synthesize_rgb

    monkeypatch.setenv("PIXELFES_MODELS", str(tmp_path))  # no user models
    rgb = load_image(REPO / "docs" / "images" / "london-001-neutral.jpg").rgb
    faces = find_faces(rgb, max_faces=1)
    lm = faces[0].landmarks
    top = resolve_model(None, "neutral", "happy", au="1=0.5")
    got = synthesize_rgb(rgb, top, 1.0, faces=faces)
    want = rgb.copy()
    done = synthesize_face(rgb, want, lm, top.base, 1.0)
    assert done.landmarks is not None and done.landmarks.shape == (68, 2)
    # the native smile moved the mouth corners (48, 54) up and out
    assert np.linalg.norm(done.landmarks[[48, 54]] - lm[[48, 54]], axis=1).min() > 1.0
    top.actions.synthesize_in_photo(want.copy(), done.landmarks, 1.0, out=want)
    assert np.array_equal(got, want)
    happy = synthesize_rgb(rgb, top.base, 1.0, faces=faces)
    brows = slice(int(lm[17:27, 1].min()) - 20, int(lm[17:27, 1].max()) + 5)
    assert not np.array_equal(got[brows], happy[brows])  # AU1 moved the inner brows
    mouth = (slice(int(lm[48:68, 1].min()) - 5, int(lm[48:68, 1].max()) + 5),
             slice(int(lm[48, 0]) - 5, int(lm[54, 0]) + 5))
    assert np.array_equal(got[mouth], happy[mouth])  # the native smile's mouth, as it made it
    # in place (the pipeline passes the photo as its own output) = a fresh result
    inplace = rgb.copy()
    assert top.synthesize_in_photo(inplace, lm, 1.0, out=inplace) is inplace
    assert np.array_equal(inplace, got)


def test_cli_lists_units_and_recipes(capsys):
    from pixelfes.cli import main

    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "neutral -> angry" in out and "AU12" in out and "lip corner puller" in out
    with pytest.raises(SystemExit):
        main(["synthesize", "--help"])
    assert "26 jaw drop" in capsys.readouterr().out


def test_cli_analyze_and_synthesize_real_photo(tmp_path, capsys):
    from conftest import real_data
    from pixelfes.cli import main

    photo = sorted((real_data("london-face-set") / "neutral_front").glob("*.jpg"))[0]
    out = tmp_path / "surprised.jpg"
    assert main(["synthesize", str(photo), "--to", "surprised", "-o", str(out), "-q"]) == 0
    capsys.readouterr()
    assert main(["analyze", str(out), "--json"]) == 0
    faces = json.loads(capsys.readouterr().out)["faces"]
    assert len(faces) == 1 and len(faces[0]["box"]) == 4
    au = faces[0]["au"]
    assert au.get("AU26", 0) > 0.5 and au.get("AU1", 0) > 0.3
    assert main(["synthesize", str(photo), "--au", "12=1,6=0.8", "-o", str(tmp_path / "a.png"),
                 "-q"]) == 0


def test_closing_mouth_paints_lip_over_the_old_teeth(basis):
    import cv2

    open_lm = frontal_face(basis, {"AU26": 1.5})
    crop = synthetic_crop(open_lm)
    cv2.fillPoly(crop, [np.rint(open_lm[60:68]).astype(np.int32)], (235, 235, 235))  # teeth
    closed = frontal_face(basis)
    out = paint_mouth(crop, open_lm, closed)
    # just below the closed lips' meeting line: inside the old opening, within the line
    y = int(round(0.5 * (closed[62, 1] + closed[66, 1]))) + 1
    x = int(round(closed[62, 0]))
    # pixelfes.mouth.close_mouth paints lip over the squeezed teeth: the tooth pixel now has
    # the lips' colour (red above blue, far from the 235 gray of the teeth)
    assert crop[y, x].mean() > 200 and out[y, x].mean() < 160 and int(out[y, x, 0]) > int(out[y, x, 2]) + 30
    assert np.array_equal(out[:40], crop[:40])  # nothing far from the mouth changes


def test_closing_mouth_meets_on_the_banks_crease_as_the_native_engine(basis):
    """--to neutral from an open mouth: the lips meet on the crease of the bank people with the
    nearest lip lightness (pixelfes.native.close_on_crease, the native engine's closing), not on
    close_mouth's faint seam."""
    import cv2

    from pixelfes.mouth import close_mouth, load_bank, person_colours

    open_lm = frontal_face(basis, {"AU26": 1.5})
    crop = synthetic_crop(open_lm)
    cv2.fillPoly(crop, [np.rint(open_lm[60:68]).astype(np.int32)], (235, 235, 235))  # teeth
    closed = frontal_face(basis)
    out = paint_mouth(crop, open_lm, closed)
    colours = person_colours(crop, open_lm)
    goal = load_bank().crease_goal(colours)
    assert goal is not None
    want, seam = crop.copy(), crop.copy()
    close_mouth(want, closed[48:68], colours, crease=goal)
    close_mouth(seam, closed[48:68], colours)
    assert np.array_equal(out, want) and not np.array_equal(out, seam)
    # the two differ only along the line where the lips meet (the crease's rows)
    rows = np.flatnonzero((out != seam).any(axis=(1, 2)))
    line = 0.5 * (closed[62, 1] + closed[66, 1])
    assert rows.size and np.abs(rows - line).max() < 4


def test_like_takes_the_difference_of_actions(basis):
    """--like: a face already showing the other face's actions does not move."""
    lm = frontal_face(basis, {"AU12": 0.8, "AU6": 0.5})
    like = estimate_units(lm).units
    model = ActionUnitModel(au=like, relative=True).fit()
    np.testing.assert_allclose(model.predict_shape(lm), lm, atol=0.05)
    # and a neutral face takes them
    neutral = frontal_face(basis)
    moved = model.predict_shape(neutral)
    np.testing.assert_allclose(moved[[48, 54]], lm[[48, 54]], atol=0.3)


def test_pressed_lips_are_not_an_opening(basis):
    """dlib often crosses a closed mouth's inner-lip points; pressing them further is no gap."""
    lm = frontal_face(basis)
    crossed = lm.copy()
    crossed[[65, 66, 67], 1] -= 1.0  # lower inner lip 1 px above the upper one
    pressed = crossed.copy()
    pressed[[65, 66, 67], 1] -= 3.0
    assert inner_gap(crossed) == 0.0 and inner_gap(pressed) == 0.0
    assert inner_gap(frontal_face(basis, {"AU26": 1.0})) > 3.0
    crop = synthetic_crop(lm)
    assert paint_mouth(crop, crossed, pressed) is crop


def test_canvas_size_scales_the_motion(basis):
    """A 384 px model moves a face twice as many pixels as the 192 px model (same framing)."""
    from pixelfes.alignment import DEFAULT_ALIGNMENT

    lm = frontal_face(basis)
    big = 2.0 * (lm + 0.5) - 0.5  # pixel centres on integers on both canvases
    small_model = ActionUnitModel("surprised").fit()
    big_model = ActionUnitModel("surprised").fit(alignment=DEFAULT_ALIGNMENT.with_size(384))
    np.testing.assert_allclose(big_model.predict_shape(big) - big,
                               2.0 * (small_model.predict_shape(lm) - lm), atol=1e-6)
    crop = synthetic_crop(lm)
    import cv2

    out = big_model.predict(cv2.resize(crop, (384, 384))[None], landmarks=big[None])[0]
    assert out.shape == (384, 384, 3)


def test_api_synthesize_with_action_units_needs_no_data():
    """pixelfes.synthesize(..., to=angry | au=...) on a bundled test photo: no training, no data."""
    from skimage import data as skimage_data

    import pixelfes

    photo = np.ascontiguousarray(skimage_data.astronaut())
    angry = pixelfes.synthesize(photo, to="angry")
    assert angry.shape == photo.shape and angry.dtype == np.uint8
    assert np.abs(angry.astype(int) - photo).max() > 20  # the face changed
    raised = pixelfes.synthesize(photo, au={1: 0.8, 2: 0.8})
    moved = np.abs(raised.astype(int) - photo).sum(axis=2) > 10
    ys = np.nonzero(moved)[0]
    # brows only: every changed pixel lies above the mouth (astronaut's mouth is near y 240)
    assert ys.size > 0 and ys.max() < 230
    assert np.array_equal(pixelfes.synthesize(photo, au={1: 0.8}, strength=0.0), photo)
    with pytest.raises(ValueError, match="not supported"):
        pixelfes.synthesize(photo, au="3=1")


def test_in_photo_warp_matches_the_crop_warp(basis):
    """At the photo's own resolution the face moves as on the canvas (same landmarks)."""
    from pixelfes.alignment import DEFAULT_ALIGNMENT
    from pixelfes.face.align import crop_matrix, invert_affine, transform_points

    model = ActionUnitModel("surprised").fit(alignment=DEFAULT_ALIGNMENT)
    lm_crop = frontal_face(basis)
    # a "photo": the crop scaled 2x into a larger canvas; its landmarks scaled the same way
    crop = synthetic_crop(lm_crop)
    import cv2

    photo = np.full((480, 480, 3), 200, np.uint8)
    photo[48:432, 48:432] = cv2.resize(crop, (384, 384), interpolation=cv2.INTER_CUBIC)
    plm = 2.0 * (lm_crop + 0.5) - 0.5 + 48.0
    out = model.synthesize_in_photo(photo, plm)
    assert out.shape == photo.shape and out.dtype == np.uint8
    assert np.array_equal(out[:10], photo[:10]) and np.array_equal(out[-10:], photo[-10:])
    # the chin (landmark 8) moved down by the canvas motion, scaled to the photo
    m = crop_matrix(plm, model.alignment_)
    target = transform_points(invert_affine(m), model.predict_shape(transform_points(m, plm)))
    assert target[8, 1] - plm[8, 1] > 4.0
    # the mouth opened at the photo's resolution: dark cavity inside the new lips
    cx = int(round(target[66, 0]))
    col = out[int(target[62, 1]) + 2: int(target[66, 1]) - 1, cx].mean(axis=1)
    assert col.min() < 60
    # strength 0 through the pipeline: the photo back unchanged
    from pixelfes.face import Face
    from pixelfes.pipeline import synthesize_rgb

    face = Face(box=(0.0, 0.0, 480.0, 480.0), score=1.0, landmarks=plm)
    assert np.array_equal(synthesize_rgb(photo, model, 0.0, faces=[face]), photo)
    assert not np.array_equal(synthesize_rgb(photo, model, 1.0, faces=[face]), photo)


def test_added_actions_hold_the_nose_rigid(basis):
    """The nose (28-35) moves only with the units whose muscles move it; removal uses the raw basis."""
    from pixelfes.actions.model import NOSE_UNITS, synthesis_motion

    rigid = synthesis_motion()
    for key in ("AU12", "AU12L", "AU6", "AU26", "AU15"):
        i = basis.index(key)
        assert np.abs(basis.motion[i, 28:36]).max() > 1e-3  # the ICT scan drags the nose ...
        assert np.all(rigid[i, 28:36] == 0.0)  # ... the synthesis does not
        np.testing.assert_array_equal(rigid[i, :28], basis.motion[i, :28])
        np.testing.assert_array_equal(rigid[i, 36:], basis.motion[i, 36:])
    for key in (*NOSE_UNITS, "AU9L", "AU9R"):
        np.testing.assert_array_equal(rigid[basis.index(key)], basis.motion[basis.index(key)])
    lm = frontal_face(basis)
    model = ActionUnitModel("happy").fit()
    moved = model.predict_shape(lm)
    np.testing.assert_allclose(moved[28:36], lm[28:36], atol=1e-9)  # happy leaves the nose
    assert np.abs(moved[48:68] - lm[48:68]).max() > 3.0
    # negative intensities (--to neutral, --like) move the nose as the analysis' basis does
    w = {"AU12": -0.5}
    raw = fit_pose(lm, basis.mean_shape).project_motion(basis.motion_3d(w))
    np.testing.assert_allclose(model.motion(lm, w), raw, atol=1e-12)


def test_photo_path_matches_a_plain_composed_remap(basis):
    """The photo-resolution path (native's photo_map, tiles) equals the plain composition:
    photo -> crop, the canvas backward map interpolated, crop -> photo, one cubic remap."""
    import cv2

    from pixelfes.alignment import DEFAULT_ALIGNMENT
    from pixelfes.face.align import crop_matrix, invert_affine, transform_points

    model = ActionUnitModel("surprised", fold_gain=0.0, mouth=False).fit(alignment=DEFAULT_ALIGNMENT)
    lm_crop = frontal_face(basis)
    crop = synthetic_crop(lm_crop)
    photo = np.full((480, 480, 3), 200, np.uint8)
    photo[48:432, 48:432] = cv2.resize(crop, (384, 384), interpolation=cv2.INTER_CUBIC)
    photo = cv2.GaussianBlur(photo, (0, 0), 1.0)
    plm = 2.0 * (lm_crop + 0.5) - 0.5 + 48.0
    out = model.synthesize_in_photo(photo, plm)
    # the plain reference, written out
    m = crop_matrix(plm, model.alignment_)
    target, _, maps, _ = model._plan(transform_points(m, plm), 1.0)
    yy, xx = np.mgrid[0:480, 0:480].astype(np.float32)
    qx = (m[0, 0] * xx + m[0, 1] * yy + m[0, 2]).astype(np.float32)
    qy = (m[1, 0] * xx + m[1, 1] * yy + m[1, 2]).astype(np.float32)
    sx = cv2.remap(maps[0], qx, qy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    sy = cv2.remap(maps[1], qx, qy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    inv = invert_affine(m)
    px = (inv[0, 0] * sx + inv[0, 1] * sy + inv[0, 2]).astype(np.float32)
    py = (inv[1, 0] * sx + inv[1, 1] * sy + inv[1, 2]).astype(np.float32)
    ref = cv2.remap(photo, px, py, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    # over the face (eyes to chin), where the motion is not faded at the face's edge
    y0, y1 = int(plm[19, 1]) - 10, int(plm[8, 1]) - 10
    x0, x1 = int(plm[36, 0]), int(plm[45, 0])
    diff = np.abs(out[y0:y1, x0:x1].astype(int) - ref[y0:y1, x0:x1].astype(int))
    assert np.abs(ref[y0:y1, x0:x1].astype(int) - photo[y0:y1, x0:x1].astype(int)).max() > 60  # it moved
    assert diff.mean() < 0.3 and np.percentile(diff, 99) <= 3
    # away from the face nothing is touched, byte for byte
    assert np.array_equal(out[:30], photo[:30]) and np.array_equal(out[:, :30], photo[:, :30])


def test_photo_path_linear_is_one_linear_remap_of_the_same_map(basis):
    """interpolation="linear" resamples the same pixels through the same map as the cubic
    default, each by one cv2 linear remap (the same bytes as resample_moving's with
    cv2.INTER_LINEAR); everything else (still pixels, the mouth's box) as the cubic's."""
    import cv2

    import pixelfes.native as nat
    from pixelfes.face.align import crop_matrix, transform_points

    model = ActionUnitModel("angry", mouth=False).fit()
    lm_crop = frontal_face(basis)
    photo = np.full((480, 480, 3), 200, np.uint8)
    photo[48:432, 48:432] = cv2.resize(synthetic_crop(lm_crop), (384, 384), interpolation=cv2.INTER_CUBIC)
    plm = 2.0 * (lm_crop + 0.5) - 0.5 + 48.0
    cubic = model.synthesize_in_photo(photo, plm)
    linear = model.synthesize_in_photo(photo, plm, interpolation="linear")
    m = crop_matrix(plm, model.alignment_)
    lm = transform_points(m, plm)
    target, raster, _, folds = model._plan(lm, 1.0, with_map=False)
    extra = model.folds_.factor(raster, folds, target) - np.float32(1.0)
    (x0, y0, x1, y1), maps, layer, still = nat.photo_map(
        m, model.warp_.triangulation, lm, target, model.alignment_, photo.shape[:2],
        also=np.abs(extra) > 1e-3, extra=extra, raster=raster)
    assert (~still).sum() > 10000 and (np.abs(layer) > 1e-3).sum() > 200  # moved and shaded
    whole, frac = cv2.convertMaps(maps, None, cv2.CV_16SC2)
    ref = photo.copy()
    box = ref[y0:y1, x0:x1]
    warped = cv2.remap(photo, whole, frac, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    shaded = cv2.multiply(warped, cv2.merge([layer + np.float32(1.0)] * 3), dtype=cv2.CV_8U)
    box[~still] = shaded[~still]
    np.testing.assert_array_equal(linear, ref)
    moving = np.zeros(photo.shape[:2], bool)
    moving[y0:y1, x0:x1] = ~still
    cubic2x = model.synthesize_in_photo(photo, plm, interpolation="cubic2x")
    for out in (cubic, linear, cubic2x):  # all change only the pixels that move or are shaded
        assert not ((out != photo).any(axis=2) & ~moving).any()
    assert (linear != cubic).any(axis=2).sum() > 1000
    # the 2x kernel (tests/test_resample.py pins it): much nearer the cubic than linear is
    near, far = (np.abs(o.astype(int) - cubic.astype(int))[moving].mean() for o in (cubic2x, linear))
    assert 0 < near < 0.6 * far
    with pytest.raises(ValueError, match="interpolation must be 'cubic', 'linear' or 'cubic2x'"):
        model.synthesize_in_photo(photo, plm, interpolation="lanczos")


def test_photo_path_in_place_equals_a_new_photo(basis):
    """synthesize_in_photo(out=photo) writes the same bytes in place as it returns anew
    (the mouth reads the pixels from before the warp), and out= elsewhere leaves photo be."""
    import cv2

    model = ActionUnitModel("surprised").fit()
    lm_crop = frontal_face(basis)
    photo = np.full((480, 480, 3), 200, np.uint8)
    photo[48:432, 48:432] = cv2.resize(synthetic_crop(lm_crop), (384, 384), interpolation=cv2.INTER_CUBIC)
    plm = 2.0 * (lm_crop + 0.5) - 0.5 + 48.0
    new = model.synthesize_in_photo(photo, plm)
    assert (new != photo).any(axis=2).sum() > 1000
    other = np.zeros_like(photo)
    kept = photo.copy()
    assert model.synthesize_in_photo(photo, plm, out=other) is other
    np.testing.assert_array_equal(other, new)
    np.testing.assert_array_equal(photo, kept)
    inplace = photo.copy()
    assert model.synthesize_in_photo(inplace, plm, out=inplace) is inplace
    np.testing.assert_array_equal(inplace, new)
    with pytest.raises(ValueError, match="out must be a uint8 array shaped like photo"):
        model.synthesize_in_photo(photo, plm, out=np.zeros((10, 10, 3), np.uint8))


def test_photo_path_measures_the_persons_colours_on_the_whole_photo(basis, monkeypatch):
    """The mouth in a photo takes the person's colours from the photo before the warp, not
    from the mouth box: the cheek disks below the eyes lie outside that box on a long face
    (London 101: "no pixels to measure the face's colours in", surprised and fearful; on 53
    of the 82 London faces they were cut, the skin colour 1-5 levels off)."""
    import cv2

    from conftest import spy_calls
    from pixelfes.actions import model as am
    from pixelfes.mouth import person_colours

    lm = frontal_face(basis)
    lm[np.r_[0:17, 48:68]] += (0.0, 20.0)  # a long lower face
    photo = np.full((480, 480, 3), 200, np.uint8)
    photo[48:432, 48:432] = cv2.resize(synthetic_crop(lm), (384, 384), interpolation=cv2.INTER_CUBIC)
    plm = 2.0 * (lm + 0.5) - 0.5 + 48.0
    pad = int(np.ceil(0.6 * float(np.ptp(plm[48:68, 0])))) + 2
    y0, x0 = (np.floor(plm[48:68].min(0) - pad).astype(int))[::-1]
    with pytest.raises(ValueError, match="no pixels to measure"):  # the mouth box alone
        person_colours(photo[y0:, x0:], plm - (x0, y0))
    calls = spy_calls(monkeypatch, am, "paint_mouth")
    out = ActionUnitModel("surprised").fit().synthesize_in_photo(photo, plm)
    assert len(calls) == 1 and (out != photo).any(axis=2).sum() > 1000
    want = person_colours(photo, plm)
    got = calls[0][1]["colours"]
    assert np.array_equal(got.skin, want.skin) and np.array_equal(got.lips, want.lips)
    # (measured only when the mouth is painted: mouth_changes says when paint_mouth paints)
    from pixelfes.actions.mouth import mouth_changes

    crop = synthetic_crop(frontal_face(basis))
    seen = set()
    for expr in ("surprised", "angry", "sad", "happy", "disgusted"):
        m = ActionUnitModel(expr).fit()
        before = frontal_face(basis)
        for s in (0.3, 1.0, -1.0):  # (a negative strength closes what a recipe opens)
            after = m.predict_shape(before, s)
            for b, a in ((before, after), (after, before)):
                painted = paint_mouth(crop, b, a) is not crop
                assert mouth_changes(b, a) == painted
                seen.add(painted)
    assert seen == {True, False}


def test_mouth_interior_is_pixelfes_mouth(basis):
    """An opening mouth gets the bank's real teeth (pixelfes.mouth); a closing one close_mouth."""
    from pixelfes.actions.mouth import _toothy
    from pixelfes.mouth import load_bank

    toothy = _toothy()
    bank = load_bank()
    assert toothy.shape == (len(bank),) and 0.8 * len(bank) <= int(toothy.sum()) < len(bank)
    # the criterion, written out for one kept and one skipped exemplar: the share of the
    # opening 15 L* above the lips' median
    import cv2

    from pixelfes.mouth.colour import lab

    def share(i: int) -> float:
        pts, patch = bank.points[i].astype(np.float64), bank.patches[i]
        inner = np.zeros(patch.shape[:2], np.uint8)
        cv2.fillPoly(inner, [np.rint(pts[12:] * 16).astype(np.int32)], 1, shift=4)
        lips = np.zeros(patch.shape[:2], np.uint8)
        cv2.fillPoly(lips, [np.rint(pts[:12] * 16).astype(np.int32)], 1, shift=4)
        lips[inner > 0] = 0
        light = lab(patch)[..., 0]
        return float((light[inner > 0] > np.median(light[lips > 0]) + 15.0).mean())

    kept, skipped = int(np.argmax(toothy)), int(np.argmin(toothy))
    assert share(kept) >= 0.3 > share(skipped)
    lm = frontal_face(basis)
    crop = synthetic_crop(lm)
    model = ActionUnitModel(au={"AU25": 1.0, "AU26": 0.8}).fit()
    target = model.predict_shape(lm)
    out = paint_mouth(crop, lm, target, crop)
    again = paint_mouth(crop, lm, target, crop)
    assert np.array_equal(out, again)  # deterministic
    cx = int(round(target[62, 0]))
    col = out[int(np.ceil(target[62, 1])) + 1: int(target[66, 1]), cx].astype(float)
    top, bottom = col[: len(col) // 3].mean(), col[-len(col) // 4:].mean()
    # teeth under the upper lip, the cavity below (the teeth no lighter than this face's
    # cheeks, L* 62, and its expected eye whites: 144 here; before that cap 150+)
    assert top > 130 and bottom < 80 and top > bottom + 60
    assert np.array_equal(out[:60], crop[:60])  # only the mouth changes
    gray = paint_mouth(crop[..., :1], lm, target, crop[..., :1])  # gray: the cavity only
    assert gray.shape == (192, 192, 1) and gray[int(target[66, 1]) - 2, cx, 0] < 80


def test_fill_mouth_deeper_than_the_exemplar():
    """pixelfes.mouth.fill_mouth lays an exemplar into an opening deeper than its own (the
    action units' wide jaws); it used to crash in cv2.ellipse on numpy integers there."""
    from pixelfes.mouth import PersonColours, fill_mouth, load_bank

    bank = load_bank()
    lips = bank.frame_points()[0] * 100.0 + [100.0, 60.0]
    deep = lips.copy()
    deep[[17, 18, 19], 1] += 25.0  # lower inner lip far below the exemplar's
    img = np.full((140, 200, 3), 150, np.uint8)
    col = PersonColours(skin=bank.skin[0].copy(), lips=np.array([150, 80, 80], np.uint8))
    box = fill_mouth(img, deep, col, bank, index=0).box
    assert box is not None
    x0, y0, x1, y1 = box
    assert (img[y0:y1, x0:x1] != 150).any() and (img[:y0] == 150).all()


def test_recipes_are_the_by_eye_intensities_scaled_per_face_half():
    """Shipped intensities = by-eye values x the fold-chosen (upper, lower) scale, written out."""
    from pixelfes.actions.recipes import CHOSEN, UPPER_FACE

    assert set(CHOSEN) == set(RECIPES) and UPPER_FACE == {"AU1", "AU2", "AU4", "AU5", "AU6", "AU7", "AU43"}
    angry = RECIPES["angry"]
    assert angry.scales == (0.8, 0.9)
    # the inner brow heads pulled down beyond the ICT brow lowerer (AU1 negative), AU5 out
    assert angry.units == {"AU4": 1.2, "AU1": -0.8, "AU2": 0.88, "AU7": 1.2, "AU23": 0.81,
                           "AU24": 0.405}
    assert RECIPES["disgusted"].scales == (0.6, 0.6)
    # no brow lowerer (anger's cue): its identity went to the sneer
    assert RECIPES["disgusted"].units == {"AU9": 0.72, "AU10": 0.18, "AU15": 0.3, "AU16": 0.12,
                                          "AU17": 0.18, "AU6": 0.6, "AU7": 0.78}
    assert RECIPES["sad"].units == {"AU1": 1.0, "AU4": 0.5, "AU15": 1.2, "AU17": 0.48}
    # rechosen on the engine with the new open mouth (docs/actions.md): 0.7 -> 0.8 upper
    assert RECIPES["surprised"].units == {"AU1": 0.8, "AU2": 0.8, "AU5": 0.8, "AU26": 1.4}
    # the brows drawn together (AU2 0.2, AU4 0.6), the lids wider, the lower lip down (AU16)
    assert RECIPES["fearful"].scales == (1.0, 0.7)
    assert RECIPES["fearful"].units == {"AU1": 1.0, "AU2": 0.2, "AU4": 0.6, "AU5": 1.25, "AU7": 0.4,
                                        "AU20": 0.525, "AU16": 0.28, "AU26": 0.42}
    for r in RECIPES.values():
        up, low = CHOSEN[r.expression]
        assert set(r.units) == set(r.by_eye)
        for k, v in r.by_eye.items():
            assert r.units[k] == pytest.approx(v * (up if k in UPPER_FACE else low), abs=5e-4)


def test_gray_photo_keeps_a_gray_mouth(basis):
    lm = frontal_face(basis)
    crop = np.repeat(synthetic_crop(lm)[..., 1:2], 3, axis=2)  # gray stored as RGB
    target = ActionUnitModel(au={"AU25": 1.0, "AU26": 0.8}).fit().predict_shape(lm)
    out = paint_mouth(crop, lm, target, crop)
    assert not np.array_equal(out, crop)
    assert np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 1], out[..., 2])


def test_cavity_is_the_interior_blended_by_the_feathered_opening(basis, monkeypatch):
    """The cavity (float32) against its composition written out in float64: the interior of
    :func:`pixelfes.mouth.cavity.interior_lab` (lip colour = the mean over the input's lips)
    blended by alpha x the rounded outline feathered by 0.8 % of the mouth width; at most 1
    level apart (rounding ties), nearly all pixels equal. Grain off (it is random)."""
    import cv2

    from pixelfes.actions import mouth as am
    from pixelfes.mouth import inner_gap as mouth_gap
    from pixelfes.mouth import mouth_frame
    from pixelfes.mouth.cavity import interior_lab, rounded_outline
    from pixelfes.mouth.colour import lab, lab_to_srgb

    monkeypatch.setattr(am, "_grain", lambda image, mask: 0.0)
    lm = frontal_face(basis)
    crop = synthetic_crop(lm)
    target = ActionUnitModel(au={"AU25": 1.0, "AU26": 0.8}).fit().predict_shape(lm)
    alpha = 0.7
    got = am._cavity(crop, lm, target, crop, alpha)
    a, b = target, lm
    width = float(np.linalg.norm(a[54] - a[48]))
    pad = int(np.ceil(0.15 * width)) + 2
    x0, y0 = (np.floor(a[am._OUTER].min(0)).astype(int) - pad).clip(0)
    x1, y1 = np.ceil(a[am._OUTER].max(0)).astype(int) + pad
    box = (y1 - y0, x1 - x0)
    outline = rounded_outline(a[am._INNER], a[am._OUTER], am._smooth_closed(a[am._INNER]))
    sharp = am._polygon_mask(outline - (x0, y0), box, 0)
    inner = cv2.GaussianBlur(sharp, (0, 0), max(0.4, 0.008 * width)).astype(np.float64)
    bx0, by0 = (np.floor(b[am._OUTER].min(0)).astype(int) - pad).clip(0)
    bx1, by1 = np.ceil(b[am._OUTER].max(0)).astype(int) + pad
    sbox = crop[by0:by1, bx0:bx1].astype(np.float64)
    lips = np.clip(am._polygon_mask(b[am._OUTER] - (bx0, by0), sbox.shape[:2], 0)
                   - am._polygon_mask(b[am._INNER] - (bx0, by0), sbox.shape[:2], 0), 0, 1)
    lip = np.rint((sbox * lips[..., None]).sum((0, 1)) / lips.sum()).astype(np.uint8)
    edge = cv2.distanceTransform((inner > 0.5).astype(np.uint8), cv2.DIST_L2, 3)
    colour = lab_to_srgb(interior_lab(box, np.array([x0, y0], float), outline, mouth_frame(a), mouth_gap(a),
                                      lab(lip), edge))
    m = alpha * inner[..., None]
    region = crop[y0:y1, x0:x1].astype(np.float64)
    want = crop.copy()
    want[y0:y1, x0:x1] = np.clip(np.rint(region * (1 - m) + colour.astype(np.float64) * m), 0, 255)
    diff = np.abs(got.astype(int) - want)
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3
    assert (np.abs(got.astype(int) - crop) > 20).sum() > 200  # it did paint


def test_photo_map_takes_the_callers_raster(basis):
    """photo_map with the raster the caller already has gives the same map as making it."""
    from pixelfes.alignment import DEFAULT_ALIGNMENT
    from pixelfes.face.align import crop_matrix, transform_points
    from pixelfes.native import photo_map

    model = ActionUnitModel("angry").fit()
    plm = 2.0 * (frontal_face(basis) + 0.5) - 0.5 + 48.0
    m = crop_matrix(plm, DEFAULT_ALIGNMENT)
    lm = transform_points(m, plm)
    target, raster, _, _ = model._plan(lm, 1.0, with_map=False)
    tri = model.warp_.triangulation
    own = photo_map(m, tri, lm, target, DEFAULT_ALIGNMENT, (480, 480))
    given = photo_map(m, tri, lm, target, DEFAULT_ALIGNMENT, (480, 480), raster=raster)
    assert own is not None and given is not None and own[0] == given[0]
    assert np.array_equal(own[1], given[1]) and np.array_equal(own[3], given[3])


def test_drawn_creases_in_the_shipped_maps(basis):
    """AU4: two glabella furrows (-8 % at their centres) and the procerus' crease at the nose
    root (-4 %); AU9: the ICT shading plus three creases across the nose (-10 % each at the
    centre of the bridge); AU10 has an ICT map. Values read at the mean face's landmarks."""
    maps = dict(zip(basis.shading_units, basis.shading.astype(np.float64), strict=True))
    assert set(maps) == {"AU4", "AU6", "AU9", "AU10", "AU11", "AU12"}
    ref = basis.shading_reference.astype(np.float64)
    au4 = maps["AU4"]
    assert au4.max() == 0.0 and au4.min() == pytest.approx(-0.08, abs=0.002)
    gap = abs(ref[22, 0] - ref[21, 0])
    root = ref[27]
    y = int(round(root[1] - 0.02 * gap))
    # the procerus crease: its darkest pixel on the root's row, half the furrows' depth
    row = au4[y - 1:y + 2, int(root[0]) - 2:int(root[0]) + 3]
    assert row.min() == pytest.approx(-0.04, abs=0.005)
    # nothing drawn below the nose root's creases, on the bridge
    assert au4[int(ref[29, 1]), int(round(ref[29, 0]))] == 0.0
    # AU9: three creases across the nose between its root and the upper bridge: three
    # local minima of about -10 % on the midline (1 px wide, 3.5 px apart on this canvas),
    # the ICT shading alone is within 2 % just above the root
    x = int(round(ref[27, 0]))
    y0, y1 = int(ref[27, 1]), int(np.ceil(ref[28, 1]))
    col = maps["AU9"][y0 - 3:y1 + 3, x]
    assert np.abs(col[:3]).max() < 0.02 and col.min() == pytest.approx(-0.11, abs=0.01)
    inner = col[1:-1]
    minima = np.flatnonzero((inner < col[:-2]) & (inner < col[2:]))
    assert len(minima) == 3 and (col[1:-1][minima] < -0.09).all()
    assert np.abs(maps["AU10"]).max() > 0.05


def test_numpy_nnls_equals_scipys() -> None:
    """The analysis' NNLS (numpy, Lawson-Hanson) against scipy's on random full-rank problems."""
    from scipy.optimize import nnls as reference

    from pixelfes._nnls import nnls

    rng = np.random.default_rng(5)
    for _ in range(300):
        n = int(rng.integers(1, 30))
        a = rng.normal(size=(n + int(rng.integers(0, 30)), n)) * rng.uniform(0.01, 100)
        b = rng.normal(size=a.shape[0]) * rng.uniform(0.01, 100)
        want = reference(a, b)[0]
        got = nnls(a, b)
        assert (got >= 0).all()
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9 * max(1.0, np.abs(want).max()))
    with pytest.raises(ValueError, match="rows"):
        nnls(np.ones((2, 3)), np.ones(2))


def test_nnls_warm_start_gives_the_same_solution() -> None:
    """A start guess (the right support, a wrong one, everything, a support whose solution
    is not positive) never changes the answer: scipy's, and with the right support the
    very same floats as the cold start (the same least-squares solve on the same columns)."""
    from scipy.optimize import nnls as reference

    from pixelfes._nnls import nnls

    rng = np.random.default_rng(6)
    for _ in range(200):
        n = int(rng.integers(1, 25))
        a = rng.normal(size=(n + int(rng.integers(0, 25)), n))
        b = rng.normal(size=a.shape[0])
        want = reference(a, b)[0]
        cold = nnls(a, b)
        assert np.array_equal(nnls(a, b, start=cold > 0), cold)
        for guess in (rng.random(n) < 0.5, np.ones(n, bool), np.zeros(n, bool), ~(cold > 0)):
            got = nnls(a, b, start=guess)
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-9 * max(1.0, np.abs(want).max()))


def _dropped_jaw_map(basis, strength: float = 1.6):
    """A synthetic face in a 480 px photo (2x the crop), surprised at ``strength``: its
    photo landmarks before and after, the photo map and the crop -> photo matrix."""
    from pixelfes.alignment import DEFAULT_ALIGNMENT
    from pixelfes.face.align import crop_matrix, invert_affine, transform_points
    from pixelfes.native import photo_map

    model = ActionUnitModel("surprised").fit()
    plm = 2.0 * (frontal_face(basis) + 0.5) - 0.5 + 48.0
    m = crop_matrix(plm, DEFAULT_ALIGNMENT)
    lm = transform_points(m, plm)
    target, raster, _, _ = model._plan(lm, strength, with_map=False)
    tri = model.warp_.triangulation
    got = photo_map(m, tri, lm, target, DEFAULT_ALIGNMENT, (480, 480), raster=raster)
    assert got is not None
    inv = invert_affine(m)
    return model, m, lm, target, transform_points(inv, target), got


def test_photo_map_moves_a_dropped_jaw_all_the_way(basis):
    """Every landmark lands where the plan put it, the chin of a wide-open jaw too: the map
    at each moved landmark reads the photo at the landmark's own place. (The face ellipse
    alone gave the moved chin a weight of 0.4: it stayed 6 px behind on this 2x photo.)"""
    import cv2

    from pixelfes.face.align import invert_affine, transform_points

    model, m, lm, target, after, ((x0, y0, _, _), maps, _, _) = _dropped_jaw_map(basis)
    before = transform_points(invert_affine(m), lm)
    assert after[8, 1] - before[8, 1] > 15  # the chin drops
    q = (after - (x0, y0)).astype(np.float32)
    read = np.stack([cv2.remap(maps[..., k], q[:, 0], q[:, 1], cv2.INTER_LINEAR)[:, 0]
                     for k in (0, 1)], 1)
    err = np.hypot(*(read - before).T)
    # within the canvas map's linear interpolation at the landmarks' bends (0.6 px at the
    # chin, where the neck below is compressed); the ellipse alone: 6.4 px at the chin,
    # 1.1 px at the raised brows
    assert err.max() < 1.0 and np.median(err) < 0.1


def test_photo_map_is_continuous_across_the_exact_lip_box(basis):
    """Over the lips the map is evaluated exactly, elsewhere interpolated from the canvas;
    both carry the same motion weight, so the whole map is one function: the exact
    composition, weighted, everywhere (within the interpolation's 0.35 px). Unweighted
    inside the lips' box, a dropped jaw left a step at the box's edge (the chin of a
    surprise at --strength 1.6: a hard rectangle in the photo)."""
    import cv2

    from pixelfes.alignment import DEFAULT_ALIGNMENT
    from pixelfes.face.align import invert_affine, transform_points
    from pixelfes.native import face_motion_weight
    from pixelfes.warp import box_backward_map

    model, m, lm, target, _, ((x0, y0, x1, y1), maps, _, _) = _dropped_jaw_map(basis)
    tri = model.warp_.triangulation
    inv = invert_affine(m)
    ex, ey = box_backward_map(tri, transform_points(inv, tri.full_points(lm)),
                              transform_points(inv, tri.full_points(target)), (x0, y0, x1, y1))
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    w = cv2.warpAffine(face_motion_weight(DEFAULT_ALIGNMENT, lm, target),
                       np.array([[inv[0, 0], inv[0, 1], inv[0, 2] - x0],
                                 [inv[1, 0], inv[1, 1], inv[1, 2] - y0]]),
                       (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR)
    want_x, want_y = xx + w * (ex - xx), yy + w * (ey - yy)
    err = np.hypot(maps[..., 0] - want_x, maps[..., 1] - want_y)
    assert err.max() < 0.35
    # and no step between neighbouring pixels beyond what the planned motion itself has
    step = np.abs(np.diff(maps[..., 1] - yy, axis=0)).max()
    want_step = np.abs(np.diff(want_y - yy, axis=0)).max()
    assert step < want_step + 0.35


def _wide_open_mouth(basis, scale: float = 4.0):
    """A synthetic face at photo size (the crop x ``scale``): its lips before and after a
    surprise's jaw drop (AU26 1.4 x 1.6), the face before and, as the warp leaves it, after
    (the lips at their new place)."""
    import cv2

    lm = frontal_face(basis)
    target = ActionUnitModel("surprised").fit().predict_shape(lm, 1.6)
    n = int(192 * scale)
    src = cv2.resize(synthetic_crop(lm), (n, n), interpolation=cv2.INTER_CUBIC)
    img = cv2.resize(synthetic_crop(target), (n, n), interpolation=cv2.INTER_CUBIC)
    return scale * (lm + 0.5) - 0.5, scale * (target + 0.5) - 0.5, src, img


def test_the_cavity_covers_the_stretched_lip_line_up_to_the_lips(basis):
    """A wide-open mouth's cavity starts at the inner-lip outline: from 2 % of the mouth's
    width inside it, what the warp stretched between the lips (here: magenta, or the face's
    own colour) makes no difference (the old outline, shrunk by 1 % and feathered by 1.5 %,
    let 4-6 px of it through at 1:1: pink edges over a dark hole)."""
    import cv2

    from pixelfes.actions import mouth as am

    before, after, src, img = _wide_open_mouth(basis)
    inside = am._polygon_mask(am._smooth_closed(after[am._INNER]), img.shape[:2], 0) > 0.5
    magenta = img.copy()
    magenta[inside] = (255, 60, 200)
    plain = paint_mouth(img, before, after, src, teeth=False)
    loud = paint_mouth(magenta, before, after, src, teeth=False)
    width = float(np.linalg.norm(after[54] - after[48]))
    depth = cv2.distanceTransform(inside.astype(np.uint8), cv2.DIST_L2, 3)
    ring = (depth >= 0.02 * width) & (depth < 0.03 * width)
    assert ring.sum() > 100
    diff = np.abs(loud[ring].astype(int) - plain[ring].astype(int)).max(1)
    # (the feather's tail, and the thin lip corners where both edges are near: 7 levels at
    # the 99th percentile; the old outline: 50)
    assert np.median(diff) <= 2 and np.percentile(diff, 99) <= 10


def test_wide_open_teeth_bring_no_lip_or_gum_from_the_exemplar(basis):
    """Under the upper lip of a jaw opened wider than the bank's smile, only the exemplar's
    teeth are laid in: no bright, red pixel (its lower lip or gums: L* above the lips and
    a* well above the cheeks) in the opening (the old fade brought a pink band in)."""
    from pixelfes.actions import mouth as am
    from pixelfes.mouth import person_colours
    from pixelfes.mouth.colour import lab

    before, after, src, img = _wide_open_mouth(basis)
    colours = person_colours(src, before)
    cav = am._cavity(img, before, after, src, 1.0)
    out = am._teeth(cav.copy(), before, after, colours, 1.0)
    inside = am._polygon_mask(am._smooth_closed(after[am._INNER]), img.shape[:2], 0) > 0.5
    changed = inside & (out != cav).any(2)
    assert changed.sum() > 200  # teeth were laid in
    got = lab(out[changed])
    bright_red = (got[:, 0] > float(colours.lips_lab[0]) + 5) & \
        (got[:, 1] > float(colours.skin_lab[1]) + am.TOOTH_RED + 6)
    assert bright_red.mean() < 0.01



def test_angry_brows_slope_down_to_their_inner_heads(basis):
    """Anger's brows (docs/actions.md): the inner heads (21, 22) come down most and towards
    the nose, the middles (19, 24) hardly, the outer ends (17, 26) rise: the V. On the
    frontal ICT mean face (4.3 px/cm), pinned against the plain sum of each unit's frontal
    motion (y down in the image, so the basis' -y)."""
    lm = frontal_face(basis)
    d = ActionUnitModel("angry").fit().predict_shape(lm) - lm
    w = RECIPES["angry"].units
    ref = -4.3 * sum(v * basis.motion[basis.index(k), :, 1] for k, v in w.items())
    np.testing.assert_allclose(d[[21, 22, 19, 24, 17, 26], 1], ref[[21, 22, 19, 24, 17, 26]], atol=0.02)
    assert d[21, 1] > 1.9 and d[22, 1] > 1.9  # px down at the inner heads
    assert abs(d[19, 1]) < 0.3 and d[17, 1] < -1.0
    assert d[21, 0] > 0.8 and d[22, 0] < -0.8  # drawn together


def test_fear_brows_rise_at_their_inner_heads_drawn_together(basis):
    """Fear's brows (docs/actions.md): the inner heads (21, 22) rise most, the middles (19,
    24) and outer ends (17, 26) much less (a flat, tense line, not surprise's arch), all drawn
    towards the nose; the upper lids rise further than surprise's, the lower lids tense up;
    the lower lip comes down further than the chin (AU16) over a mouth stretched sideways
    (AU20) by less than the last recipe's 1.19x. On the frontal ICT mean face (4.3 px/cm),
    pinned against the plain sum of each unit's frontal motion (image y down: the basis' -y;
    image x right: the basis' x)."""
    lm = frontal_face(basis)
    d = ActionUnitModel("fearful").fit().predict_shape(lm) - lm
    w = RECIPES["fearful"].units
    ref = 4.3 * sum(v * basis.motion[basis.index(k), :, :2] for k, v in w.items()) * [1.0, -1.0]
    rigid = np.setdiff1d(np.arange(68), np.arange(28, 36))  # the nose is held (no AU9-11)
    np.testing.assert_allclose(d[rigid], ref[rigid], atol=0.02)
    up = -d[:, 1]
    assert up[21] > 1.8 and up[22] > 1.8  # px up at the inner heads
    assert 0 < up[19] < 0.5 * up[21] and 0 < up[17] < 0.5 * up[21]  # middles, ends: level
    assert d[21, 0] > 0.2 and d[22, 0] < -0.2 and d[19, 0] > 0.6 and d[24, 0] < -0.6  # drawn in
    surprise = ActionUnitModel("surprised").fit().predict_shape(lm) - lm
    assert (up[[37, 38, 43, 44]] > -surprise[[37, 38, 43, 44], 1] + 0.2).all()  # wide upper lids
    assert (up[[40, 41, 46, 47]] > 0.3).all()  # lower lids pushed up
    assert d[57, 1] > d[8, 1] + 0.6  # the lower lip drawn down off the lower teeth
    widen = np.linalg.norm(lm[54] + d[54] - lm[48] - d[48]) / np.linalg.norm(lm[54] - lm[48])
    assert 1.08 < widen < 1.16


def test_an_opened_mouth_reads_its_upper_lip_from_inside_it(basis):
    """dlib's inner points of a closed mouth can sit on the lower lip's top (062): the
    opened upper lip must not carry the lower lip's colour up above the teeth (a light box
    with vertical edges at 61 and 63, fearful and surprised)."""
    import cv2

    k = 4  # a photo 4x the canvas: lips ~15 px thick, the points 3 px off the lip line
    lm = frontal_face(basis)
    plm = k * (lm + 0.5) - 0.5
    photo = cv2.resize(synthetic_crop(lm), None, fx=k, fy=k, interpolation=cv2.INTER_NEAREST)
    upper, lower = (110, 55, 55), (235, 160, 170)
    line = np.vstack([plm[48], plm[60:65], plm[54]])
    cv2.fillPoly(photo, [np.rint(np.vstack([plm[48:55], line[::-1]])).astype(np.int32)], upper)
    cv2.fillPoly(photo, [np.rint(np.vstack([plm[54:60], plm[48], line[::-1]])).astype(np.int32)], lower)
    given = plm.copy()
    given[61:64, 1] += 3.0  # the inner lips found on the lower lip's top
    given[65:68, 1] += 3.0
    model = ActionUnitModel("surprised").fit()
    from pixelfes.face.align import crop_matrix, invert_affine, transform_points

    m = crop_matrix(given, model.alignment_)
    c_lm = transform_points(m, given)
    c_target = model.predict_shape(c_lm)
    source = model.warp_source(c_lm, c_target)
    assert (source[61:64, 1] < c_lm[61:64, 1] - 0.2).all()  # read from inside the upper lip
    np.testing.assert_array_equal(model.warp_source(c_lm, c_lm), c_lm)  # no opening: as found
    out = model.synthesize_in_photo(photo, given)
    target = transform_points(invert_affine(m), c_target)
    # the band of the upper lip just above its new inner edge, between 61 and 63
    xs = np.arange(int(np.ceil(target[61, 0])) + 1, int(target[63, 0]))
    edge = np.interp(xs, target[61:64, 0], target[61:64, 1])
    top = np.interp(xs, target[50:53, 0], target[50:53, 1])
    px = np.concatenate([out[int(round(e - 0.4 * (e - t))):int(round(e - 0.02 * (e - t))), x]
                         for x, e, t in zip(xs, edge, top, strict=True)]).astype(float)
    assert len(px) > 40
    nearer_lower = np.linalg.norm(px - lower, axis=1) < np.linalg.norm(px - upper, axis=1)
    assert nearer_lower.mean() < 0.05


def test_identity_modes_leave_size_rotation_and_position_to_the_pose(basis):
    """The identity modes the analysis fits hold none of a pose change's 7 directions."""
    from pixelfes.actions.analysis import rigid_free_identity

    ident = rigid_free_identity(basis).reshape(len(basis.identity), -1)
    mean = basis.mean_shape
    for e in np.eye(3):
        for t in (mean, np.cross(e, mean), np.tile(e, (68, 1))):
            assert np.abs(ident @ t.ravel()).max() < 1e-9 * np.linalg.norm(t)
    # what is left of each mode: most of it (ICT's first mode is largely a size change)
    kept = np.linalg.norm(ident, axis=1) / np.linalg.norm(basis.identity.reshape(len(ident), -1), axis=1)
    assert kept.min() > 0.05 and np.median(kept) > 0.5, kept.round(2)


# -- where the motion comes from (docs/actions.md, Cost, fifth pass) ----------------------


def _plain_landmark_motion(basis, lm: np.ndarray, weights: dict[str, float]) -> np.ndarray:
    """Each landmark's own ICT vertex motion, posed: the face's scaled rotation (fit_pose)
    times ``sum_u w_u m_u`` with, for added units, the nose (28-35) held unless the unit is
    AU9/10/11 and AU9's brows and nose at half; written out, not via synthesis_motion."""
    m3 = np.zeros((68, 3))
    for key, v in weights.items():
        m = basis.motion[basis.index(key)].copy()
        base = key.rstrip("LR")
        if v > 0 and base not in ("AU9", "AU10", "AU11"):
            m[28:36] = 0.0
        if v > 0 and base == "AU9":
            m[17:36] *= 0.5
        m3 += v * m
    pose = fit_pose(lm, basis.mean_shape)
    cam = m3 * np.array([1.0, -1.0, -1.0])  # ICT (x, y up, z to the viewer) -> camera axes
    return pose.scale * (cam @ pose.rotation.T)[:, :2]


@pytest.mark.parametrize("request_", [{"AU1": 0.8}, {"AU4": 1.0}, {"AU5": 1.0}, {"AU2": 0.7, "AU4": 0.4},
                                      {"AU26": 1.0}, {"AU9": 0.6, "AU15": 0.4}, {"AU12L": 0.6},
                                      {"AU43": 0.5, "AU1": -0.3}, "surprised", "fearful"])
def test_landmark_motion_is_each_points_own_ict_motion_posed(basis, request_):
    """No re-alignment spreads a unit over the face: every landmark moves by exactly its own
    mapped vertex's ICT motion times the face's pose (to 1e-9 px), on a turned head (where
    fold limiting does not shorten it); a point the unit leaves still stays so (AU5, the
    lids: the jaw and mouth within 1e-3 px, the scan's own float32 noise is ~5e-5 px)."""
    lm = frontal_face(basis, pose=(14.0, -6.0, 9.0))
    if isinstance(request_, str):
        model = ActionUnitModel(request_).fit()
        weights = dict(model.weights_)
    else:
        model = ActionUnitModel(au=request_).fit()
        weights = dict(request_)
    moved = model.predict_shape(lm)
    np.testing.assert_allclose(moved - lm, _plain_landmark_motion(basis, lm, weights), rtol=0, atol=1e-9)
    if request_ == {"AU5": 1.0}:
        assert np.abs(moved[np.r_[0:17, 48:68]] - lm[np.r_[0:17, 48:68]]).max() < 1e-3
        assert np.abs(moved[36:48] - lm[36:48]).max() > 1.0


def test_photo_map_moves_only_the_triangles_of_moving_landmarks(basis):
    """The photo map moves a pixel only inside the canvas triangles with a vertex that moves
    (a piecewise-affine map moves each triangle by a blend of its corners' motion; the face's
    fade only lowers it): a lid raise (AU5) moves no pixel outside the triangles of the
    eyes' points, and leaves the mouth, the chin and the neck byte for byte."""
    import cv2

    from pixelfes.face.align import crop_matrix, transform_points
    from pixelfes.native import STILL_PX, plan_photo_map

    model = ActionUnitModel(au={"AU5": 1.0}).fit()
    lm_crop = frontal_face(basis, pose=(8.0, 0.0, 5.0))
    photo = np.full((480, 480, 3), 200, np.uint8)
    photo[48:432, 48:432] = cv2.resize(synthetic_crop(lm_crop), (384, 384), interpolation=cv2.INTER_CUBIC)
    plm = 2.0 * (lm_crop + 0.5) - 0.5 + 48.0
    m = crop_matrix(plm, model.alignment_)
    lm = transform_points(m, plm)
    target, raster, _, _ = model._plan(lm, 1.0, with_map=False)
    tri = model.warp_.triangulation
    pm = plan_photo_map(m, tri, model.warp_source(lm, target), target, model.alignment_, photo.shape[:2],
                        raster=raster)
    assert pm is not None
    _, _, _, still = pm.rows(0, pm.shape[0])
    # the plain reference: triangles with a corner that moves (more than 1e-3 canvas px; the
    # others move a pixel by at most that, under STILL_PX at this scale), grown by the
    # bilinear neighbour and warpAffine's 1/32 px steps, carried to the photo box
    corner_moves = np.r_[np.hypot(*(target - lm).T) > 1e-3, np.zeros(len(tri.border), bool)]
    touched = corner_moves[tri.simplices].any(axis=1)[raster.triangle].astype(np.uint8)
    touched = cv2.dilate(touched, np.ones((5, 5), np.uint8))
    x0, y0, x1, y1 = pm.box
    allowed = cv2.warpAffine(touched, pm.matrix, (x1 - x0, y1 - y0), flags=cv2.INTER_NEAREST) > 0
    assert 1e-3 * 2.0 < STILL_PX
    assert (~still).sum() > 2000  # the lids move
    assert not np.any(~still & ~allowed)
    out = model.synthesize_in_photo(photo, plm)
    below = int(np.ceil(plm[51, 1]))  # from the upper lip down: no triangle there moves
    assert not allowed[below - y0:].any()
    assert np.array_equal(out[below:], photo[below:])
    assert not np.array_equal(out, photo)
