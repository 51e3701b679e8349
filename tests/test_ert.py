"""The numpy shape predictor gives dlib's points (before dlib rounds them) and loads from a cache."""

from __future__ import annotations

import numpy as np
import pytest

dlib = pytest.importorskip("dlib")

from pixelfes.face import ert  # noqa: E402
from pixelfes.face.detect import model_path  # noqa: E402


def _dlib_points(predictor, image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    shape = predictor(image, dlib.rectangle(*box))
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> tuple[object, object]:
    """A small dlib predictor trained here on blobs with 5 marked points (not a face model)."""
    rng = np.random.default_rng(7)
    images, objects = [], []
    for _ in range(12):
        img = rng.integers(0, 60, size=(120, 120, 3), dtype=np.uint8)
        pts = rng.uniform(35, 85, size=(5, 2))
        for x, y in pts:
            img[int(y) - 3:int(y) + 4, int(x) - 3:int(x) + 4] = 230
        images.append(img)
        parts = [dlib.point(int(x), int(y)) for x, y in pts]
        objects.append([dlib.full_object_detection(dlib.rectangle(25, 25, 95, 95), parts)])
    opts = dlib.shape_predictor_training_options()
    opts.cascade_depth, opts.num_trees_per_cascade_level, opts.tree_depth = 4, 20, 3
    opts.oversampling_amount, opts.feature_pool_size, opts.be_verbose = 5, 60, False
    predictor = dlib.train_shape_predictor(images, objects, opts)
    path = tmp_path_factory.mktemp("tiny") / "tiny_predictor.dat"
    predictor.save(str(path))
    return dlib.shape_predictor(str(path)), path


def test_parsed_arrays_have_the_trained_layout(tiny_model) -> None:
    _, path = tiny_model
    a = ert.parse_dat(path)
    assert a["initial"].shape == (5, 2)
    assert a["split_idx"].shape == (4, 20, 7, 2) and a["split_thresh"].shape == (4, 20, 7)
    assert a["leaves"].shape == (4, 20, 8, 5, 2) and a["leaves"].dtype == np.float32
    assert a["anchor"].shape == (4, 60) and a["deltas"].shape == (4, 60, 2)
    assert a["split_idx"].max() < 60 and a["anchor"].max() < 5


def test_tiny_model_matches_dlib_rgb_gray_and_boxes_past_the_edge(tiny_model) -> None:
    predictor, path = tiny_model
    ours = ert.ShapePredictor(**ert.parse_dat(path))
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(20):
        img = rng.integers(0, 256, size=(110, 140, 3), dtype=np.uint8)
        x0, y0 = (int(v) for v in rng.integers(-30, 60, size=2))
        box = (x0, y0, x0 + int(rng.integers(30, 90)), y0 + int(rng.integers(30, 90)))
        for image in (img, np.ascontiguousarray(img[..., 1])):
            got = ours(image, box)
            np.testing.assert_array_equal(np.floor(got + 0.5), _dlib_points(predictor, image, box))
            checked += 1
    assert checked == 40


def test_dlib_68_point_model_gives_the_same_points() -> None:
    skimage_data = pytest.importorskip("skimage.data")
    path = model_path("shape_predictor_68_face_landmarks.dat")
    ours = ert.load_predictor(path)
    theirs = dlib.shape_predictor(str(path))
    img = np.ascontiguousarray(skimage_data.astronaut())
    rng = np.random.default_rng(0)
    for _ in range(8):  # boxes jittered around the face: different cascades' paths
        dx, dy, ds = rng.integers(-8, 9, size=3)
        box = (int(175 + dx), int(76 + dy), int(266 + dx + ds), int(167 + dy + ds))
        got = ours(img, box)
        ref = _dlib_points(theirs, img, box)
        np.testing.assert_array_equal(np.floor(got + 0.5), ref)
        assert 0 < np.abs(got - ref).max() <= 0.5  # sub-pixel points, dlib's rounded


def test_cache_is_built_once_and_memory_mapped(tiny_model, tmp_path, monkeypatch) -> None:
    _, path = tiny_model
    monkeypatch.setenv("PIXELFES_CACHE", str(tmp_path / "cache"))
    ert._LOADED.clear()
    first = ert.load_predictor(path)
    folders = list((tmp_path / "cache").iterdir())
    assert len(folders) == 1 and len(list(folders[0].glob("*.npy"))) == 6
    ert._LOADED.clear()
    monkeypatch.setattr(ert, "parse_dat", lambda p: pytest.fail("the cache was not used"))
    second = ert.load_predictor(path)
    assert isinstance(second.leaves.base, np.memmap) or isinstance(second.leaves, np.memmap)
    np.testing.assert_array_equal(first.leaves, second.leaves)
    assert ert.load_predictor(path) is second
    ert._LOADED.clear()


def test_not_a_model_file_is_a_clear_error(tmp_path) -> None:
    bad = tmp_path / "bad.dat"
    bad.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ValueError, match="shape predictor"):
        ert.parse_dat(bad)


