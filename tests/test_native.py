"""The native-resolution engine and the mouth module: maps, identity, mouth modes, retrieval."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import pixelfes
from conftest import spy_calls
from pixelfes import native
from pixelfes.face import align_face, detect_faces
from pixelfes.face.align import invert_affine, transform_points
from pixelfes.mouth import MouthBank, PersonColours, fill_mouth, inner_gap, load_bank
from pixelfes.pipeline import resolve_model
from pixelfes.warp import box_backward_map
from warp_reference import brute_force_map

skimage_data = pytest.importorskip("skimage.data")


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return skimage_data.astronaut()


@pytest.fixture(scope="module")
def face(astronaut):
    return detect_faces(astronaut)[0]


@pytest.fixture(scope="module")
def model():
    return resolve_model("neutral-to-happy")


def test_box_map_equals_the_canvas_map_and_the_composed_two_step_warp(model):
    tri = model.warp_.triangulation
    ref = model.reference_
    src = ref + np.random.default_rng(0).normal(0, 1.5, ref.shape)
    full_s, full_d = tri.full_points(src), tri.full_points(ref)
    cx, cy = tri.raster(ref).backward_map(full_s)
    bx, by = box_backward_map(tri, full_s, full_d, (0, 0, 192, 192), rows=50)
    assert_allclose(bx, cx, atol=1e-3)
    assert_allclose(by, cy, atol=1e-3)
    # a photo frame 5.7x the canvas, rotated: crop -> photo is affine, so the composed map
    # at photo pixel p is inv(B(M p)) with B the canvas map evaluated exactly at M p
    a = np.array([[5.7, 0.4], [-0.4, 5.7]])
    off = np.array([30.0, 60.0])

    def to_photo(p):
        return p @ a.T + off

    box = (200, 250, 900, 1000)
    mx, my = box_backward_map(tri, to_photo(full_s), to_photo(full_d), box, rows=97)
    rng = np.random.default_rng(1)
    px = np.stack([rng.integers(box[0], box[2], 40), rng.integers(box[1], box[3], 40)], 1)
    crop_pts = (px - off) @ np.linalg.inv(a).T
    want = to_photo(brute_force_map(tri, full_s, full_d, crop_pts))
    got = np.stack([mx[px[:, 1] - box[1], px[:, 0] - box[0]], my[px[:, 1] - box[1], px[:, 0] - box[0]]], 1)
    assert_allclose(got, want, atol=2e-3)


def test_photo_map_is_the_exact_map_over_the_lips_and_close_elsewhere(astronaut, face, model):
    al = align_face(astronaut, face.landmarks, model.alignment_)
    target, _, _ = native.target_shape(model, al.landmarks, 1.0, "closed")
    tri = model.warp_.triangulation
    (x0, y0, x1, y1), maps, _, _ = native.photo_map(al.matrix, tri, al.landmarks, target,
                                                    model.alignment_, astronaut.shape[:2])
    ux, uy = maps[..., 0], maps[..., 1]
    inv = invert_affine(al.matrix)
    ex, ey = box_backward_map(tri, transform_points(inv, tri.full_points(al.landmarks)),
                              transform_points(inv, tri.full_points(target)), (x0, y0, x1, y1))
    w = native._motion_weight(model.alignment_)
    # inside the face (motion weight 1) the interpolated canvas map stays within 0.35 px of
    # the exact composition (measured 0.2 px on this face, at triangle bends); at the lips
    # it is exact
    yy, xx = np.mgrid[y0:y1, x0:x1]
    crop_xy = transform_points(al.matrix, np.stack([xx.ravel(), yy.ravel()], 1))
    ci = np.clip(np.rint(crop_xy).astype(int), 0, 191)
    inner = (w[ci[:, 1], ci[:, 0]] == 1.0).reshape(ux.shape)
    err = np.hypot(ux - ex, uy - ey)
    assert err[inner].max() < 0.35 and np.median(err[inner]) < 0.02
    lips = transform_points(inv, target[48:68])
    lx0, ly0 = np.floor(lips.min(0)).astype(int)
    lx1, ly1 = np.ceil(lips.max(0)).astype(int)
    assert_allclose(ux[ly0 - y0:ly1 - y0, lx0 - x0:lx1 - x0], ex[ly0 - y0:ly1 - y0, lx0 - x0:lx1 - x0],
                    atol=1e-3)


def test_unchanged_pixels_are_byte_identical_and_strength_zero_is_identity(astronaut, face, model):
    out = astronaut.copy()
    res = native.synthesize_face(astronaut, out, face.landmarks, model, 1.0)
    x0, y0, x1, y1 = res.box
    outside = np.ones(astronaut.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert_array_equal(out[outside], astronaut[outside])
    changed = (out != astronaut).any(axis=2)
    assert 5000 < changed.sum() < 0.8 * (x1 - x0) * (y1 - y0)
    assert_array_equal(pixelfes.synthesize(astronaut, to="happy", strength=0), astronaut)
    # the library path is this engine by default
    assert_array_equal(pixelfes.synthesize(astronaut, to="happy"), out)


def test_mouth_closed_opens_no_gap_and_open_lays_in_teeth(astronaut, face, model):
    al = align_face(astronaut, face.landmarks, model.alignment_)
    closed, mode, index = native.target_shape(model, al.landmarks, 1.0, "closed")
    assert mode == "closed" and index is None and inner_gap(closed) == 0.0
    out = astronaut.copy()
    res = native.synthesize_face(astronaut, out, face.landmarks, model, 1.0, mouth="closed")
    assert res.mouth == "closed" and res.exemplar is None
    opened, mode, index = native.target_shape(
        model, al.landmarks, 1.0, "open", colours=pixelfes.mouth.person_colours(astronaut, face.landmarks))
    assert mode == "open" and inner_gap(opened) > 0.08
    out2 = astronaut.copy()
    res2 = native.synthesize_face(astronaut, out2, face.landmarks, model, 1.0, mouth="open")
    assert res2.exemplar is not None
    assert (out2 != out).any()
    with pytest.raises(ValueError, match="mouth must be one of"):
        pixelfes.synthesize(astronaut, to="happy", mouth="wide")
    with pytest.raises(ValueError, match="native engine"):
        pixelfes.synthesize(astronaut, to="happy", model="neutral-to-happy-pixel-rr", mouth="open")


def _tiny_bank() -> MouthBank:
    bank = load_bank()
    return MouthBank(bank.patches[:4], bank.points[:4], bank.skin[:4], bank.lips[:4], bank.ids[:4])


def test_bank_retrieval_is_deterministic_with_ties_to_the_lowest_index():
    bank = _tiny_bank()
    pts = bank.frame_points()
    colours = PersonColours(skin=bank.skin[2], lips=bank.lips[2])
    assert bank.retrieve(pts[2, :12], colours) == 2  # its own smile and skin
    assert bank.retrieve(pts[2, :12], colours, exclude=bank.ids[2]) != 2
    twin = MouthBank(np.concatenate([bank.patches[:1]] * 2), np.concatenate([bank.points[:1]] * 2),
                     np.concatenate([bank.skin[:1]] * 2), np.concatenate([bank.lips[:1]] * 2), ("a", "b"))
    assert twin.retrieve(twin.frame_points()[0, :12], PersonColours(twin.skin[0], twin.lips[0])) == 0
    # the bundled bank: open smiles only, uint8 patches, and small
    full = load_bank()
    assert 20 <= len(full) <= 60 and full.patches.dtype == np.uint8
    assert full.gaps().min() >= 0.08
    assert full.patches.nbytes < 4e6


def test_fill_mouth_changes_only_the_inside_of_the_inner_lips():
    bank = _tiny_bank()
    image = np.full((200, 300, 3), 120, np.uint8)
    frame = bank.frame_points()[1]  # the exemplar's own lips, 200 px wide, at (150, 100)
    lips = frame * 200 + (150, 100)
    res = fill_mouth(image, lips, PersonColours(bank.skin[1], bank.lips[1]), bank, index=1)
    assert res.index == 1 and res.exemplar_id == bank.ids[1]
    changed = (image != 120).any(axis=2)
    assert changed.sum() > 500
    import cv2

    poly = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(poly, [np.rint(lips[12:]).astype(np.int32)], 1)
    # 3 px: the anti-aliased outline (1 px) and the feather's tail (sigma 0.8 px at this width)
    assert not (changed & (cv2.dilate(poly, np.ones((7, 7), np.uint8)) == 0)).any()


def test_smiles_follow_a_retrieved_real_smile_and_auto_closes_weak_ones(astronaut, face, model):
    from pixelfes.mouth import person_colours

    al = align_face(astronaut, face.landmarks, model.alignment_)
    colours = person_colours(astronaut, face.landmarks)
    bank = load_bank()
    assert len(bank.motion) == 82 and (bank.patch_of >= 0).sum() == len(bank)
    neutral = transform_points(pixelfes.mouth.mouth_frame(al.landmarks), al.landmarks)[48:68]
    j = bank.retrieve_smile(neutral, colours, open_only=True)
    assert j == bank.retrieve_smile(neutral, colours, open_only=True) and bank.patch_of[j] >= 0
    assert bank.retrieve_smile(neutral, colours, exclude=bank.people[j]) != j
    _, mode, index = native.target_shape(model, al.landmarks, 1.0, "auto", colours=colours)
    assert mode == "open" and index == bank.patch_of[j]
    # strength 0.2 x any open smile's gap (at most 0.25) is below OPEN_GAP: a closed smile
    assert bank.gaps().max() < 0.25
    weak, mode, index = native.target_shape(model, al.landmarks, 0.2, "auto", colours=colours)
    assert mode == "closed" and index is None and inner_gap(weak) == 0.0


def test_cli_mouth_option_equals_the_api(astronaut, tmp_path):
    from PIL import Image

    from pixelfes.cli import main

    src = tmp_path / "a.png"
    Image.fromarray(astronaut).save(src)
    for mouth in ("closed", "open"):
        out = tmp_path / f"{mouth}.png"
        assert main(["synthesize", str(src), "--to", "happy", "--mouth", mouth, "-o", str(out), "-q"]) == 0
        assert_array_equal(np.asarray(Image.open(out)), pixelfes.synthesize(astronaut, to="happy", mouth=mouth))
    assert (np.asarray(Image.open(tmp_path / "closed.png")) != np.asarray(Image.open(tmp_path / "open.png"))).any()


def test_photo_map_band_by_band_is_the_whole_map_and_resamples_the_same_bytes(astronaut, face, model):
    """The engines' fused path (PhotoMap rows made band by band inside the resampling, no
    box-sized map held) writes the same bytes as the whole map (photo_map) through
    resample_moving, with the texture gain and with a shade function; its rows equal the
    whole map's to float rounding (the row offset moves into the warp's matrix)."""
    import functools

    al = align_face(astronaut, face.landmarks, model.alignment_)
    target, _, _ = native.target_shape(model, al.landmarks, 1.0, "closed")
    tri = model.warp_.triangulation
    extra = np.zeros((192, 192), np.float32)
    extra[60:120, 40:150] = 0.2 * np.sin(np.arange(110, dtype=np.float32) / 9.0)
    args = (al.matrix, tri, al.landmarks, target, model.alignment_, astronaut.shape[:2])
    kw = {"also": np.abs(extra) > 1e-3, "extra": extra}
    (x0, y0, x1, y1), maps, layer, still = native.photo_map(*args, **kw)
    pmap = native.plan_photo_map(*args, **kw)
    assert pmap is not None and pmap.box == (x0, y0, x1, y1)
    h = y1 - y0
    parts = [pmap.rows(r, min(h, r + 37)) for r in range(0, h, 37)]
    assert_allclose(np.concatenate([p[0] for p in parts]), maps[..., 0], rtol=0, atol=1e-4)
    assert_allclose(np.concatenate([p[1] for p in parts]), maps[..., 1], rtol=0, atol=1e-4)
    assert_allclose(np.concatenate([p[2] for p in parts]), layer, rtol=0, atol=1e-6)
    assert (np.concatenate([p[3] for p in parts]) != still).mean() < 1e-4
    assert (~still).sum() > 10000 and (np.abs(layer) > 1e-3).sum() > 1000
    # in place, a chunk waits until no later chunk reads its rows: ``lag`` bounds how far
    # (rows) any pixel reads, the cubic's 1 above and 2 below included
    reach = np.abs(maps[..., 1] - np.arange(y0, y1, dtype=np.float32)[:, None])[~still].max()
    assert 2 < reach and np.ceil(reach) + 3 <= pmap.lag < (y1 - y0) // 4
    for shade in (None, functools.partial(native.apply_gain, dark_in_lab=True)):
        whole = astronaut.copy()
        native.resample_moving(astronaut, whole[y0:y1, x0:x1], maps, still, layer, shade)
        fused = astronaut.copy()
        native.resample_photo_map(astronaut, fused[y0:y1, x0:x1], pmap, shade)
        assert (whole != astronaut).any(axis=2).sum() > 10000
        diff = np.abs(fused.astype(int) - whole.astype(int))
        assert diff.max() <= 1 and (diff > 0).mean() < 1e-5
        inplace = astronaut.copy()  # in place: reads only the photo from before
        native.resample_photo_map(inplace, inplace[y0:y1, x0:x1], pmap, shade)
        assert_array_equal(inplace, fused)


def test_texture_ratio_constants_follow_the_models_arrays(astronaut, face, model):
    """The per-model parts of the texture ratio are made once, and again when the model's
    arrays are replaced (a refit or a load): a zero region then changes nothing."""
    import copy

    al = align_face(astronaut, face.landmarks, model.alignment_)
    raster = model.warp_.triangulation.raster(al.landmarks + 1.0)
    other = copy.copy(model)
    first = native._texture_ratio(other, al.crop, al.landmarks, raster, 1.0, 1.5)
    assert np.abs(first - 1.0).max() > 0.01
    assert_array_equal(native._texture_ratio(other, al.crop, al.landmarks, raster, 1.0, 1.5), first)
    other.region_ = np.zeros_like(model.region_)
    assert_array_equal(native._texture_ratio(other, al.crop, al.landmarks, raster, 1.0, 1.5), 1.0)
    assert_array_equal(native._texture_ratio(model, al.crop, al.landmarks, raster, 1.0, 1.5), first)


def _smile_target(astronaut, face, model):
    """The astronaut's aligned landmarks, the smile's target shape and the model's triangulation."""
    from pixelfes.mouth import person_colours

    al = align_face(astronaut, face.landmarks, model.alignment_)
    target, _, _ = native.target_shape(model, al.landmarks, 1.0, "auto",
                                       colours=person_colours(astronaut, face.landmarks))
    return al.landmarks, target, model.warp_.triangulation


