"""The native step made cheaper without changing a byte: each shortcut against the plain way."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import spy_calls
from pixelfes import native
from pixelfes.mouth import fill_mouth, load_bank, person_colours
from pixelfes.mouth.fill import MouthPaint, blend_paint, interior_paint
from pixelfes.mouth_regions import masked_pixels, srgb_to_lab, srgb_to_lightness

skimage_data = pytest.importorskip("skimage.data")


@pytest.fixture(scope="module")
def face():
    from pixelfes.face import detect_faces

    rgb = skimage_data.astronaut()
    return rgb, detect_faces(rgb)[0].landmarks


@pytest.fixture(scope="module")
def model():
    from pixelfes.pipeline import resolve_model

    return resolve_model(None, "neutral", "happy")


def _opened(lm: np.ndarray, dy: float = 6.0) -> np.ndarray:
    lips = np.array(lm[48:68], dtype=np.float64, copy=True)
    lips[13:16, 1] -= dy  # upper inner lip (61-63) up, lower (65-67) down
    lips[17:20, 1] += dy
    return lips


@pytest.mark.parametrize("index", [0, 7])
def test_a_paint_blended_is_a_fill(face, index):
    # interior_paint + blend_paint is fill_mouth, into the whole photo and into a crop of it
    rgb, lm = face
    bank, colours, lips = load_bank(), person_colours(rgb, lm), _opened(lm)
    want = rgb.copy()
    fill = fill_mouth(want, lips, colours, bank, index=index)
    paint = interior_paint(rgb.shape, lips, colours, bank, index=index)
    assert isinstance(paint, MouthPaint) and paint.box == fill.box
    got = rgb.copy()
    assert blend_paint(got, paint).box == fill.box
    assert np.array_equal(got, want) and not np.array_equal(got, rgb)
    x0, y0, x1, y1 = fill.box
    crop = rgb[y0 - 5:y1 + 3, x0 - 4:x1 + 6].copy()
    blend_paint(crop, paint, offset=(x0 - 4, y0 - 5))
    assert np.array_equal(crop, want[y0 - 5:y1 + 3, x0 - 4:x1 + 6])


def test_nothing_to_paint_off_the_photo(face):
    rgb, lm = face
    got = interior_paint((20, 20, 3), _opened(lm), person_colours(rgb, lm), load_bank(), index=0)
    assert not isinstance(got, MouthPaint) and got.box is None


def test_the_chosen_teeth_are_not_painted_twice(face, model, monkeypatch):
    # the paint painted_look measured is blended into the output: the same bytes as the
    # second fill it replaces (that fill forced by dropping the paints), one fill fewer
    rgb, lm = face
    want = rgb.copy()
    real = native._painted
    with monkeypatch.context() as m:
        m.setattr(native, "_painted", lambda *a: (real(*a)[0], None))
        fills = spy_calls(m, native, "fill_mouth")
        before = native.synthesize_face(rgb, want, lm, model, 1.0)
        assert before.mouth == "open" and len(fills) == 1
    paints = spy_calls(monkeypatch, native, "interior_paint")
    fills = spy_calls(monkeypatch, native, "fill_mouth")
    got = rgb.copy()
    after = native.synthesize_face(rgb, got, lm, model, 1.0)
    assert after == before and not fills and len(paints) >= 2  # every candidate painted once
    assert np.array_equal(got, want)


def test_painted_look_is_unchanged_by_keeping_its_paint(face):
    rgb, lm = face
    bank, colours = load_bank(), person_colours(rgb, lm)
    cheek = native.cheek_lightness(rgb, lm)
    look, paint = native._painted(rgb, lm, _opened(lm), colours, bank, 3, cheek)
    assert paint is not None and paint.index == 3
    assert np.array_equal(look, native.painted_look(rgb, lm, _opened(lm), colours, bank, 3, cheek))


def test_masked_pixels_are_boolean_indexing():
    rng = np.random.default_rng(3)
    big = rng.integers(0, 256, (60, 70, 3), np.uint8)
    view = big[5:50, 7:61]  # a view, not contiguous
    mask = rng.random(view.shape[:2]) < 0.3
    assert np.array_equal(masked_pixels(view, mask), view[mask])
    assert np.array_equal(masked_pixels(view[..., 0], mask), view[..., 0][mask])
    assert masked_pixels(view, np.zeros(view.shape[:2], bool)).shape == (0, 3)


def test_lightness_alone_is_lab_lightness():
    rng = np.random.default_rng(4)
    rgb = np.concatenate([rng.integers(0, 256, (20000, 3)), np.repeat(np.arange(256), 3).reshape(-1, 3),
                          [[0, 0, 0], [255, 255, 255], [1, 0, 0], [0, 0, 1]]]).astype(np.uint8)
    assert np.array_equal(srgb_to_lightness(rgb), srgb_to_lab(rgb)[:, 0])
    assert np.array_equal(srgb_to_lightness(rgb.reshape(2, -1, 3)), srgb_to_lab(rgb.reshape(2, -1, 3))[..., 0])


def test_mouth_triangles_as_a_plain_loop(model):
    simplices = model.warp_.triangulation.simplices
    inside = set(range(60, 68)) | {48, 54}
    want = np.array([all(int(v) in inside for v in t) for t in simplices])
    got = native._mouth_triangles(simplices)
    assert got.dtype == bool and want.any() and np.array_equal(got, want)
    assert not native._mouth_triangles(np.array([[60, 61, 30], [0, 1, 2]])).any()