def _umeyama_2x2(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Umeyama (1991) by SVD, reflections excluded: the reference for the closed form."""
    a, b = src - src.mean(0), dst - dst.mean(0)
    u, d, vt = np.linalg.svd(b.T @ a / len(a))
    e = np.diag([1.0, np.sign(np.linalg.det(u) * np.linalg.det(vt))])
    return (np.trace(np.diag(d) @ e) / ((a**2).sum() / len(a))) * (u @ e @ vt)


def test_closed_form_similarity_equals_umeyama() -> None:
    rng = np.random.default_rng(3)
    for i in range(300):
        src = rng.normal(size=(68, 2))
        th, c = rng.uniform(-3, 3), rng.uniform(0.2, 3)
        rot = c * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
        dst = src @ rot.T + rng.normal(scale=rng.uniform(0, 1.5), size=src.shape)
        if i % 4 == 0:
            dst[:, 0] *= -1  # a mirrored target: the best rotation, not a reflection
        np.testing.assert_allclose(ert._similarity_2x2(src, dst), _umeyama_2x2(src, dst),
                                   rtol=1e-5, atol=1e-6)
    assert np.array_equal(ert._similarity_2x2(np.zeros((3, 2)), np.ones((3, 2))), np.eye(2))


def test_a_sampled_view_reads_the_pixels_of_the_warped_view() -> None:
    """``detect._View`` gives the intensities the 68-point trees would read in the turned,
    zoomed view made whole by ``cv2.warpAffine``, at the pixels asked for only."""
    import cv2
    from skimage.data import astronaut

    from pixelfes.face.detect import _View

    rgb = np.ascontiguousarray(astronaut())
    m = cv2.getRotationMatrix2D((230.0, 110.0), 8.0, 0.9)
    m[:, 2] += 159.5 - np.array([230.0, 110.0])
    frame = cv2.warpAffine(rgb, m, (320, 320), flags=cv2.INTER_CUBIC,
                           borderMode=cv2.BORDER_REPLICATE)
    rng = np.random.default_rng(0)
    px, py = rng.integers(-20, 340, 4000), rng.integers(-20, 340, 4000)
    got = _View(rgb, m, 320)(px, py)
    inside = (px >= 0) & (px < 320) & (py >= 0) & (py < 320)
    want = ert._intensity(frame[py[inside], px[inside]]).astype(np.float32)
    assert np.all(got[~inside] == 0)
    # equal up to OpenCV's fixed-point coordinates (1/32 px in remap, finer in warpAffine)
    assert np.array_equal(_View(rgb, m, 320)(px[~inside][:5], py[~inside][:5]), np.zeros(5))
    diff = np.abs(got[inside] - want)
    assert diff.max() <= 4 and np.mean(diff > 0) < 0.05 and np.mean(diff > 1) < 0.005


def _reference_fit(p: ert.ShapePredictor, image: np.ndarray, box: tuple[int, int, int, int]
                   ) -> np.ndarray:
    """dlib's fit step by step (the loop :meth:`ShapePredictor.fit` replaced: a similarity
    fit per level, each tree walked down split by split, leaves summed in order)."""
    img = np.asarray(image)
    height, width = img.shape[:2]
    left, top, right, bottom = (float(v) for v in box)
    w, h = right - left, bottom - top
    n_casc, n_trees, n_splits = p.split_idx.shape[:3]
    depth = int(np.log2(n_splits + 1))
    trees = np.arange(n_trees)
    initial = np.ascontiguousarray(p.initial, dtype=np.float32)
    shape = initial.copy()
    for c in range(n_casc):
        m = ert._similarity_2x2(initial, shape)
        pts = (p.deltas[c] @ m.T).astype(np.float32) + shape[p.anchor[c]]
        px = np.floor(left + pts[:, 0].astype(np.float64) * w + 0.5).astype(np.intp)
        py = np.floor(top + pts[:, 1].astype(np.float64) * h + 0.5).astype(np.intp)
        inside = (px >= 0) & (px < width) & (py >= 0) & (py < height)
        vals = np.zeros(len(px), np.float32)
        got = img[py[inside], px[inside]]
        vals[inside] = got if got.ndim == 1 else got.astype(np.uint16).sum(axis=1) // 3
        go = vals[p.split_idx[c, :, :, 0]] - vals[p.split_idx[c, :, :, 1]] > p.split_thresh[c]
        node = np.zeros(n_trees, np.intp)
        for _ in range(depth):
            node = 2 * node + 2 - go[trees, node]
        leaf = p.leaves[c, trees, node - n_splits].reshape(n_trees, -1)
        acc = shape.reshape(-1).copy()
        for row in leaf:  # dlib adds the trees' leaves one after another in float32
            acc = acc + row
        shape = acc.reshape(-1, 2)
    out = np.empty(shape.shape, np.float64)
    out[:, 0] = left + shape[:, 0].astype(np.float64) * w
    out[:, 1] = top + shape[:, 1].astype(np.float64) * h
    return out


def test_fit_equals_the_step_by_step_reference(tiny_model) -> None:
    """The vectorised fit (split pairs in one gather, leaves from a table of split outcomes,
    the similarity's constant half computed once) gives the reference loop's points bit for
    bit, for the 68-point model (15 splits a tree) and a small one (7), boxes past the edge."""
    skimage_data = pytest.importorskip("skimage.data")
    img = np.ascontiguousarray(skimage_data.astronaut())
    rng = np.random.default_rng(3)
    for path in (model_path("shape_predictor_68_face_landmarks.dat"), tiny_model[1]):
        ours = ert.load_predictor(path)
        for k in range(6):
            dx, dy, ds = rng.integers(-30, 31, size=3)
            box = (int(175 + dx), int(76 + dy), int(266 + dx + ds), int(167 + dy + ds))
            if k == 5:
                box = (-40, -30, 60, 70)  # most feature pixels off the image
            for image in (img, np.ascontiguousarray(img[..., 0])):
                assert np.array_equal(ours(image, box), _reference_fit(ours, image, box))


def test_leaf_table_equals_walking_down() -> None:
    rng = np.random.default_rng(0)
    for n_splits in (1, 3, 7, 15):
        go = rng.random((200, n_splits)) < 0.5
        rows, node = np.arange(200), np.zeros(200, np.intp)
        for _ in range(int(np.log2(n_splits + 1))):
            node = 2 * node + 2 - go[rows, node]
        assert np.array_equal(ert._leaf_table(n_splits)(go), node - n_splits)