def test_smile_eyes_add_the_action_unit_engines_own_au6_motion_except_on_the_lips(astronaut, face, model):
    """The smile's eye part is the AU engine's AU6 motion (its own ``motion``, a plain
    reference) on every point but the lips, and its fold weights with AU12's crease."""
    from pixelfes.actions import ActionUnitModel

    lm, target, tri = _smile_target(astronaut, face, model)
    goal, folds = native.smile_eyes(model.alignment_, tri, lm, target, 1.0, au6=0.8, au12_fold=0.6)
    ref = ActionUnitModel(au={"AU6": 0.8}).fit(alignment=model.alignment_).motion(lm, {"AU6": 0.8})
    assert_allclose(goal[:48] - target[:48], ref[:48], atol=1e-9)  # no fold limiting here
    assert_array_equal(goal[48:], target[48:])
    assert folds == pytest.approx({"AU6": 0.8, "AU12": 0.6})
    # the lower lids rise (image y up) by a visible amount on the 192 px canvas
    assert (goal[[40, 41, 46, 47], 1] - target[[40, 41, 46, 47], 1]).max() < -0.5
    half, _ = native.smile_eyes(model.alignment_, tri, lm, target, 0.5, au6=0.8, au12_fold=0.0)
    assert_allclose(half[:48] - target[:48], 0.5 * ref[:48], atol=1e-9)
    assert native.smile_eyes(model.alignment_, tri, lm, target, 1.0, au6=0.0, au12_fold=0.0) is None


def test_the_crease_alone_moves_nothing_and_shades_beside_the_nose(astronaut, face, model, monkeypatch):
    """The crease alone (AU6 0, crease 0.6; the eighth pass's choice, off by default): the
    target is the smile's own, byte for byte (AU6's plan at 0 moves no point: the shortcut is
    the same), and the gain is the smile's times the crease's fold factor, which darkens beside
    the nose wings, not at the eyes."""
    lm, target, tri = _smile_target(astronaut, face, model)
    goal, folds = native.smile_eyes(model.alignment_, tri, lm, target, 0.5, au6=0.0, au12_fold=0.6)
    assert_array_equal(goal, target)
    assert folds == pytest.approx({"AU12": 0.3})
    moved, _ = native._smile_actions(model.alignment_, 0.0).plan_motion(lm, 1.0)
    assert_array_equal(moved[:48], lm[:48])  # the long way round moves nothing either
    calls = spy_calls(monkeypatch, native, "plan_photo_map")
    gains, targets = [], []
    for au12 in (0.0, 0.6):
        monkeypatch.setattr(native, "_SMILE_FOLD_AU12", au12)
        native.synthesize_face(astronaut, astronaut.copy(), face.landmarks, model, 1.0)
        args, kwargs = calls[-1]
        targets.append(np.array(args[3]))
        layer = np.array(kwargs["extra"])  # (a smile's layer: the gain, then its tint)
        gains.append(layer[..., 0] + 1.0)
    assert_array_equal(targets[1], targets[0])  # the crease moves nothing
    goal = targets[0]
    raster = tri.raster(goal)
    factor = native._smile_actions(model.alignment_).folds_.factor(raster, {"AU12": 0.6}, goal, triangulation=tri)
    assert_allclose(gains[1], np.clip(gains[0] * factor, *native._GAIN_LIMITS), atol=1e-6)
    # darker between the nose wing and the mouth corner, on both sides of the face
    for wing, corner in ((31, 48), (35, 54)):
        x0, x1 = sorted((int(goal[wing, 0]), int(goal[corner, 0])))
        y0, y1 = int(goal[wing, 1]), int(goal[corner, 1])
        assert factor[y0:y1 + 1, x0 - 8:x1 + 9].min() < 0.95
    eyes = factor[int(goal[36:48, 1].min()):int(goal[36:48, 1].max()) + 1, int(goal[36, 0]):int(goal[45, 0]) + 1]
    assert np.abs(eyes - 1.0).max() < 0.01  # (its map spills a few thousandths there)


def test_the_default_smile_moves_the_lower_lids_and_shades_the_eyes(astronaut, face, model, monkeypatch):
    """``synthesize_face`` warps the photo onto the eye motion and multiplies the folds in:
    spied on the planned photo map (target landmarks, gain layer) with the eye part on and off."""
    calls = spy_calls(monkeypatch, native, "plan_photo_map")
    got = {}
    for au6, au12 in ((0.0, 0.0), (native._SMILE_AU6 or 0.8, native._SMILE_FOLD_AU12)):
        monkeypatch.setattr(native, "_SMILE_AU6", au6)
        monkeypatch.setattr(native, "_SMILE_FOLD_AU12", au12)
        native._smile_actions.cache_clear()
        out = astronaut.copy()
        native.synthesize_face(astronaut, out, face.landmarks, model, 1.0)
        args, kwargs = calls[-1]
        got[au6] = (np.array(args[3]), np.array(kwargs["extra"])[..., 0])  # (the gain; then the tint)
    native._smile_actions.cache_clear()
    (off_t, off_g), (on_t, on_g) = got[0.0], got[max(got)]
    lids = [40, 41, 46, 47]
    assert (on_t[lids, 1] - off_t[lids, 1]).max() < -0.5
    assert_array_equal(on_t[48:], off_t[48:])
    # the gain changes around the eyes (crow's feet, cheeks below them)
    y0, y1 = int(off_t[36:48, 1].min()) - 5, int(off_t[36:48, 1].max()) + 25
    x0, x1 = int(off_t[36:48, 0].min()) - 15, int(off_t[36:48, 0].max()) + 15
    assert np.abs(on_g[y0:y1, x0:x1] - off_g[y0:y1, x0:x1]).max() > 0.02
